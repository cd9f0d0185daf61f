"""Drift check: while the station runs, the bench markers are watched in the camera frames.

The markers' corners, mapped to bench mm through the calibration, should land where the marker layout
says. If the median shift over the visible markers stays beyond ``threshold_mm`` for ``confirm`` checks
in a row, the camera (or the bench) has moved: a ``DriftWarning`` is returned once, until the view
comes back (then a ``DriftWarning`` with ``ok=True``). Hands covering markers only reduce how many are
seen; below ``min_markers`` no decision is taken.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oss.calibration.bench_target import BenchTarget, MarkerFinder
from oss.calibration.model import Calibration


@dataclass(frozen=True)
class DriftWarning:
    """``shift_mm`` is how far the markers appear moved on the bench (median over ``markers``)."""

    t: float
    ok: bool  # False: drifted beyond the threshold; True: back within it
    shift_mm: float
    dx_mm: float
    dy_mm: float
    markers: tuple[int, ...]
    message: str


class DriftMonitor:
    """Feed it frames (``check(image, t)``); it returns a ``DriftWarning`` when the state changes."""

    def __init__(
        self,
        calibration: Calibration,
        target: BenchTarget,
        threshold_mm: float = 2.0,
        every_n: int = 3,
        confirm: int = 2,
        min_markers: int = 2,
    ):
        self.cal, self.target = calibration, target
        self.threshold_mm, self.every_n, self.confirm, self.min_markers = (
            threshold_mm,
            every_n,
            confirm,
            min_markers,
        )
        self.finder = MarkerFinder(target)
        self._n = 0
        self._over = 0
        self.drifted = False
        self.last_shift_mm: float | None = None

    def measure(self, image: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]] | None:
        """Median shift (dx, dy) in bench mm of the markers seen, and their ids; None if too few."""
        found = self.finder.find(image)
        if len(found) < self.min_markers:
            return None
        by_id = self.target.by_id
        shifts = [
            np.mean(self.cal.camera_to_bench(c) - by_id[i].corners_mm(), axis=0) for i, c in found.items()
        ]
        return np.median(np.array(shifts), axis=0), tuple(sorted(found))

    def check(self, image: np.ndarray, t: float) -> DriftWarning | None:
        self._n += 1
        if (self._n - 1) % self.every_n:
            return None
        got = self.measure(image)
        if got is None:
            return None
        d, ids = got
        shift = float(np.hypot(*d))
        self.last_shift_mm = shift
        if shift > self.threshold_mm:
            self._over += 1
            if self._over >= self.confirm and not self.drifted:
                self.drifted = True
                return DriftWarning(
                    t,
                    False,
                    shift,
                    float(d[0]),
                    float(d[1]),
                    ids,
                    f"the bench markers appear {shift:.1f} mm away from where calibration put them "
                    f"(threshold {self.threshold_mm:g} mm): the camera or bench has moved. "
                    "Overlays may be off; "
                    "check the verification grid and recalibrate with 'oss calibrate station'.",
                )
        else:
            self._over = 0
            if self.drifted:
                self.drifted = False
                return DriftWarning(
                    t,
                    True,
                    shift,
                    float(d[0]),
                    float(d[1]),
                    ids,
                    f"the bench markers are back within {self.threshold_mm:g} mm ({shift:.1f} mm)",
                )
        return None
