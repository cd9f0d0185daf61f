"""Foreground against a model of the bench, in a space where our own projection cancels.

The camera should see ``E = A(x, y)·black + g·(white − black)·P`` of the empty bench under projection P
(A: a smooth, quadratic gain of the ambient light over the bench, g: the projector's gain, both fitted
on background pixels each frame, so a lamp switched on at one side or the camera's exposure drifting
does not light up the bench). ``ratio = observed / E`` is albedo-like: 1 on
the bench as calibrated, whatever is projected. The background model holds the ratio of the bench as
it is now (parts placed, jig moved): a change that stays static and away from any hand for
``absorb_after_s`` joins it. Foreground = observed outside the predicted view ``E · background``
(with a min/max envelope over neighbouring pixels, so blur and
misregistration do not show up as foreground; where the projection changed since the last frame the
view must fit neither the old nor the new projection, so a frame exposed across a projector change
does not either).
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import cv2
import numpy as np

from oss.perception.config import PerceptionConfig


@dataclass(frozen=True, eq=False)
class BenchView:
    """One frame seen from above: what a hand detector gets.

    ``image`` is the rectified camera frame (BGR uint8), ``ratio`` the normalised view (float32,
    1 = looks like the calibrated empty bench). Pixel (u, v) shows bench mm ((u + .5)·s, (v + .5)·s).
    ``camera_image`` is the raw frame, for detectors that prefer it (map points with the calibration).
    ``changed`` (uint8 0/255, if known) is the foreground together with the shadow-like change.
    """

    image: np.ndarray
    ratio: np.ndarray
    mm_per_px: float
    t: float
    camera_image: np.ndarray | None = None
    changed: np.ndarray | None = None  # ``ForegroundResult.changed``: foreground or shadow-like change


@dataclass(frozen=True, eq=False)
class ForegroundResult:
    mask: np.ndarray  # uint8 0/255, everything that differs from the bench model
    ratio: np.ndarray  # float32 H×W×3, observed / predicted empty bench
    gains: np.ndarray  # 3×7: per channel the ambient gain's quadratic coefficients, then the projector's
    saturated: np.ndarray  # bool: some channel at the camera's ceiling (its ratio means little)
    empty: np.ndarray | None = None  # float32 H×W×3: what the camera should see of the empty bench now
    # uint8 0/255: off the model like ``mask``, or by an even dimming (shadow-like, so not in ``mask``): a
    # shadow, but just as well a grey sleeve darker than the bench; arms may be joined to their edge over it
    changed: np.ndarray | None = None
    off: np.ndarray | None = None  # bool: off the model, by an even dimming or not (before clean-up)
    restored: np.ndarray | None = None  # bool: an absorbed dimming went away (see ForegroundModel._undim)
    ambient: np.ndarray | None = None  # float32 H×W×3: the part of ``empty`` that is not our projection


@dataclass(frozen=True, eq=False)
class Look:
    """``ForegroundModel.look``: the view smoothed, where it held still since the last frame, and where
    it is off the model by more than ``fit_tol`` (bool H×W each), for one segmentation ``result``."""

    result: ForegroundResult
    smooth: np.ndarray
    static: np.ndarray
    off: np.ndarray


def _basis(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """1, x, y, x², xy, y² (x, y in −1..1 over the bench): the shape of the ambient light's gain."""
    return [np.ones_like(x), x, y, x * x, x * y, y * y]


def _unit_gains() -> np.ndarray:
    """The light's gains as calibrated (A = 1, g = 1), in ``_fit_gains``'s layout."""
    coef = np.zeros((3, 7), np.float64)
    coef[:, 0] = coef[:, 6] = 1.0
    return coef


