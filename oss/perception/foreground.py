"""Foreground against a model of the bench, in a space where our own projection cancels.

The camera should see ``E = a·black + b·(white − black)·P`` of the empty bench under projection P
(a, b: global light gains fitted on background pixels each frame, so a lamp switched on or the camera's
exposure drifting does not light up the whole bench). ``ratio = observed / E`` is albedo-like: 1 on
the bench as calibrated, whatever is projected. The background model holds the ratio of the bench as
it is now (parts placed, jig moved): a change that stays static and away from any hand for
``absorb_after_s`` joins it. Foreground = observed outside the predicted view ``E · background``
(with a min/max envelope over neighbouring pixels, so blur and
misregistration do not show up as foreground; where the projection changed since the last frame the
view must fit neither the old nor the new projection, so a frame exposed across a projector change
does not either).
"""

from __future__ import annotations

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
    """

    image: np.ndarray
    ratio: np.ndarray
    mm_per_px: float
    t: float
    camera_image: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class ForegroundResult:
    mask: np.ndarray  # uint8 0/255, everything that differs from the bench model
    ratio: np.ndarray  # float32 H×W×3, observed / predicted empty bench
    gains: np.ndarray  # 3×2: per channel (a, b) of the fitted light model
    saturated: np.ndarray  # bool: some channel at the camera's ceiling (its ratio means little)


def _fit_gains(o: np.ndarray, b: np.ndarray, dp: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Per channel least squares o ≈ a·b + g·dp on ``keep`` samples, ridge towards (1, 1), one robust pass."""
    gains = np.ones((3, 2), np.float64)
    for c in range(3):
        oc, bc, pc = o[..., c][keep], b[..., c][keep], dp[..., c][keep]
        if oc.size < 50:
            continue
        for _ in range(2):
            lam = 1e-3 * float(np.dot(bc, bc) + np.dot(pc, pc)) + 1e-6
            m = np.array([[np.dot(bc, bc) + lam, np.dot(bc, pc)], [np.dot(bc, pc), np.dot(pc, pc) + lam]])
            rhs = np.array([np.dot(oc, bc) + lam, np.dot(oc, pc) + lam])
            ab = np.linalg.solve(m, rhs)
            res = np.abs(oc - ab[0] * bc - ab[1] * pc)
            inl = res <= 3.0 * max(float(np.median(res)) * 1.4826, 2.0)
            oc, bc, pc = oc[inl], bc[inl], pc[inl]
            if oc.size < 50:
                break
        gains[c] = np.clip(ab, 0.2, 5.0)
    return gains


SATURATED = 255.0


