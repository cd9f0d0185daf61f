"""The calibration procedure on the virtual bench: bench markers laid out as fixtures, a printed board
held in 3D poses, and ``project``/``capture`` callables like a real station's.

The virtual bench (``oss.sim``) renders a flat bench; a board held up at an angle is rendered here, with
the same true camera and projector optics: every camera pixel's ray is cut with the board plane, the
board's print is looked up there and lit by the projector pixel that truly reaches that 3D point.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import cv2
import numpy as np

from oss.calibration.bench_target import BenchTarget
from oss.calibration.boards import BoardSpec
from oss.calibration.model import Calibration
from oss.instructions.model import Fixture, Instruction
from oss.sim.bench import VirtualBench
from oss.sim.geometry import Pinhole

BOARD_PX_PER_MM = 3.0
PAPER_MARGIN_MM = 20.0


def with_bench_markers(instruction: Instruction, target: BenchTarget) -> Instruction:
    """The instruction with the target's bench markers added as fixed fixtures, so the sim draws them."""
    fixtures = dict(instruction.fixtures)
    for m in target.markers:
        fid = f"bench_marker_{m.id}"
        fixtures[fid] = Fixture(fid, m.id, m.size_mm, target.dictionary, m.x_mm, m.y_mm, m.angle_deg)
    return dataclasses.replace(instruction, fixtures=fixtures)


@dataclass(frozen=True)
class BoardPose:
    """Where the board is held: board mm (x, y, 0) → bench ``R·p + t`` (R from Rodrigues ``rvec``)."""

    rvec: tuple[float, float, float]
    tvec: tuple[float, float, float]


def default_board_poses(spec: BoardSpec, bench_size_mm: tuple[float, float]) -> list[BoardPose]:
    """Five poses a technician would take: flat, tilted toward and away, and to either side, held up."""
    w, d = bench_size_mm
    bw, bh = spec.extent_mm
    cx, cy = w / 2, d / 2
    out = []
    for ax, ay, dx, dy, z in (
        (0, 0, 0, 0, 0),
        (28, 0, -150, 0, 120),
        (-25, 8, 150, 0, 160),
        (6, 28, 0, -60, 140),
        (-8, -30, 0, 60, 180),
    ):
        r, _ = cv2.Rodrigues(np.radians([ax, ay, 0.0]))
        centre = np.array([bw / 2 - spec.drawing_offset_mm, bh / 2 - spec.drawing_offset_mm, 0.0])
        t = np.array([cx + dx, cy + dy, z]) - r @ centre
        out.append(BoardPose(tuple(cv2.Rodrigues(r)[0].ravel()), tuple(t)))  # type: ignore[arg-type]
    return out