def _fit_gains(os_: np.ndarray, bs: np.ndarray, ds: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Per channel least squares ``o ≈ A(x, y)·b + g·dp`` on N samples (``os_``, ``bs``, ``ds``: N×3
    rows of the view, of the ambient-lit bench and of the projected light; ``basis``: 6×N float64, the
    ``_basis`` at their places), A quadratic over the bench (a lamp lights one side more), ridge towards
    A = 1, g = 1; one robust pass. Returns 3×7 coefficients (six of A, then g)."""
    coef = _unit_gains()
    n = len(os_)
    if n < 50:
        return coef
    prior = np.array([1.0, 0, 0, 0, 0, 0, 1.0])
    ridge = np.eye(7)
    cols = np.empty((7, n), np.float64)  # the design matrix, transposed: rows contiguous

    def solve(ata: np.ndarray, atb: np.ndarray) -> np.ndarray:
        lam = 1e-3 * float(np.trace(ata)) / 7.0 + 1e-6
        return np.asarray(np.linalg.solve(ata + lam * ridge, atb + lam * prior))

    for c in range(3):
        oc = os_[:, c].astype(np.float64)
        np.multiply(basis, bs[:, c], out=cols[:6])
        cols[6] = ds[:, c]
        ata, atb = cols @ cols.T, cols @ oc
        coef[c] = solve(ata, atb)
        res = np.abs(oc - coef[c] @ cols)
        out = res > 3.0 * max(float(np.median(res)) * 1.4826, 2.0)
        if n - int(np.count_nonzero(out)) >= 50:
            # refit on the inliers: the outliers (a few) taken out of the sums rather than all re-summed
            mo, ro = cols[:, out], oc[out]
            coef[c] = solve(ata - mo @ mo.T, atb - mo @ ro)
        coef[c, 6] = float(np.clip(coef[c, 6], 0.2, 5.0))
    return coef


SATURATED = 255.0


def _scaled(img: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """``img · gain`` for an H×W×3 image and 3 channel gains. numpy broadcasts over a last axis of 3
    slowly (~1 ms for a bench image); over rows of W·3 it is ~7 times faster."""
    h, w = img.shape[:2]
    if not img.flags.c_contiguous:
        img = np.ascontiguousarray(img)
    return (img.reshape(h, w * 3) * np.tile(gain.astype(np.float32), w)).reshape(h, w, 3)


def _flat(nz: np.ndarray, width: int) -> np.ndarray:
    """Flat indices of the points ``cv2.findNonZero`` returns, in an image ``width`` px wide."""
    return np.asarray(nz[:, 0, 1], np.intp) * width + nz[:, 0, 0]


def _rows(img: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """The pixels at ``flat`` indices of an H×W×C image as N×C rows (gathering rows by one index is
    several times quicker than indexing by two)."""
    return np.take(np.ascontiguousarray(img).reshape(-1, img.shape[-1]), flat, axis=0)


def _times(rows: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """``rows · gain`` for N×3 rows and 3 channel gains (float32), as a flat product: numpy broadcasts
    over a last axis of 3 slowly."""
    n = len(rows)
    return (np.ascontiguousarray(rows).reshape(-1) * np.tile(gain, n)).reshape(n, 3)


def _put(dst: np.ndarray, src: np.ndarray, where: np.ndarray) -> None:
    """``dst[where] = src[where]`` for H×W(×C) images and a bool H×W ``where``, in place (several times
    quicker than through the mask)."""
    cv2.copyTo(src, np.ascontiguousarray(where).view(np.uint8), dst)


def _restart(since: np.ndarray, keep: np.ndarray, t: float) -> np.ndarray:
    """``since`` (float32) where ``keep`` (bool), else ``t``: a new array (assigning through a mask of
    most of the image is several times slower)."""
    out = np.full_like(since, np.float32(t))
    cv2.copyTo(since, keep.view(np.uint8), out)
    return out


def _saturated(bench: np.ndarray) -> np.ndarray:
    """bool: some channel of the BGR uint8 ``bench`` at the camera's ceiling (≥ SATURATED − 5)."""
    if bench.dtype != np.uint8 or bench.ndim != 3 or bench.shape[2] != 3:
        return np.asarray(channel_max(bench) >= SATURATED - 5.0)
    below = np.full(3, int(SATURATED) - 6, np.uint8)
    return np.asarray(cv2.inRange(bench, np.zeros(3, np.uint8), below) == 0)


def channel_max(img: np.ndarray) -> np.ndarray:
    """Per-pixel maximum over the 3 channels (much faster than ``img.max(axis=2)``)."""
    return np.maximum(np.maximum(img[..., 0], img[..., 1]), img[..., 2])


def shadow_like(obs: np.ndarray, expect: np.ndarray, cfg: PerceptionConfig) -> np.ndarray:
    """For N×3 pixels: the expected view dimmed evenly in every channel, not below ``shadow_min_ratio``
    (brightness and chromaticity distortion as in Horprasert et al., 1999). A channel whose prediction
    is at the camera's ceiling only has to be dimmed no more than the others (its true level is higher)."""
    # per channel as contiguous rows: numpy works across a short last axis (and on its columns) slowly
    et = np.ascontiguousarray(expect.T, np.float32)
    qs = list(np.ascontiguousarray(obs.T, np.float32) / np.maximum(et, np.float32(1.0)))
    ok = list(et < SATURATED - 1.0)
    w = [o.astype(np.float32) for o in ok]
    n = w[0] + w[1] + w[2]
    lowest = np.minimum(np.minimum(qs[0], qs[1]), qs[2])
    mean = np.where(n > 0, (qs[0] * w[0] + qs[1] * w[1] + qs[2] * w[2]) / np.maximum(n, 1.0), lowest)
    tol = cfg.shadow_chroma * np.maximum(mean, 0.05)
    shadow = (mean >= cfg.shadow_min_ratio) & (mean < 1.0)
    for c in range(3):
        shadow &= np.where(ok[c], np.abs(qs[c] - mean) < tol, qs[c] >= mean - tol)
    return np.asarray(shadow)


class ForegroundModel:
    """Keeps the bench model and turns each bench image into a foreground mask."""

    def __init__(
        self, black: np.ndarray, contrast: np.ndarray, mm_per_px: float, config: PerceptionConfig
    ) -> None:
        self.black = black.astype(np.float32)
        self.contrast = contrast.astype(np.float32)
        self.cfg = config
        self.mm_per_px = mm_per_px
        h, w = black.shape[:2]
        self.background = np.ones((h, w, 3), np.float32)  # ratio of the bench as it is now
        self._bg_mask = np.ones((h, w), bool)  # pixels believed background in the last frame
        self._prev_ratio: np.ndarray | None = None
        self._prev_proj: np.ndarray | None = None
        self._dp: np.ndarray | None = None  # contrast · the last projection, and its min/max (envelope)
        self._dp_lo: np.ndarray | None = None
        self._dp_hi: np.ndarray | None = None
        self._static_since = np.zeros((h, w), np.float32)
        self._dim_since = np.zeros((h, w), np.float32)
        self._dimmed = np.zeros((h, w), bool)  # background holds an absorbed dimming; ...
        self._undimmed = np.ones((h, w, 3), np.float32)  # ... the model from before it
        self._started = False
        self._bg_band: tuple[np.ndarray, np.ndarray] | None = None  # see _fit_band
        k = 2 * config.envelope_px + 1
        self._env_kernel = np.ones((k, k), np.uint8)
        r = max(1, round(config.hand_clear_mm / mm_per_px))
        self._clear_kernel = np.ones((2 * r + 1, 2 * r + 1), np.uint8)  # square: separable, fast
        self._open_kernel = np.ones((3, 3), np.uint8)
        c = 2 * config.envelope_px + 3  # bridges the tolerance band along projected edges
        self._close_kernel = np.ones((c, c), np.uint8)
        gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
        self._gx, self._gy = (gx + 0.5) / w * 2 - 1, (gy + 0.5) / h * 2 - 1
        cy, cx = np.mgrid[0 : max(2, h // 8), 0 : max(2, w // 8)].astype(np.float32)
        # a thread to share pixel-by-pixel work with (``_outside_in_halves``), if the owner has one (not
        # the thread that calls ``segment``: it waits for the worker)
        self.worker: Executor | None = None
        self._sample_basis: tuple[int, np.ndarray] | None = None  # the fit's basis on its sample grid
        self._coarse_basis = _basis((cx + 0.5) / cx.shape[1] * 2 - 1, (cy + 0.5) / cy.shape[0] * 2 - 1)

    def _outside(
        self,
        obs: np.ndarray,
        ambient: np.ndarray,
        light: tuple[np.ndarray, np.ndarray, np.ndarray],
        bg: np.ndarray,
        shadow: np.ndarray | None = None,
        shadows: bool = True,
        gain: np.ndarray | None = None,
        lit: np.ndarray | None = None,
    ) -> np.ndarray:
        """bool mask: ``obs`` outside the expected ``(ambient + light) · bg`` ± noise. ``light`` is the
        projected light and its min and max over neighbours (blur, misregistration); the camera clips.
        Off it only by an even dimming (a shadow) is not outside (unless ``shadows`` is False); those
        pixels are set in ``shadow``. With ``gain``, the min and max are not yet times it: they only
        widen the band around the expected view, so they are worked out (times ``gain``) only where the
        view is outside that view ± noise, a small part of the bench: the same result for less work.
        ``lit``: ``ambient + light[0]``, if the caller has it already."""
        cfg = self.cfg
        mid, low, high = light
        expect = np.minimum(cv2.multiply(cv2.add(ambient, mid) if lit is None else lit, bg), SATURATED)
        thr = expect * np.float32(cfg.fg_rel) + np.float32(cfg.fg_abs_grey)  # (cv2 scalars: channel 0 only)
        if gain is not None:
            return self._outside_band(obs, ambient, (low, high), bg, expect, thr, gain, shadow, shadows)
        lo = cv2.subtract(np.minimum(cv2.multiply(cv2.add(ambient, low), bg), SATURATED), thr)
        hi = cv2.add(
            cv2.multiply(cv2.add(ambient, high), bg), thr
        )  # (clipping it changes nothing: obs ≤ 255)
        out = cv2.inRange(obs, lo, hi) == 0  # some channel below lo or above hi
        if shadows and cfg.shadow_min_ratio < 1.0:
            nz = cv2.findNonZero(out.view(np.uint8))  # only the candidates: a small part of the bench
            if nz is not None:
                i = _flat(nz, out.shape[1])
                sh = i[shadow_like(_rows(obs, i), _rows(expect, i), cfg)]
                out.reshape(-1)[sh] = False
                if shadow is not None:
                    shadow.reshape(-1)[sh] = True
        return np.asarray(out)

    def _outside_in_halves(
        self,
        obs: np.ndarray,
        ambient: np.ndarray,
        light: tuple[np.ndarray, np.ndarray, np.ndarray],
        shadow: np.ndarray,
        gain: np.ndarray,
        lit: np.ndarray,
    ) -> np.ndarray:
        """``_outside`` against the background, gain-scaled envelope (see there): pixel by pixel, so the
        top half of the bench is worked out on ``worker`` (when there is one) while this thread does the
        bottom half. The same result as all at once."""
        h = obs.shape[0]
        if self.worker is None or h < 32:
            return self._outside(obs, ambient, light, self.background, shadow, gain=gain, lit=lit)

        def half(top: bool) -> np.ndarray:
            r = slice(0, h // 2) if top else slice(h // 2, h)
            part = (light[0][r], light[1][r], light[2][r])
            return self._outside(obs[r], ambient[r], part, self.background[r], shadow[r], gain=gain, lit=lit[r])

        upper = self.worker.submit(half, True)
        lower = half(False)
        return np.concatenate((upper.result(), lower))

    def _outside_band(
        self,
        obs: np.ndarray,
        ambient: np.ndarray,
        envelope: tuple[np.ndarray, np.ndarray],
        bg: np.ndarray,
        expect: np.ndarray,
        thr: np.ndarray,
        gain: np.ndarray,
        shadow: np.ndarray | None,
        shadows: bool,
    ) -> np.ndarray:
        """``_outside`` where the view is off ``expect ± thr``; elsewhere it is within the wider band of
        the light's min and max (``envelope``, not yet times ``gain``) too: float32 step by step as over
        the whole image."""
        near = cv2.inRange(obs, cv2.subtract(expect, thr), cv2.add(expect, thr))
        out = np.zeros(obs.shape[:2], bool)
        nz = cv2.findNonZero(cv2.bitwise_not(near))
        if nz is None:
            return out
        i = _flat(nz, obs.shape[1])
        g = gain.astype(np.float32)
        band = (_rows(expect, i), _rows(thr, i))
        envelope_at = (_times(_rows(envelope[0], i), g), _times(_rows(envelope[1], i), g))
        off, sh = self._off_at(_rows(obs, i), _rows(ambient, i), _rows(bg, i), band, envelope_at, shadows)
        if shadow is not None:
            shadow.reshape(-1)[i[sh]] = True
        out.reshape(-1)[i[off]] = True
        return out

    def _off_at(
        self,
        obs: np.ndarray,
        ambient: np.ndarray,
        bg: np.ndarray,
        band: tuple[np.ndarray, np.ndarray],
        envelope: tuple[np.ndarray, np.ndarray],
        shadows: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """For N pixels (N×3 rows; ``band``: the expected view and its noise threshold, ``envelope``: the
        light's min and max there): the indices of those outside the band widened by the envelope, and of
        those outside it only by an even dimming (a shadow, left out of the first unless ``shadows`` is
        False). Float32 step by step as ``_outside`` over the whole image."""
        expect, thr = band
        lo = np.minimum((ambient + envelope[0]) * bg, np.float32(SATURATED)) - thr
        hi = (ambient + envelope[1]) * bg + thr
        n = len(obs)
        inside = cv2.inRange(*(np.ascontiguousarray(a).reshape(n, 1, 3) for a in (obs, lo, hi)))
        off = np.flatnonzero(inside.reshape(-1) == 0)  # some channel below lo or above hi
        if not (shadows and self.cfg.shadow_min_ratio < 1.0 and off.size):
            return off, off[:0]
        sh = shadow_like(obs[off], expect[off], self.cfg)
        return off[~sh], off[sh]

    def _also_outside(
        self,
        fg: np.ndarray,
        sub: tuple[slice, slice],
        obs: np.ndarray,
        ambient: np.ndarray,
        light: tuple[np.ndarray, ...],
        gain: np.ndarray,
    ) -> None:
        """``fg[sub] &= _outside(...)`` under ``light`` (the projected light in ``sub``, not yet times
        ``gain``), worked out only on the foreground there: the same float32 steps pixel by pixel."""
        y0, x0 = sub[0].start, sub[1].start
        local = np.ascontiguousarray(fg[sub])
        nz = cv2.findNonZero(local.view(np.uint8))
        if nz is None:
            return
        lx, ly = nz[:, 0, 0].astype(np.intp), nz[:, 0, 1].astype(np.intp)
        at = (ly + y0) * fg.shape[1] + (lx + x0)  # flat indices: gathering rows is quick, 2-D indexing not
        li = ly * local.shape[1] + lx
        g = gain.astype(np.float32)
        mid, low, high = (_times(_rows(a, li), g) for a in light)
        amb, bg, o = _rows(ambient, at), _rows(self.background, at), _rows(obs, at)
        expect = np.minimum((amb + mid) * bg, np.float32(SATURATED))
        thr = expect * np.float32(self.cfg.fg_rel) + np.float32(self.cfg.fg_abs_grey)
        off, _ = self._off_at(o, amb, bg, (expect, thr), (low, high))
        keep = np.zeros(len(at), bool)
        keep[off] = True
        fg.reshape(-1)[at[~keep]] = False

    def _envelope(self, dp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``dp`` and its min and max over the envelope."""
        if self.cfg.envelope_px <= 0:
            return dp, dp, dp
        return dp, cv2.erode(dp, self._env_kernel), cv2.dilate(dp, self._env_kernel)

    def _light_envelope(
        self, proj: np.ndarray, changed: tuple[int, int, int, int] | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """contrast · proj, and its min and max over the envelope, kept from frame to frame: redone only
        where the projection changed (``changed``: that box, or None for unknown: all of it)."""
        k = self.cfg.envelope_px
        if changed is None or self._dp is None or self._dp.shape != proj.shape or k <= 0:
            env = self._envelope(self.contrast * proj)
            self._dp, self._dp_lo, self._dp_hi = env
            return env
        assert self._dp_lo is not None and self._dp_hi is not None
        bx, by, bw, bh = changed
        if bw > 0 and bh > 0:
            hh, ww = proj.shape[:2]
            self._dp[by : by + bh, bx : bx + bw] = (
                self.contrast[by : by + bh, bx : bx + bw] * proj[by : by + bh, bx : bx + bw]
            )
            # the min/max changes up to k px around the box, and needs the input k px further out
            oy0, oy1, ox0, ox1 = max(0, by - k), min(hh, by + bh + k), max(0, bx - k), min(ww, bx + bw + k)
            iy0, iy1, ix0, ix1 = max(0, oy0 - k), min(hh, oy1 + k), max(0, ox0 - k), min(ww, ox1 + k)
            win = self._dp[iy0:iy1, ix0:ix1]
            inner = (slice(oy0 - iy0, oy1 - iy0), slice(ox0 - ix0, ox1 - ix0))
            self._dp_lo[oy0:oy1, ox0:ox1] = cv2.erode(win, self._env_kernel)[inner]
            self._dp_hi[oy0:oy1, ox0:ox1] = cv2.dilate(win, self._env_kernel)[inner]
        return self._dp, self._dp_lo, self._dp_hi

    def _fit(self, obs: np.ndarray, dp: np.ndarray) -> np.ndarray:
        """The light's gains (``_fit_gains``) on every ``gain_sample_step``-th px of the fit's pixels (those
        the last ``update_background`` chose). Only those samples are gathered (as N×3 rows: quick) and
        multiplied, the same float32 products as over the whole sample grid."""
        s, w = self.cfg.gain_sample_step, obs.shape[1]
        if self._sample_basis is None or self._sample_basis[0] != s:
            gx, gy = self._gx[::s, ::s].ravel(), self._gy[::s, ::s].ravel()
            self._sample_basis = (s, np.stack(_basis(gx, gy)).astype(np.float64))
        keep = self._bg_mask[::s, ::s]
        k = np.flatnonzero(keep.ravel())
        if k.size < 50:
            return _unit_gains()
        sw = keep.shape[1]
        at = (k // sw) * (s * w) + (k % sw) * s  # their flat indices in the whole image
        bg = _rows(self.background, at)
        bs = _rows(self.black, at) * bg
        ds = _rows(dp, at) * bg
        return _fit_gains(_rows(obs, at), bs, ds, np.take(self._sample_basis[1], k, axis=1))

    def reset(self) -> None:
        """Forget everything learnt about the bench (e.g. after recalibration)."""
        self.background[:] = 1.0
        self._bg_band = None
        self._bg_mask[:] = True
        self._dimmed[:] = False
        self._prev_ratio = None
        self._prev_proj = None
        self._dp = self._dp_lo = self._dp_hi = None
        self._started = False

    def segment(
        self, bench: np.ndarray, proj: np.ndarray, changed: tuple[int, int, int, int] | None = None
    ) -> ForegroundResult:
        """Foreground mask and normalised view of one bench image under projection ``proj`` (0..1).
        ``changed`` (x, y, w, h): where ``proj`` differs from the previous one, if the caller knows."""
        cfg = self.cfg
        obs = bench.astype(np.float32)
        prev = self._prev_proj
        box = changed
        if prev is not None and prev is not proj and box is None:
            rows = np.flatnonzero(np.any(prev != proj, axis=(1, 2)))
            cols = np.flatnonzero(np.any(prev != proj, axis=(0, 2))) if rows.size else rows
            box = (
                (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))
                if rows.size
                else (0, 0, 0, 0)
            )
        # a frame exposed while the projector changed may show either image: where the projection changed,
        # foreground only where the view fits neither prediction (the previous one's light kept for that)
        sub: tuple[slice, slice] | None = None
        prev_env: tuple[np.ndarray, ...] = ()
        if prev is not None and prev is not proj and box is not None and box[2] > 0 and box[3] > 0:
            bx, by, bw, bh = box
            m = cfg.envelope_px + 1
            sub = (slice(max(0, by - m), by + bh + m), slice(max(0, bx - m), bx + bw + m))
            kept = (self._dp, self._dp_lo, self._dp_hi)
            if changed is not None and kept[0] is not None and kept[0].shape == proj.shape:
                prev_env = tuple(np.array(a[sub]) for a in kept if a is not None)  # before they are redone
            else:
                prev_env = self._envelope(self.contrast[sub] * prev[sub])
        dp, dp_lo, dp_hi = self._light_envelope(proj, changed)
        gains = self._fit(obs, dp)
        g = gains[:, 6].astype(np.float32)
        field = np.stack(
            [
                sum(float(k) * bk for k, bk in zip(gains[c, :6], self._coarse_basis, strict=True))
                for c in range(3)
            ],
            axis=2,
        ).astype(np.float32)
        h, w = obs.shape[:2]
        gain_map = cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)
        if not (float(field.min()) > 0.21 and float(field.max()) < 4.9):  # (interpolated: within its range)
            gain_map = np.clip(gain_map, 0.2, 5.0)
        ambient = cv2.multiply(self.black, gain_map)
        light = (_scaled(dp, g), dp_lo, dp_hi)  # (the min and max times g only where needed)
        empty = cv2.add(ambient, light[0])  # what the camera should see of the empty bench now
        ratio = cv2.divide(obs, np.maximum(empty, np.float32(1.0)))
        shadow = np.zeros(obs.shape[:2], bool)
        fg = self._outside_in_halves(obs, ambient, light, shadow, g, empty)
        if sub is not None:  # only the foreground there is looked at again, under the previous projection
            self._also_outside(fg, sub, obs, ambient, prev_env, g)
        restored = self._undim(fg, obs, ambient, light, g)
        raw = fg.astype(np.uint8) * 255
        mask = np.asarray(cv2.morphologyEx(raw, cv2.MORPH_OPEN, self._open_kernel), np.uint8)
        mask = np.asarray(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._close_kernel), np.uint8)
        # the same clean-up on foreground and shadow-like change together: a grey sleeve half taken for
        # a shadow (sensor noise decides pixel by pixel) is a speckle in ``mask``, whole here
        changed_mask = mask
        if shadow.any():
            both = (fg | shadow).astype(np.uint8) * 255
            changed_mask = np.asarray(cv2.morphologyEx(both, cv2.MORPH_OPEN, self._open_kernel), np.uint8)
            changed_mask = np.maximum(
                cv2.morphologyEx(changed_mask, cv2.MORPH_CLOSE, self._close_kernel), mask
            )
        self._prev_proj = proj
        return ForegroundResult(
            mask, ratio, gains, _saturated(bench), empty, changed_mask, fg | shadow, restored, ambient
        )

    def _undim(
        self,
        fg: np.ndarray,
        obs: np.ndarray,
        ambient: np.ndarray,
        light: tuple[np.ndarray, np.ndarray, np.ndarray],
        gain: np.ndarray,
    ) -> np.ndarray | None:
        """Where an absorbed dimming is off the model (``fg``) but the view fits the model from before
        it: the dimming went away (``light``: as for ``_outside``, its min and max not yet times ``gain``). Those pixels are taken out of ``fg`` (in place); returns them (or
        None) for ``update_background`` to put that model back."""
        cand = fg & self._dimmed
        nz = cv2.findNonZero(cand.view(np.uint8)) if cand.any() else None
        if nz is None:
            return None
        i = _flat(nz, fg.shape[1])

        def col(a: np.ndarray) -> np.ndarray:  # those pixels as an N×1 image
            return _rows(a, i).reshape(-1, 1, 3)

        g = gain.astype(np.float32)
        lit = (col(light[0]), col(light[1]) * g, col(light[2]) * g)
        off = self._outside(col(obs), col(ambient), lit, col(self._undimmed))
        back = ~off[:, 0]
        if not back.any():
            return None
        restored = np.zeros(fg.shape, bool)
        restored.reshape(-1)[i[back]] = True
        fg &= ~restored
        return restored

    def misfit(self, bench: np.ndarray, proj: np.ndarray, result: ForegroundResult, where: np.ndarray) -> int:
        """How many pixels of ``where`` the bench image does not fit under projection ``proj``, with the
        light fitted for ``result``. Dimmings count: light that lands off its predicted place leaves a
        dark seam that looks just like a shadow."""
        assert result.ambient is not None
        g = result.gains[:, 6].astype(np.float32)
        dp, lo, hi = self._envelope(self.contrast * proj)
        light = (_scaled(dp, g), _scaled(lo, g), _scaled(hi, g))
        out = self._outside(bench.astype(np.float32), result.ambient, light, self.background, shadows=False)
        return int(np.count_nonzero(out & where))

    def _set_background(self, src: np.ndarray, where: np.ndarray) -> None:
        """``background[where] = src[where]``, with ``_fit_band`` kept up to date there (usually a few px
        scattered over the bench)."""
        _put(self.background, src, where)
        if self._bg_band is None:
            return
        nz = cv2.findNonZero(np.ascontiguousarray(where).view(np.uint8))
        if nz is None:
            return
        if len(nz) > where.size // 8:
            self._bg_band = None  # much of it: redone as a whole when next asked
            return
        i = _flat(nz, where.shape[1])
        for band, rows in zip(self._bg_band, self._band_of(_rows(self.background, i)), strict=True):
            band.reshape(-1, 3)[i] = rows

    def _fit_band(self) -> tuple[np.ndarray, np.ndarray]:
        """The background ± ``fit_tol`` of it: the view within it fits the model. Kept from frame to frame
        and patched where the background changes (``_set_background``: usually a few px a frame)."""
        if self._bg_band is None:
            self._bg_band = self._band_of(self.background)
        return self._bg_band

    def _band_of(self, bg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``bg`` ± ``fit_tol`` of it (whole images or N×3 rows: the same float32 steps)."""
        d = np.float32(self.cfg.fit_tol) * bg
        return bg - d, bg + d

    def look(self, result: ForegroundResult) -> Look:
        """The part of ``update_background`` that needs only the segmentation (not the hands): it may be
        worked out beside the hand detection and handed to ``update_background``. The model is not
        changed here."""
        smooth = cv2.blur(result.ratio, (5, 5))  # static = stable beyond sensor noise
        if self._prev_ratio is None:
            static = np.zeros(result.mask.shape, bool)
        else:
            tol = np.float32(self.cfg.static_tol)
            static = cv2.inRange(smooth, self._prev_ratio - tol, self._prev_ratio + tol) > 0
        static |= result.saturated  # no measure there: does not break a static run, is never taken
        # off the model: foreground, or an even dimming taken for a shadow (see update_background)
        off = cv2.inRange(smooth, *self._fit_band()) == 0
        off &= ~result.saturated
        return Look(result, smooth, static, off)

    def update_background(
        self, result: ForegroundResult, hand_mask: np.ndarray, t: float, look: Look | None = None
    ) -> None:
        """Absorb static foreground away from hands; follow slow drift elsewhere; choose the pixels of the
        next light-gain fit: the clear bench that looks as the model says. A view off the model by more
        than ``fit_tol`` is left out even when it is not foreground because it looks like a shadow (an even
        dimming): a light part taken off a darker jig looks just like one, and kept in the fit it pulled
        the projector's gain off whenever light was projected onto it (the view of that spot then flipped
        with the projection, and with it the part presence judged there). A dimming is not absorbed: a
        grey sleeve looks like one too, and a resting arm must not become part of the bench.
        ``look``: ``self.look(result)``, if the caller has worked it out already."""
        cfg = self.cfg
        if look is None or look.result is not result:
            look = self.look(result)
        smooth, static, off = look.smooth, look.static, look.off
        near_hand = cv2.dilate(hand_mask, self._clear_kernel) > 0
        fg = result.mask > 0
        ratio = result.ratio
        if not self._started:
            self._static_since[:] = t
            self._started = True
        free = static & ~near_hand
        candidate = fg & free
        self._static_since = _restart(self._static_since, candidate, t)
        absorb = candidate & (t - self._static_since >= cfg.absorb_after_s) & ~result.saturated
        if absorb.any():
            self._set_background(ratio, absorb)
            self._dimmed &= ~absorb
            off &= ~absorb
        if result.restored is not None:
            self._set_background(self._undimmed, result.restored)
            self._dimmed &= ~result.restored
        if cfg.dim_absorb_after_s > 0 and result.off is not None:
            # (off the model in any way: a dimming not quite even is a shadow or foreground frame by frame,
            # as noise decides)
            dim = result.off & free
            self._dim_since = _restart(self._dim_since, dim, t)
            take = dim & (t - self._dim_since >= cfg.dim_absorb_after_s) & ~result.saturated
            if take.any():
                first = take & ~self._dimmed
                _put(self._undimmed, self.background, first)
                self._dimmed |= take
                self._set_background(ratio, take)
                off &= ~take
        clear = ~(fg | near_hand)
        fit = clear & ~off
        if int(np.count_nonzero(fit)) < (1.0 - cfg.fit_global_fraction) * int(np.count_nonzero(clear)):
            fit = clear  # most of the bench is off: the light changed, the fit must follow it
        if cfg.drift_rate > 0:
            cv2.accumulateWeighted(ratio, self.background, cfg.drift_rate, fit.astype(np.uint8))
            self._bg_band = None
        self._bg_mask = fit
        self._prev_ratio = smooth