def channel_max(img: np.ndarray) -> np.ndarray:
    """Per-pixel maximum over the 3 channels (much faster than ``img.max(axis=2)``)."""
    return np.maximum(np.maximum(img[..., 0], img[..., 1]), img[..., 2])


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
        self._static_since = np.zeros((h, w), np.float32)
        self._started = False
        k = 2 * config.envelope_px + 1
        self._env_kernel = np.ones((k, k), np.uint8)
        r = max(1, round(config.hand_clear_mm / mm_per_px))
        self._clear_kernel = np.ones((2 * r + 1, 2 * r + 1), np.uint8)  # square: separable, fast
        self._open_kernel = np.ones((3, 3), np.uint8)
        c = 2 * config.envelope_px + 3  # bridges the tolerance band along projected edges
        self._close_kernel = np.ones((c, c), np.uint8)

    def _outside(self, obs: np.ndarray, ambient: np.ndarray, light: np.ndarray, bg: np.ndarray) -> np.ndarray:
        """bool mask: ``obs`` outside the expected ``(ambient + light) · bg`` ± noise. The projected
        ``light`` gets a min/max envelope over neighbours (blur, misregistration); the camera clips."""
        cfg = self.cfg
        expect = np.minimum((ambient + light) * bg, SATURATED)
        lo, hi = expect, expect
        if cfg.envelope_px > 0:
            lo = np.minimum((ambient + cv2.erode(light, self._env_kernel)) * bg, SATURATED)
            hi = np.minimum((ambient + cv2.dilate(light, self._env_kernel)) * bg, SATURATED)
        thr = cfg.fg_abs_grey + cfg.fg_rel * expect
        excess = np.maximum(lo - obs, obs - hi)
        out = channel_max(excess - thr) > 0
        if cfg.shadow_min_ratio < 1.0:
            out &= ~self._shadow(obs, expect)
        return np.asarray(out)

    def _shadow(self, obs: np.ndarray, expect: np.ndarray) -> np.ndarray:
        """Shadow-like pixels: the expected view dimmed evenly in every channel, not below
        ``shadow_min_ratio`` (brightness and chromaticity distortion as in Horprasert et al., 1999)."""
        cfg = self.cfg
        q = obs / np.maximum(expect, 1.0)
        mean = (q[..., 0] + q[..., 1] + q[..., 2]) * np.float32(1.0 / 3.0)
        dev = channel_max(np.abs(q - mean[..., None])) / np.maximum(mean, 0.05)
        return (mean >= cfg.shadow_min_ratio) & (mean < 1.0) & (dev < cfg.shadow_chroma)

    def reset(self) -> None:
        """Forget everything learnt about the bench (e.g. after recalibration)."""
        self.background[:] = 1.0
        self._bg_mask[:] = True
        self._prev_ratio = None
        self._prev_proj = None
        self._started = False

    def segment(self, bench: np.ndarray, proj: np.ndarray) -> ForegroundResult:
        """Foreground mask and normalised view of one bench image under projection ``proj`` (0..1)."""
        cfg = self.cfg
        obs = bench.astype(np.float32)
        dp = self.contrast * proj
        s = cfg.gain_sample_step
        bg_s = self.background[::s, ::s]
        gains = _fit_gains(
            obs[::s, ::s], self.black[::s, ::s] * bg_s, dp[::s, ::s] * bg_s, self._bg_mask[::s, ::s]
        )
        a = gains[:, 0].astype(np.float32)
        g = gains[:, 1].astype(np.float32)
        empty = self.black * a + dp * g  # what the camera should see of the empty bench now
        ratio = obs / np.maximum(empty, 1.0)
        ambient = self.black * a
        fg = self._outside(obs, ambient, dp * g, self.background)
        prev = self._prev_proj
        if prev is not None and prev is not proj:
            # a frame exposed while the projector changed may show either image: foreground only where the
            # view fits neither prediction (tested where the projection changed)
            rows = np.flatnonzero(np.any(prev != proj, axis=(1, 2)))
            if rows.size:
                cols = np.flatnonzero(
                    np.any(prev[rows[0] : rows[-1] + 1] != proj[rows[0] : rows[-1] + 1], axis=(0, 2))
                )
                m = cfg.envelope_px + 1
                y0, y1 = max(0, rows[0] - m), rows[-1] + 1 + m
                x0, x1 = max(0, cols[0] - m), cols[-1] + 1 + m
                sub = (slice(y0, y1), slice(x0, x1))
                light = self.contrast[sub] * prev[sub] * g
                fg[sub] &= self._outside(obs[sub], ambient[sub], light, self.background[sub])
        raw = fg.astype(np.uint8) * 255
        mask = np.asarray(cv2.morphologyEx(raw, cv2.MORPH_OPEN, self._open_kernel), np.uint8)
        mask = np.asarray(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._close_kernel), np.uint8)
        self._prev_proj = proj
        return ForegroundResult(mask, ratio, gains, channel_max(obs) >= SATURATED - 5.0)

    def update_background(self, result: ForegroundResult, hand_mask: np.ndarray, t: float) -> None:
        """Absorb static changes away from hands; follow slow drift elsewhere."""
        cfg = self.cfg
        near_hand = cv2.dilate(hand_mask, self._clear_kernel) > 0
        fg = result.mask > 0
        ratio = result.ratio
        smooth = cv2.blur(ratio, (5, 5))  # static = stable beyond sensor noise
        if not self._started:
            self._static_since[:] = t
            self._started = True
        if self._prev_ratio is None:
            static = np.zeros(fg.shape, bool)
        else:
            static = channel_max(cv2.absdiff(smooth, self._prev_ratio)) < cfg.static_tol
        static |= result.saturated  # no measure there: does not break a static run, is never taken
        candidate = fg & static & ~near_hand
        self._static_since[~candidate] = t
        absorb = candidate & (t - self._static_since >= cfg.absorb_after_s) & ~result.saturated
        if absorb.any():
            self.background[absorb] = ratio[absorb]
        clear = ~(fg | near_hand)
        if cfg.drift_rate > 0:
            cv2.accumulateWeighted(ratio, self.background, cfg.drift_rate, clear.astype(np.uint8))
        self._bg_mask = clear
        self._prev_ratio = smooth
