"""Keeping the camera's view registered to the bench while the station runs.

A camera knocked by a few mm shifts everything in the rectified bench image: parts, bins and our own
projection. Perception would then take the edges of the projection (the radiometric model no longer
lines up with the view) for changes, and zones would be looked at in the wrong place. So every
``align_every`` frames the rectified view is compared with what the camera should see of the bench
now (the empty-bench prediction under the current projection, times the background model, with the
hands and arms, and the jigs with their zones, filled in from the prediction: a jig pushed aside is
not a camera moved): phase correlation on a half-size grey image gives the
shift. A shift beyond ``align_threshold_mm`` seen ``align_confirm`` times in a row (and consistent
within ``align_agree_mm``) is corrected: the calibration's bench → camera homography is moved by it,
so the rectification, the fixture markers and the hand tracker line up again. The radiometric model is
in bench coordinates, so it stays valid. Camera and projector usually hang on one frame: a knock to the
bench (or to that frame) moves the projection over the bench by the same amount. So the view is then
checked against the projection both where it was and moved along; when the moved one fits clearly
better, the projector's mapping follows too (``Realignment.projector``), so that our own light is not
taken for hands or parts along its edges, and the highlights land on the zones again.

Only a translation is corrected (a camera knocked sideways; a small turn shows as a shift here);
a correction beyond ``align_max_mm`` is not applied: the view is too far off, recalibrate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from oss.calibration.model import Calibration
from oss.perception.config import PerceptionConfig

LIGHT_EDGE = 0.05  # a projected level changing this much over a pixel (half-size view) is an edge ...
LIGHT_EDGE_MARGIN_MM = 4.0  # ... left out of the refined match with this much around it (and the guess)


@dataclass(frozen=True)
class Realignment:
    """A correction of the camera's view (bench mm): the shift found now, and the total since start."""

    t: float
    dx_mm: float
    dy_mm: float
    total_dx_mm: float
    total_dy_mm: float
    response: float  # phase correlation peak (0..1): how sure
    since_t: float  # the view was last seen in line at this time (looks taken after it are suspect)
    applied: bool  # False: too far off to correct, recalibrate
    message: str
    projector: bool = False  # the projection moved along (the bench was knocked, not the camera alone)


def shifted_calibration(cal: Calibration, dx_mm: float, dy_mm: float) -> Calibration:
    """``cal`` with the camera's view of the bench moved: true bench point q now appears where the old
    calibration put q + (dx, dy)."""
    t = np.array([[1.0, 0.0, dx_mm], [0.0, 1.0, dy_mm], [0.0, 0.0, 1.0]])
    return replace(cal, cam_from_bench=np.asarray(cal.cam_from_bench, np.float64) @ t)


def shifted_projector(cal: Calibration, dx_mm: float, dy_mm: float) -> Calibration:
    """``cal`` with the projection moved over the bench: what the old calibration drew at q + (dx, dy)
    now lands on true bench point q (camera and projector knocked together, or the bench under them)."""
    t = np.array([[1.0, 0.0, dx_mm], [0.0, 1.0, dy_mm], [0.0, 0.0, 1.0]])
    return replace(cal, proj_from_bench=np.asarray(cal.proj_from_bench, np.float64) @ t)