class BoardRenderer:
    """Draws the printed board at a pose into camera frames of the virtual bench."""

    def __init__(self, bench: VirtualBench, spec: BoardSpec, pose: BoardPose):
        self.bench, self.spec, self.pose = bench, spec, pose
        img = spec.draw(BOARD_PX_PER_MM, PAPER_MARGIN_MM).astype(np.float32) / 255.0
        self.print_img = 0.04 + 0.86 * img  # printed black is not black, paper not perfectly white
        self._geometry: tuple[Pinhole, Pinhole] | None = None

    def _maps(self) -> None:
        cam, proj = self.bench.cam, self.bench.proj
        if self._geometry == (cam, proj):
            return
        w, h = cam.size
        u, v = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        pts = np.stack([u, v], axis=-1).reshape(-1, 1, 2)
        crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 20, 1e-7)
        norm = cv2.undistortPointsIter(  # type: ignore[call-overload]
            pts, cam.camera_matrix, np.asarray(cam.dist), None, None, crit
        ).reshape(-1, 2)
        rays = np.column_stack([norm, np.ones(len(norm))]) @ cam.rotation
        c = np.asarray(cam.position, np.float64)
        rb, _ = cv2.Rodrigues(np.asarray(self.pose.rvec, np.float64))
        p0 = np.asarray(self.pose.tvec, np.float64)
        n = rb[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            s = (n @ (p0 - c)) / (rays @ n)
        s = np.where(np.isfinite(s) & (s > 0), s, np.nan)
        x3 = c + s[:, None] * rays
        local = (x3 - p0) @ rb  # board mm (x, y, ~0)
        off = PAPER_MARGIN_MM + self.spec.drawing_offset_mm
        mx = ((local[:, 0] + off) * BOARD_PX_PER_MM - 0.5).reshape(h, w).astype(np.float32)
        my = ((local[:, 1] + off) * BOARD_PX_PER_MM - 0.5).reshape(h, w).astype(np.float32)
        mx[np.isnan(mx)] = -1e4
        my[np.isnan(my)] = -1e4
        self._bmap = (mx, my)
        pp = proj.project(np.nan_to_num(x3, nan=-1e6))
        self._pmap = (pp[:, 0].reshape(h, w).astype(np.float32), pp[:, 1].reshape(h, w).astype(np.float32))
        ones = np.ones(self.print_img.shape, np.float32)
        cover = cv2.remap(ones, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # type: ignore[call-overload]
        ys, xs = np.nonzero(cover > 0)
        if len(xs) == 0:
            self._roi = (slice(0, 0), slice(0, 0))
        else:
            pad = 8
            self._roi = (
                slice(max(ys.min() - pad, 0), ys.max() + pad + 1),
                slice(max(xs.min() - pad, 0), xs.max() + pad + 1),
            )
        roi = self._roi
        self._cover = cover[roi]
        self._albedo = cv2.remap(  # type: ignore[call-overload]
            self.print_img, mx[roi], my[roi], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        self._pmap = (self._pmap[0][roi], self._pmap[1][roi])
        self._geometry = (cam, proj)

    def composite(
        self, frame: np.ndarray, projector_image: np.ndarray | None, rng: np.random.Generator
    ) -> np.ndarray:
        """``frame`` (the bench view) with the board drawn over it, lit by ``projector_image``."""
        self._maps()
        sc = self.bench.scenario
        roi = self._roi
        if projector_image is None:
            plight = np.zeros(self._cover.shape, np.float32)
        else:
            grey = (
                projector_image
                if projector_image.ndim == 2
                else cv2.cvtColor(projector_image, cv2.COLOR_BGR2GRAY)
            )
            plight = cv2.remap(  # type: ignore[call-overload]
                grey.astype(np.float32),
                *self._pmap,
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=0,
            )
        light = sc.lighting.ambient + sc.projector.brightness * (sc.projector.black_level + plight / 255.0)
        value = 255.0 * sc.camera.exposure * self._albedo * light
        if sc.camera.defocus_px > 0:
            value = cv2.GaussianBlur(value, (0, 0), sc.camera.defocus_px)
        sigma = np.sqrt(sc.camera.noise_sigma**2 + sc.camera.shot_noise**2 * np.maximum(value, 0))
        value = value + rng.normal(0.0, 1.0, value.shape).astype(np.float32) * sigma
        a = self._cover[..., None]
        out = frame.copy()
        mixed = frame[roi].astype(np.float32) * (1 - a) + value[..., None] * a
        out[roi] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        return out


class VirtualStation:
    """A virtual bench driven like a real station: ``project(image)`` then ``capture()`` a frame.

    ``prompt(step, message)`` plays the technician: ``board_pose_K`` holds the board in pose K,
    ``clear_bench`` takes it away.
    """

    def __init__(
        self,
        bench: VirtualBench,
        board: BoardSpec | None = None,
        poses: list[BoardPose] | None = None,
        seed: int = 11,
    ):
        self.bench = bench
        self.board = board
        w, d = bench.ins.bench.width_mm, bench.ins.bench.depth_mm
        self.poses = poses if poses is not None else (default_board_poses(board, (w, d)) if board else [])
        self.rng = np.random.default_rng(seed)
        self._image: np.ndarray | None = None
        self._board: BoardRenderer | None = None
        self.captures = 0

    def project(self, image: np.ndarray) -> None:
        pw, ph = self.bench.projector_size
        if image.shape[1] != pw or image.shape[0] != ph:
            raise ValueError(f"projector image is {image.shape[1]}x{image.shape[0]}, the projector {pw}x{ph}")
        self._image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image

    def capture(self) -> np.ndarray:
        self.captures += 1
        frame = self.bench.next_frame(self._image).image
        if self._board is not None:
            frame = self._board.composite(frame, self._image, self.rng)
        return frame

    def prompt(self, step: str, message: str) -> None:
        if step.startswith("board_pose_") and self.board is not None:
            k = int(step.rsplit("_", 1)[1]) - 1
            self._board = BoardRenderer(self.bench, self.board, self.poses[k % len(self.poses)])
        elif step == "clear_bench":
            self._board = None


def board_angle_deg(pose: BoardPose) -> float:
    r, _ = cv2.Rodrigues(np.asarray(pose.rvec, np.float64))
    return math.degrees(math.acos(max(-1.0, min(1.0, float(r[2, 2])))))


def landing_mm(proj: Pinhole, projector_px: np.ndarray, z_mm: float) -> np.ndarray:
    """Where light from the true projector's pixels ``projector_px`` (N×2) lands on the plane z = ``z_mm``."""
    k = proj.camera_matrix
    px = np.asarray(projector_px, np.float64).reshape(-1, 2)
    rays = np.column_stack([(px[:, 0] - k[0, 2]) / k[0, 0], (px[:, 1] - k[1, 2]) / k[1, 1], np.ones(len(px))])
    d = rays @ proj.rotation
    c = np.asarray(proj.position, np.float64)
    s = (z_mm - c[2]) / d[:, 2]
    return c[:2] + s[:, None] * d[:, :2]


def overlay_error_mm(
    cal: Calibration,
    bench: VirtualBench,
    z_mm: float = 0.0,
    full_model: bool = True,
    spacing_mm: float = 25.0,
) -> tuple[float, float]:
    """(RMS, max) distance in mm between where overlays should land at height ``z_mm`` over the whole bench
    and where the true projector puts them, using the full model or the bench homography alone."""
    w, d = cal.bench_size_mm
    g = np.stack(np.meshgrid(np.arange(0.0, w + 1e-6, spacing_mm), np.arange(0.0, d + 1e-6, spacing_mm)), -1)
    pts = g.reshape(-1, 2)
    px = cal.bench_to_projector_at_height(pts, z_mm) if full_model else cal.bench_to_projector(pts)
    err = np.linalg.norm(landing_mm(bench.proj, px, z_mm) - pts, axis=1)
    return float(np.sqrt(np.mean(err**2))), float(err.max())
