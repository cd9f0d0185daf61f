"""What lies on the bench, drawn top-down as an albedo image (uint8 BGR, 255 = white) in bench mm.

The image covers the bench plus a margin of floor. Pixel (u, v) shows bench point
``(x0 + (u + 0.5)·mm_per_px, y0 + (v + 0.5)·mm_per_px)``; rows grow with bench y.
Bins with their parts and the jig with its ArUco marker form the base layer, built once per jig pose;
parts placed on the bench are drawn over it whenever the scene changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from oss.instructions.model import BENCH_FRAME, Instruction, Zone

Pose = tuple[float, float, float]  # x mm, y mm, angle deg
BGR = tuple[int, int, int]


def hex_bgr(color: str | None, default: BGR = (128, 128, 128)) -> BGR:
    if not color or len(color) != 7 or not color.startswith("#"):
        return default
    return (int(color[5:7], 16), int(color[3:5], 16), int(color[1:3], 16))


@dataclass(frozen=True)
class Placed:
    """A part lying on the bench: its centre and angle in ``frame`` (bench or a fixture's frame)."""

    part: str
    zone: str
    frame: str
    x: float
    y: float
    angle_deg: float
    size_mm: tuple[float, float]
    color: BGR


BIN_PLASTIC: BGR = (150, 92, 40)  # blue bins
JIG_METAL: BGR = (98, 100, 104)
FLOOR: BGR = (52, 54, 58)


class BenchScene:
    """Builds albedo images of the bench for given fixture poses and placed parts."""

    def __init__(
        self,
        instruction: Instruction,
        rng: np.random.Generator,
        mm_per_px: float = 0.8,
        margin_mm: float = 260,
    ):
        self.ins = instruction
        self.mm_per_px = mm_per_px
        bw, bd = instruction.bench.width_mm, instruction.bench.depth_mm
        self.x0, self.y0 = -margin_mm, -margin_mm
        self.w = math.ceil((bw + 2 * margin_mm) / mm_per_px)
        self.h = math.ceil((bd + 2 * margin_mm) / mm_per_px)
        self._texture = self._make_texture(rng)
        self._bin_layer = self._texture.copy()
        for zone in instruction.bins.values():
            self._draw_bin(self._bin_layer, zone, rng)
        self._base_key: tuple[tuple[str, Pose], ...] | None = None
        self._base: np.ndarray | None = None
        self._marker_cache: dict[str, np.ndarray] = {}

    # --- coordinates ----------------------------------------------------------------------------
    def to_px(self, pts_mm: np.ndarray) -> np.ndarray:
        p = np.asarray(pts_mm, np.float64).reshape(-1, 2)
        return np.column_stack(
            [(p[:, 0] - self.x0) / self.mm_per_px - 0.5, (p[:, 1] - self.y0) / self.mm_per_px - 0.5]
        )

    def _fill(self, img: np.ndarray, pts_mm: np.ndarray, color: tuple[int, ...]) -> None:
        px = np.round(self.to_px(pts_mm) * 8).astype(np.int32)
        cv2.fillPoly(img, [px], color, cv2.LINE_AA, shift=3)

    def _outline(self, img: np.ndarray, pts_mm: np.ndarray, color: BGR, thick_mm: float) -> None:
        px = np.round(self.to_px(pts_mm) * 8).astype(np.int32)
        t = max(1, round(thick_mm / self.mm_per_px))
        cv2.polylines(img, [px], True, color, t, cv2.LINE_AA, shift=3)

    # --- static layers --------------------------------------------------------------------------
    def _make_texture(self, rng: np.random.Generator) -> np.ndarray:
        bw, bd = self.ins.bench.width_mm, self.ins.bench.depth_mm
        light = self.ins.bench.surface != "dark"
        base = np.array((200, 205, 208) if light else (52, 60, 50), np.float32)
        low = cv2.resize(
            rng.normal(0, 1, (self.h // 40 + 2, self.w // 40 + 2)).astype(np.float32),
            (self.w, self.h),
            interpolation=cv2.INTER_CUBIC,
        )
        grain = rng.normal(0, 1, (self.h, self.w)).astype(np.float32)
        streak = cv2.GaussianBlur(
            rng.normal(0, 1, (self.h, self.w)).astype(np.float32), (0, 0), sigmaX=9, sigmaY=0.8
        )
        var = 0.012 * low + 0.02 * grain + 0.03 * streak
        img = np.clip(base[None, None, :] * (1.0 + var[..., None]), 0, 255).astype(np.uint8)
        floor = np.clip(
            np.array(FLOOR, np.float32)[None, None, :] * (1 + 0.08 * low[..., None]), 0, 255
        ).astype(np.uint8)
        bench = np.zeros((self.h, self.w), np.uint8)
        self._fill(bench, np.array([[0, 0], [bw, 0], [bw, bd], [0, bd]]), (255,))
        out = floor.copy()
        cv2.copyTo(img, bench, out)
        edge = (150, 152, 150) if light else (35, 38, 35)
        self._outline(out, np.array([[0, 0], [bw, 0], [bw, bd], [0, bd]]), edge, 6)
        for _ in range(int(bw * bd / 40000)):  # scratches and marks
            x, y = rng.uniform(0, bw), rng.uniform(0, bd)
            a, ln = rng.uniform(0, math.pi), rng.uniform(10, 60)
            p = np.array([[x, y], [x + ln * math.cos(a), y + ln * math.sin(a)]])
            shade = int(base.mean() * rng.uniform(0.8, 0.93))
            px = np.round(self.to_px(p) * 8).astype(np.int32)
            cv2.line(out, tuple(px[0]), tuple(px[1]), (shade, shade, shade), 1, cv2.LINE_AA, shift=3)
        return out

    def _draw_bin(self, img: np.ndarray, zone: Zone, rng: np.random.Generator) -> None:
        pts = np.asarray(zone.points, np.float64)
        self._fill(img, pts, BIN_PLASTIC)
        x0, y0, x1, y1 = zone.bounds()
        rim = 9.0
        inner = np.array(
            [[x0 + rim, y0 + rim], [x1 - rim, y0 + rim], [x1 - rim, y1 - rim], [x0 + rim, y1 - rim]]
        )
        self._fill(img, inner, tuple(int(c * 0.55) for c in BIN_PLASTIC))  # type: ignore[arg-type]
        part = self.ins.parts.get(zone.part or "")
        if part is None:
            part = next((p for p in self.ins.parts.values() if p.bin == zone.id), None)
        if part is None:
            return
        color = hex_bgr(part.color)
        pw, ph = part.size_mm or (40.0, 25.0)
        iw, ih = (x1 - x0) - 2 * rim - 6, (y1 - y0) - 2 * rim - 6
        scale = min(1.0, 0.9 * iw / pw, 0.9 * ih / ph) if pw > 0 and ph > 0 else 1.0
        pw, ph = pw * scale, ph * scale
        n = int(np.clip(iw * ih / max(pw * ph, 1.0) * 0.45, 1, 120))
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        for i in range(n):
            if n == 1:
                x, y, ang = cx, cy, rng.uniform(-4, 4)
            else:
                x = rng.uniform(x0 + rim + pw / 2, max(x0 + rim + pw / 2, x1 - rim - pw / 2))
                y = rng.uniform(y0 + rim + ph / 2, max(y0 + rim + ph / 2, y1 - rim - ph / 2))
                ang = rng.uniform(0, 180)
            shade = rng.uniform(0.8, 1.05) if i else 1.0
            c = tuple(int(min(255, v * shade)) for v in color)
            self._fill(img, rect(x, y, pw, ph, ang), c)  # type: ignore[arg-type]

    def _marker(self, dictionary: str, marker_id: int) -> np.ndarray:
        key = f"{dictionary}:{marker_id}"
        if key not in self._marker_cache:
            d = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, dictionary))
            cells = d.markerSize + 2
            self._marker_cache[key] = cv2.aruco.generateImageMarker(d, marker_id, cells * 24)
        return self._marker_cache[key]

    def _draw_fixture(self, img: np.ndarray, fid: str, pose: Pose) -> None:
        f = self.ins.fixtures[fid]
        half = f.marker_size_mm / 2
        quiet = half + f.marker_size_mm / 6 + 4
        xs, ys = [-quiet, quiet], [-quiet, quiet]
        for z in self.ins.zones.values():
            if z.frame == fid:
                bx0, by0, bx1, by1 = z.bounds()
                xs += [bx0, bx1]
                ys += [by0, by1]
        m = 18.0
        plate = np.array(
            [
                [min(xs) - m, min(ys) - m],
                [max(xs) + m, min(ys) - m],
                [max(xs) + m, max(ys) + m],
                [min(xs) - m, max(ys) + m],
            ]
        )
        self._fill(img, to_bench(plate, pose), JIG_METAL)
        self._outline(img, to_bench(plate, pose), (70, 72, 75), 4)
        white = np.array([[-quiet, -quiet], [quiet, -quiet], [quiet, quiet], [-quiet, quiet]])
        self._fill(img, to_bench(white, pose), (235, 235, 235))
        # the marker: its image's rows run along the jig's +y axis, columns along +x
        mk = self._marker(f.dictionary, f.marker_id)
        n = mk.shape[0]
        s = f.marker_size_mm / n  # mm per marker pixel
        a = math.radians(pose[2])
        c, sn = math.cos(a), math.sin(a)
        # marker px (i, j) -> fixture (x, y) = (-half + (j + .5) s, half - (i + .5) s): image top = far edge
        fx = np.array([[s, 0, -half + 0.5 * s], [0, -s, half - 0.5 * s], [0, 0, 1]])
        bench = np.array([[c, -sn, pose[0]], [sn, c, pose[1]], [0, 0, 1]])
        r = self.mm_per_px
        to_img = np.array([[1 / r, 0, -self.x0 / r - 0.5], [0, 1 / r, -self.y0 / r - 0.5], [0, 0, 1]])
        aff = (to_img @ bench @ fx)[:2]
        soft = cv2.GaussianBlur(mk, (0, 0), sigmaX=max(0.5, 0.5 * r / s))
        val = cv2.warpAffine(soft, aff, (self.w, self.h), flags=cv2.INTER_LINEAR, borderValue=(0,))
        mask = cv2.warpAffine(
            np.full_like(mk, 255), aff, (self.w, self.h), flags=cv2.INTER_LINEAR, borderValue=(0,)
        )
        lo, hi = 22.0, 235.0
        val3 = lo + val.astype(np.float32) * (hi - lo) / 255.0
        alpha = mask.astype(np.float32)[..., None] / 255.0
        ys_, xs_ = np.nonzero(mask)
        if len(ys_):
            sl = (slice(ys_.min(), ys_.max() + 1), slice(xs_.min(), xs_.max() + 1))
            roi = img[sl].astype(np.float32)
            img[sl] = np.clip(roi * (1 - alpha[sl]) + val3[sl][..., None] * alpha[sl], 0, 255).astype(
                np.uint8
            )

    def base(self, poses: dict[str, Pose]) -> np.ndarray:
        key = tuple(sorted(poses.items()))
        if self._base is None or key != self._base_key:
            img = self._bin_layer.copy()
            for fid, pose in sorted(poses.items()):
                self._draw_fixture(img, fid, pose)
            self._base, self._base_key = img, key
        return self._base

    def render(self, poses: dict[str, Pose], placed: list[Placed]) -> np.ndarray:
        """The albedo image for these fixture poses and placed parts (a new array)."""
        img = self.base(poses).copy()
        for p in placed:
            x, y, ang = placed_in_bench(p, poses)
            pts = rect(x, y, p.size_mm[0], p.size_mm[1], ang)
            self._fill(img, pts, p.color)
            edge = tuple(int(c * 0.7) for c in p.color)
            self._outline(img, pts, edge, 2.0)  # type: ignore[arg-type]
        return img


def rect(cx: float, cy: float, w: float, h: float, angle_deg: float) -> np.ndarray:
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    return corners @ np.array([[c, s], [-s, c]]) + np.array([cx, cy])


def to_bench(pts: np.ndarray, pose: Pose) -> np.ndarray:
    a = math.radians(pose[2])
    c, s = math.cos(a), math.sin(a)
    p = np.asarray(pts, np.float64).reshape(-1, 2)
    return p @ np.array([[c, s], [-s, c]]) + np.array([pose[0], pose[1]])


def placed_in_bench(p: Placed, poses: dict[str, Pose]) -> Pose:
    if p.frame == BENCH_FRAME or p.frame not in poses:
        return (p.x, p.y, p.angle_deg)
    pose = poses[p.frame]
    x, y = to_bench(np.array([[p.x, p.y]]), pose)[0]
    return (float(x), float(y), p.angle_deg + pose[2])


def zone_polygon(zone: Zone, poses: dict[str, Pose]) -> np.ndarray:
    """The zone's corners in bench mm at the fixtures' current poses."""
    pts = np.asarray(zone.points, np.float64)
    if zone.frame != BENCH_FRAME and zone.frame in poses:
        return to_bench(pts, poses[zone.frame])
    return pts
