"""Zones at run time: polygons in bench mm that follow their fixture, and samplers for zone looks.

A ``ZoneSampler`` reads a zone in the zone's own frame (bench mm for bench zones, fixture mm for
fixture zones) at the bench image resolution, so a zone's look stays comparable when the jig moves.
Fixture zones are re-placed only when the fixture pose moves by more than a tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from oss.instructions.model import BENCH_FRAME, Instruction, Zone
from oss.perception.config import PerceptionConfig
from oss.records import FixturePose, Point

Pose = tuple[float, float, float]


@dataclass(frozen=True, eq=False)
class ZoneSampler:
    """Remap grids from a zone's own frame to bench image px, and the zone's mask in that grid."""

    zone: str
    map_x: np.ndarray  # float32 h×w: bench px column of each zone-grid cell
    map_y: np.ndarray
    mask: np.ndarray  # bool h×w: cell inside the (eroded) polygon

    def sample(self, image: np.ndarray, nearest: bool = False) -> np.ndarray:
        interp = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
        return cv2.remap(image, self.map_x, self.map_y, interp, borderMode=cv2.BORDER_REPLICATE)


def _pose_far(a: Pose, b: Pose, tol_mm: float, tol_deg: float) -> bool:
    d_ang = abs((a[2] - b[2] + 180.0) % 360.0 - 180.0)
    return math.hypot(a[0] - b[0], a[1] - b[1]) > tol_mm or d_ang > tol_deg


class ZoneMap:
    """Where each zone of an instruction is now, in bench mm."""

    def __init__(
        self, instruction: Instruction, mm_per_px: float, config: PerceptionConfig, *, plain: bool = False
    ):
        self.instruction = instruction
        self.mm_per_px = mm_per_px
        self.cfg = config
        self.plain = plain
        self.poses: dict[str, Pose] = {
            f.id: (f.x_mm, f.y_mm, f.angle_deg) for f in instruction.fixtures.values()
        }
        self.version = 0  # bumped whenever a zone moved
        self._polys: dict[str, np.ndarray] = {}
        self._samplers: dict[str, ZoneSampler] = {}
        for z in instruction.zones.values():
            self._polys[z.id] = self._place(z)

    # --- placement ----------------------------------------------------------------------------------
    def _place(self, z: Zone) -> np.ndarray:
        pts = np.asarray(z.points, np.float64)
        if z.frame == BENCH_FRAME:
            return pts.astype(np.float32)
        fx = self.instruction.fixtures[z.frame]
        pose = self.poses[z.frame]
        return np.array([fx.to_bench(x, y, pose) for x, y in pts], np.float32)

    def update_poses(self, poses: Iterable[FixturePose]) -> bool:
        """Follow the fixtures; returns True when some zone moved (beyond the tolerance)."""
        moved: set[str] = set()
        for p in poses:
            new = (p.x_mm, p.y_mm, p.angle_deg)
            old = self.poses.get(p.fixture)
            if old is None:
                continue
            if self.plain or _pose_far(old, new, self.cfg.pose_tol_mm, self.cfg.pose_tol_deg):
                self.poses[p.fixture] = new
                moved.add(p.fixture)
        if not moved:
            return False
        for z in self.instruction.zones.values():
            if z.frame in moved:
                self._polys[z.id] = self._place(z)
                self._samplers.pop(z.id, None)
        self.version += 1
        return True

    def polygon_mm(self, zone: str) -> np.ndarray:
        """The zone's corners in bench mm now (N×2 float32)."""
        return self._polys[zone]

    def polygons_mm(self) -> Mapping[str, np.ndarray]:
        return self._polys

    # --- queries ------------------------------------------------------------------------------------
    def depth_mm(self, zone: str, point: Point) -> float:
        """Signed distance of ``point`` to the zone's edge: positive inside, negative outside (mm)."""
        return float(cv2.pointPolygonTest(self._polys[zone], (float(point[0]), float(point[1])), True))

    def zones_at(
        self, point: Point, zones: Iterable[str] | None = None, radius_mm: float = 0.0
    ) -> tuple[str, ...]:
        """Zones that a disc of ``radius_mm`` around ``point`` touches."""
        ids = self._polys.keys() if zones is None else zones
        return tuple(z for z in ids if self.depth_mm(z, point) >= -radius_mm)

    def sampler(self, zone: str) -> ZoneSampler:
        """The look-up grid of a zone at its current place (cached until the zone moves)."""
        if not self.plain and zone in self._samplers:
            return self._samplers[zone]
        z = self.instruction.zones[zone]
        s = self.mm_per_px
        pts = np.asarray(z.points, np.float64)
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        w = max(1, math.ceil((x1 - x0) / s))
        h = max(1, math.ceil((y1 - y0) / s))
        gx, gy = np.meshgrid(x0 + (np.arange(w) + 0.5) * s, y0 + (np.arange(h) + 0.5) * s)
        if z.frame == BENCH_FRAME:
            bx, by = gx, gy
        else:
            px, py, ang = self.poses[z.frame]
            c, si = math.cos(math.radians(ang)), math.sin(math.radians(ang))
            bx, by = px + c * gx - si * gy, py + si * gx + c * gy
        map_x = (bx / s - 0.5).astype(np.float32)
        map_y = (by / s - 0.5).astype(np.float32)
        local = ((pts - (x0, y0)) / s).astype(np.int32)
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [local], (1,))
        e = round(self.cfg.presence_erode_mm / s)
        if e > 0 and min(h, w) > 2 * e + 2:
            mask = np.asarray(cv2.erode(mask, np.ones((2 * e + 1, 2 * e + 1), np.uint8)), np.uint8)
        sampler = ZoneSampler(zone, map_x, map_y, mask.astype(bool))
        self._samplers[zone] = sampler
        return sampler
