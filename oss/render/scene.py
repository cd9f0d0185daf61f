"""What the renderer needs from an instruction, resolved and checked once at start-up.

Zones are turned into bench-mm polygons for a given set of fixture poses, overlay colours are parsed,
and every pictogram and image is loaded, so a bad instruction fails when the station starts, with the
file to fix, not in the middle of a shift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from oss.instructions.model import (
    BENCH_FRAME,
    Arrow,
    Highlight,
    ImageOverlay,
    Instruction,
    NumberOverlay,
    Outline,
    Overlay,
    RunStep,
    TextOverlay,
)
from oss.records import FixturePose, Observation, OssError

from .colors import parse_color

Pt = tuple[float, float]
Pose = tuple[float, float, float]  # x mm, y mm, angle deg
PoseKey = tuple[tuple[str, float, float, float], ...]

POSE_STEP_MM = 0.5  # fixture poses are rounded to this before drawing, so a still jig hits the cache
POSE_STEP_DEG = 0.2


def overlay_zones(o: Overlay) -> tuple[str, ...]:
    if isinstance(o, Highlight | Outline | NumberOverlay):
        return (o.zone,)
    if isinstance(o, Arrow):
        return (o.from_zone, o.to_zone)
    return ()


def overlay_color(o: Overlay) -> str | None:
    return None if isinstance(o, ImageOverlay) else o.color


def load_bgra(path: Path) -> np.ndarray:
    """An image file as BGRA uint8 (grey and BGR get an opaque alpha channel)."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise OssError(
            f"{path}: image missing or unreadable. Fix the path in the instruction, or run "
            "'python tools/make_pictograms.py' to (re)create the standard pictograms."
        )
    if img.dtype != np.uint8:
        img = cv2.convertScaleAbs(img, alpha=255.0 / max(1.0, float(img.max())))
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGRA)
    if img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
    return img


@dataclass(frozen=True)
class Poses:
    """Fixture poses for one frame, rounded; a fixture not seen this frame stands at its nominal pose."""

    key: PoseKey

    @classmethod
    def from_observation(cls, obs: Observation | None, fixtures: Mapping[str, object]) -> Poses:
        if obs is None or not obs.fixtures:
            return cls(())
        seen: dict[str, FixturePose] = {p.fixture: p for p in obs.fixtures if p.fixture in fixtures}
        return cls(
            tuple(
                (
                    f,
                    round(p.x_mm / POSE_STEP_MM) * POSE_STEP_MM,
                    round(p.y_mm / POSE_STEP_MM) * POSE_STEP_MM,
                    round(p.angle_deg / POSE_STEP_DEG) * POSE_STEP_DEG,
                )
                for f, p in sorted(seen.items())
            )
        )

    def get(self, fixture: str) -> Pose | None:
        for f, x, y, a in self.key:
            if f == fixture:
                return (x, y, a)
        return None


class Scene:
    """An instruction's run steps with everything drawable resolved: media, colours, zone frames."""

    def __init__(self, instruction: Instruction, variant: str | None, media_root: Path) -> None:
        self.instruction = instruction
        self.media_root = media_root
        try:
            self.steps: tuple[RunStep, ...] = instruction.run_steps(variant)
        except KeyError as e:
            raise OssError(f"{instruction.source or instruction.product_id}: {e.args[0]}") from e
        self.media: dict[str, np.ndarray] = {}
        where = instruction.source or instruction.product_id
        for rs in self.steps:
            for name in (rs.step.pictogram, rs.step.image):
                if name:
                    self._load(name)
            for o in rs.show:
                for z in overlay_zones(o):
                    if z not in instruction.zones:
                        raise OssError(
                            f"{where}: step '{rs.step.id}' shows unknown zone '{z}'. "
                            f"Add it under 'zones:' or fix the name."
                        )
                color = overlay_color(o)
                if color is not None:
                    try:
                        parse_color(color)
                    except OssError as e:
                        raise OssError(f"{where}: step '{rs.step.id}': {e}") from e
                if isinstance(o, ImageOverlay):
                    self._load(o.image)
                if isinstance(o, TextOverlay | ImageOverlay) and o.frame != BENCH_FRAME:
                    self._fixture(o.frame, where, rs.step.id)
        for zone in instruction.zones.values():
            if zone.frame != BENCH_FRAME:
                self._fixture(zone.frame, where, zone.id)

    def _fixture(self, frame: str, where: str, what: str) -> None:
        if frame not in self.instruction.fixtures:
            raise OssError(
                f"{where}: '{what}' is given in frame '{frame}', which is no fixture. "
                f"Use 'bench' or one of: {', '.join(self.instruction.fixtures) or '(none)'}."
            )

    def _load(self, name: str) -> np.ndarray:
        if name not in self.media:
            self.media[name] = load_bgra(self.media_root / name)
        return self.media[name]

    def image(self, name: str) -> np.ndarray:
        return self._load(name)

    def step(self, index: int) -> RunStep | None:
        return self.steps[index] if 0 <= index < len(self.steps) else None

    # --- geometry -----------------------------------------------------------------------------------
    def to_bench(self, frame: str, pts: list[Pt] | tuple[Pt, ...], poses: Poses) -> list[Pt]:
        if frame == BENCH_FRAME:
            return [(float(x), float(y)) for x, y in pts]
        fx = self.instruction.fixtures[frame]
        pose = poses.get(frame)
        return [fx.to_bench(x, y, pose) for x, y in pts]

    def frame_angle(self, frame: str, poses: Poses) -> float:
        if frame == BENCH_FRAME:
            return 0.0
        pose = poses.get(frame)
        return pose[2] if pose is not None else self.instruction.fixtures[frame].angle_deg

    def zone_mm(self, zone_id: str, poses: Poses) -> list[Pt]:
        z = self.instruction.zones[zone_id]
        return self.to_bench(z.frame, z.points, poses)

    def zone_frame(self, zone_id: str) -> str:
        return self.instruction.zones[zone_id].frame

    def depends_on_pose(self, o: Overlay) -> bool:
        if isinstance(o, TextOverlay | ImageOverlay):
            return o.frame != BENCH_FRAME
        return any(self.zone_frame(z) != BENCH_FRAME for z in overlay_zones(o))

    def fixture_hull_mm(self, poses: Poses) -> list[Pt]:
        """Convex hull of every fixture-frame zone (where the product lies), empty if there are none."""
        pts = [
            p
            for zid, z in self.instruction.zones.items()
            if z.frame != BENCH_FRAME
            for p in self.zone_mm(zid, poses)
        ]
        if len(pts) < 3:
            return []
        hull = cv2.convexHull(np.asarray(pts, np.float32)).reshape(-1, 2)
        return [(float(x), float(y)) for x, y in hull]

    def min_zone_y(self) -> float:
        """The smallest bench y of any zone at the nominal poses (the operator-side edge of the layout)."""
        ys = [y for zid in self.instruction.zones for _, y in self.zone_mm(zid, Poses(()))]
        return min(ys) if ys else self.instruction.bench.depth_mm