class ViewAligner:
    """Measures the shift of the rectified view against its prediction, every few frames."""

    def __init__(self, size: tuple[int, int], mm_per_px: float, config: PerceptionConfig) -> None:
        self.cfg = config
        self.mm_per_px = mm_per_px
        w, h = size
        self._small = (max(16, w // 2), max(16, h // 2))
        self._window = cv2.createHanningWindow(self._small, cv2.CV_32F)
        r = max(1, round(config.hand_clear_mm / mm_per_px))
        self._hand_kernel = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
        self._n = 0
        self._pending: list[np.ndarray] = []
        self._last_good_t = 0.0
        self.total = np.zeros(2, np.float64)
        self.last_shift_mm: np.ndarray | None = None
        self.last_response = 0.0
        self.gave_up = False  # too far off to follow: said once, until the view is back in line

    @property
    def pending(self) -> bool:
        """A shift was seen and awaits confirmation: the view may be off."""
        return bool(self._pending)

    def due(self) -> bool:
        """Counts a frame; True on the frames where ``check`` should measure."""
        self._n += 1
        return self.cfg.align_every > 0 and (self._n - 1) % self.cfg.align_every == 0

    def measure(
        self,
        observed: np.ndarray,
        predicted: np.ndarray,
        hand_mask: np.ndarray,
        exclude: np.ndarray | None = None,
        light: np.ndarray | None = None,
    ) -> np.ndarray | None:
        """Shift (bench mm) of ``observed`` (BGR uint8) against ``predicted`` (float32 H×W×3), hands and
        ``exclude`` (uint8 mask: things that move by themselves, like jigs) ignored; None where the match
        is too weak to say. ``light``: the projected level on the bench (0..1, H×W×3), whose edges are
        left out of the refined match: when the bench is knocked under camera and projector, our light
        stays put in the view while the bench moves, and would pull the match towards no shift."""
        g_obs = cv2.cvtColor(observed, cv2.COLOR_BGR2GRAY).astype(np.float32)
        g_pred = cv2.cvtColor(np.minimum(predicted, 255.0).astype(np.float32, copy=False), cv2.COLOR_BGR2GRAY)
        hands = cv2.dilate(hand_mask, self._hand_kernel)
        cv2.copyTo(g_pred, hands, g_obs)  # (as g_obs[hands > 0] = ..., several times quicker)
        a = cv2.resize(g_pred, self._small, interpolation=cv2.INTER_AREA)
        b = cv2.resize(g_obs, self._small, interpolation=cv2.INTER_AREA)
        # a first guess by phase correlation over the whole view (hands filled in: they pull it a little
        # towards no shift; a jig pushed aside pulls it towards its own shift) ...
        (sx, sy), response = cv2.phaseCorrelate(a, b, self._window)
        self.last_response = float(response)
        if response < self.cfg.align_min_response:
            return None
        scale = observed.shape[1] / self._small[0] * self.mm_per_px
        if float(np.hypot(sx, sy)) * scale < 0.4 * self.cfg.align_threshold_mm:
            return np.array([sx, sy], np.float64) * scale  # in line (the usual case): no need to refine
        # ... refined by ECC on the pixels that count, jigs left out (robust to the light's gain and offset)
        cover = hands > 0
        if exclude is not None:
            cover |= exclude > 0
        valid = cv2.resize((~cover).astype(np.uint8) * 255, self._small, interpolation=cv2.INTER_NEAREST)
        if light is not None:  # where the light has edges, as predicted and as far as the guess moves them
            lvl = cv2.resize(np.max(light, axis=2), self._small, interpolation=cv2.INTER_AREA)
            edge = cv2.morphologyEx(lvl, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > LIGHT_EDGE
            r = int(np.ceil(float(np.hypot(sx, sy)) + LIGHT_EDGE_MARGIN_MM / scale))
            edge = cv2.dilate(edge.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)) > 0
            if np.count_nonzero((valid > 0) & ~edge) >= 0.25 * valid.size:  # else too little is left
                valid[edge] = 0
        start = np.array([[1.0, 0.0, sx], [0.0, 1.0, sy]], np.float32)
        criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 30, 1e-3)
        try:
            cc, found = cv2.findTransformECC(a, b, start, cv2.MOTION_TRANSLATION, criteria, valid, 5)
        except cv2.error:
            return None  # did not converge: no measurement this time
        if cc < self.cfg.align_min_ecc:
            return None
        w = np.asarray(found, np.float64)
        return np.array([w[0, 2], w[1, 2]]) * scale

    def check(
        self,
        observed: np.ndarray,
        predicted: np.ndarray,
        hand_mask: np.ndarray,
        t: float,
        exclude: np.ndarray | None = None,
        light: np.ndarray | None = None,
    ) -> Realignment | None:
        """Measure (on the frames ``due`` says); returns a Realignment when a shift is confirmed."""
        cfg = self.cfg
        d = self.measure(observed, predicted, hand_mask, exclude, light)
        if d is None:
            return None
        self.last_shift_mm = d
        if float(np.hypot(*d)) < cfg.align_threshold_mm:
            self._pending.clear()
            self._last_good_t = t
            self.gave_up = False
            return None
        if self.gave_up:
            return None
        if self._pending and float(np.hypot(*(d - self._pending[-1]))) > cfg.align_agree_mm:
            self._pending.clear()  # not the same shift twice: a hand or part moving, not the camera
        self._pending.append(d)
        if len(self._pending) < cfg.align_confirm:
            return None
        shift = np.mean(self._pending, axis=0)
        self._pending.clear()
        total = self.total + shift
        applied = float(np.hypot(*total)) <= cfg.align_max_mm
        if applied:
            self.total = total
            msg = (
                f"the camera's view moved {np.hypot(*shift):.1f} mm (dx {shift[0]:+.1f}, dy {shift[1]:+.1f}); "
                f"perception re-aligned it ({np.hypot(*total):.1f} mm since calibration)"
            )
        else:
            self.gave_up = True
            msg = (
                f"the camera's view is {np.hypot(*total):.0f} mm off its calibration, too far to follow: "
                "check the camera mount and recalibrate with 'oss calibrate station'"
            )
        return Realignment(
            t,
            float(shift[0]),
            float(shift[1]),
            float(total[0]),
            float(total[1]),
            self.last_response,
            self._last_good_t,
            applied,
            msg,
        )
