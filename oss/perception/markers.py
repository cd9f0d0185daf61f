"""Fixture poses from their ArUco markers, in bench mm.

Detection runs on the raw camera frame. While a marker is tracked only a region around its last place
is searched (the marker box grown by ``marker_roi_margin`` marker sizes on every side); the whole frame
is searched at start and, while some marker is lost, every ``marker_full_every``-th frame. A lost marker
(a hand over it) keeps its last pose. ``plain=True`` searches the whole frame every frame.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import cv2
import numpy as np

from oss.calibration.model import Calibration
from oss.instructions.model import Fixture
from oss.records import FixturePose, OssError


def _dictionary(name: str) -> cv2.aruco.Dictionary:
    code = getattr(cv2.aruco, name, None)
    if not isinstance(code, int):
        raise OssError(
            f"fixture marker dictionary {name!r} is not an OpenCV ArUco dictionary; "
            "write one such as DICT_4X4_50 in the instruction's fixtures."
        )
    return cv2.aruco.getPredefinedDictionary(code)


def pose_from_corners(corners_mm: np.ndarray, fixture: str) -> FixturePose:
    """Marker centre and rotation from its 4 corners in bench mm (ArUco order: TL, TR, BR, BL)."""
    c = np.asarray(corners_mm, np.float64).reshape(4, 2)
    centre = c.mean(axis=0)
    top, bottom = c[1] - c[0], c[2] - c[3]
    x_axis = top + bottom
    return FixturePose(
        fixture, float(centre[0]), float(centre[1]), math.degrees(math.atan2(x_axis[1], x_axis[0]))
    )


class MarkerTracker:
    def __init__(
        self,
        fixtures: Mapping[str, Fixture],
        calibration: Calibration,
        *,
        full_every: int = 15,
        roi_margin: float = 1.5,
        plain: bool = False,
    ) -> None:
        self.fixtures = dict(fixtures)
        self.calibration = calibration
        self.full_every = max(1, full_every)
        self.roi_margin = roi_margin
        self.plain = plain
        self._by_id: dict[str, dict[int, str]] = {}
        self._detectors: dict[str, cv2.aruco.ArucoDetector] = {}
        for f in self.fixtures.values():
            if f.dictionary not in self._detectors:
                params = cv2.aruco.DetectorParameters()
                params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
                self._detectors[f.dictionary] = cv2.aruco.ArucoDetector(_dictionary(f.dictionary), params)
            self._by_id.setdefault(f.dictionary, {})[f.marker_id] = f.id
        self.poses: dict[str, FixturePose] = {}
        self.seen: dict[str, bool] = {f: False for f in self.fixtures}
        self._corners_px: dict[str, np.ndarray] = {}
        self._count = 0
        self.smoothing = 0.2  # weight of a new detection while the fixture stands still
        self.still_mm, self.still_deg = 4.0, 2.0  # larger changes are a move: followed at once

    def _roi(self) -> tuple[int, int, int, int] | None:
        """Bounding box (x0, y0, x1, y1) around every known marker, or None for the whole frame."""
        if self.plain or not self._corners_px:
            return None
        lost = not all(self.seen.values()) or len(self._corners_px) < len(self.fixtures)
        if lost and self._count % self.full_every == 0:
            return None
        return self._roi_of_known()

    def _roi_of_known(self) -> tuple[int, int, int, int] | None:
        if not self._corners_px:
            return None
        boxes = []
        for fid, c in self._corners_px.items():
            side = float(np.max(np.ptp(c, axis=0)))
            grow = side * self.roi_margin * (1.0 if self.seen[fid] else 2.0)
            lo, hi = c.min(axis=0) - grow, c.max(axis=0) + grow
            boxes.append((lo, hi))
        lo = np.min([b[0] for b in boxes], axis=0)
        hi = np.max([b[1] for b in boxes], axis=0)
        w, h = self.calibration.camera_size
        return (max(0, int(lo[0])), max(0, int(lo[1])), min(w, int(hi[0]) + 1), min(h, int(hi[1]) + 1))

    def _smooth(self, old: FixturePose | None, new: FixturePose) -> FixturePose:
        """Average out corner noise while the fixture stands still; follow a real move at once."""
        if old is None or self.plain:
            return new
        d_ang = (new.angle_deg - old.angle_deg + 180.0) % 360.0 - 180.0
        moved = math.hypot(new.x_mm - old.x_mm, new.y_mm - old.y_mm)
        if moved > self.still_mm or abs(d_ang) > self.still_deg:
            return new
        a = self.smoothing
        return FixturePose(
            new.fixture,
            old.x_mm + a * (new.x_mm - old.x_mm),
            old.y_mm + a * (new.y_mm - old.y_mm),
            old.angle_deg + a * d_ang,
        )

    def update(self, image: np.ndarray) -> tuple[FixturePose, ...]:
        """Detect the markers in one camera frame; poses of every fixture seen so far (lost ones held)."""
        roi = self._roi()
        self._count += 1
        x0, y0 = 0, 0
        if roi is not None:
            x0, y0, x1, y1 = roi
            image = image[y0:y1, x0:x1]
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        found: set[str] = set()
        for dict_name, det in self._detectors.items():
            corners, ids, _ = det.detectMarkers(gray)
            if ids is None:
                continue
            for c, mid in zip(corners, ids.ravel(), strict=True):
                fid = self._by_id[dict_name].get(int(mid))
                if fid is None or fid in found:
                    continue
                px = c.reshape(4, 2).astype(np.float64) + np.array([x0, y0])
                mm = self.calibration.camera_to_bench(px)
                self._corners_px[fid] = px
                self.poses[fid] = self._smooth(self.poses.get(fid), pose_from_corners(mm, fid))
                found.add(fid)
        for fid in self.fixtures:
            self.seen[fid] = fid in found
        return tuple(self.poses.values())
