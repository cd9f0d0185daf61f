"""Synthetic station for perception unit tests: a flat bench seen through a plain homography.

Camera: 1 px per mm, the operator at the bottom of the image (bench y up), no lens distortion.
Projector: 1280×800, 1 px per mm, offset. Radiometry: black = bench under ambient light, white = plus
the projector's light, with a gentle vignette. The camera's view is albedo × light, plus noise.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from oss.calibration.model import Calibration, Radiometry
from oss.instructions.model import Bench, Fixture, Instruction, Part, Zone
from oss.records import Frame

BENCH = (1200.0, 700.0)
BENCH_ALBEDO = np.array([0.78, 0.8, 0.82], np.float32)
AMBIENT = 90.0  # grey level of the bench under ambient light only
PROJ = 150.0  # grey levels a full-white projection adds
CAM_FROM_BENCH = np.array([[1.0, 0, 40], [0, -1.0, 710], [0, 0, 1]])
PROJ_FROM_BENCH = np.array([[1.0, 0, 40], [0, -1.0, 750], [0, 0, 1]])


def rect(x: float, y: float, w: float, h: float) -> tuple[tuple[float, float], ...]:
    return ((x, y), (x + w, y), (x + w, y + h), (x, y + h))


def instruction() -> Instruction:
    zones = {
        "bin_a": Zone("bin_a", rect(30, 540, 200, 140), is_bin=True, part="a"),
        "bin_b": Zone("bin_b", rect(270, 540, 200, 140), is_bin=True, part="b"),
        "bin_side": Zone("bin_side", rect(30, 230, 130, 120), is_bin=True, part="a"),
        "seat": Zone("seat", rect(40, -10, 200, 120), frame="jig"),
        "pad": Zone("pad", rect(80, 20, 80, 60), frame="jig"),
    }
    from oss.instructions.model import PartAbsent, PartPresent, Pick, Sequence, Step, Text

    steps = (
        Step("one", Text.of(en="one"), Sequence((Pick("bin_a"), PartPresent("seat")))),
        Step("two", Text.of(en="two"), Sequence((Pick("bin_b"), PartPresent("pad")))),
        Step("unload", Text.of(en="unload"), PartAbsent("seat")),
    )
    return Instruction(
        product_id="t",
        product_name=Text.of(en="t"),
        version="1",
        languages=("en",),
        default_language="en",
        bench=Bench(*BENCH),
        fixtures={"jig": Fixture("jig", 7, 40.0, "DICT_4X4_50", 600.0, 250.0, 0.0)},
        parts={"a": Part("a", Text.of(en="a"), bin="bin_a"), "b": Part("b", Text.of(en="b"), bin="bin_b")},
        zones=zones,
        steps=steps,
    )


def calibration(rad_mm_per_px: float = 4.0) -> Calibration:
    w, h = int(BENCH[0] / rad_mm_per_px), int(BENCH[1] / rad_mm_per_px)
    u, v = np.meshgrid(np.linspace(-1, 1, w), np.linspace(-1, 1, h))
    vig = (1.0 - 0.12 * (u**2 + v**2)).astype(np.float32)[..., None]
    black = (AMBIENT * vig * np.ones(3, np.float32)).astype(np.float32)
    white = ((AMBIENT + PROJ) * vig * np.ones(3, np.float32)).astype(np.float32)
    return Calibration(
        camera_size=(1280, 720),
        projector_size=(1280, 800),
        bench_size_mm=BENCH,
        cam_from_bench=CAM_FROM_BENCH.copy(),
        proj_from_bench=PROJ_FROM_BENCH.copy(),
        radiometry=Radiometry(rad_mm_per_px, black, white),
    )


class SyntheticBench:
    """Bench texture at 1 mm/px (rows = bench y) holding relative albedo (1 = bench)."""

    def __init__(self, seed: int = 0) -> None:
        self.albedo = np.ones((int(BENCH[1]), int(BENCH[0]), 3), np.float32)
        self.overlay: list[tuple[np.ndarray, np.ndarray]] = []  # (mask, albedo) drawn on top per frame
        self.rng = np.random.default_rng(seed)
        self.gain = 1.0  # ambient gain (a lamp)
        self.noise = 2.0

    def place(self, poly: list[tuple[float, float]], color: tuple[float, float, float]) -> None:
        """Something permanent on the bench (a part), albedo relative to the bench."""
        cv2.fillPoly(self.albedo, [np.round(np.asarray(poly)).astype(np.int32)], color)

    def place_marker(self, marker_id: int, x: float, y: float, size: float, angle_deg: float = 0.0) -> None:
        """An ArUco marker lying on the bench (seen unmirrored from above), with a white margin."""
        d = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
        n = int(size)
        img = cv2.aruco.generateImageMarker(d, marker_id, n).astype(np.float32) / 255.0
        img = np.asarray(
            cv2.copyMakeBorder(img, n // 4, n // 4, n // 4, n // 4, cv2.BORDER_CONSTANT, value=(1.0,)),
            np.float32,
        )
        img = img[::-1]  # texture rows are bench y (up in the camera): flip so the camera sees it upright
        m = img.shape[0]
        a = np.radians(angle_deg)
        c, s = np.cos(a), np.sin(a)
        # texture px (i, j) → bench: centre + R·((j - m/2 + .5), (i - m/2 + .5)) with rows flipped back
        h = np.array([[c, -s, x], [s, c, y], [0, 0, 1]]) @ np.array(
            [[1, 0, -m / 2 + 0.5], [0, 1, -m / 2 + 0.5], [0, 0, 1]]
        )
        warped = cv2.warpPerspective(
            img, h, (self.albedo.shape[1], self.albedo.shape[0]), flags=cv2.INTER_AREA
        )
        inside = cv2.warpPerspective(np.ones_like(img), h, (self.albedo.shape[1], self.albedo.shape[0])) > 0.5
        for ch in range(3):
            self.albedo[..., ch][inside] = np.clip(warped[inside] * 1.2, 0.05, 1.2)

    def camera_image(
        self,
        projector_image: np.ndarray | None = None,
        arms: list[list[tuple[float, float]]] | None = None,
        arm_color: tuple[float, float, float] = (0.55, 0.65, 0.85),
    ) -> np.ndarray:
        alb = self.albedo.copy()
        for poly in arms or []:
            cv2.fillPoly(alb, [np.round(np.asarray(poly)).astype(np.int32)], arm_color)
        light = np.full(alb.shape, AMBIENT * self.gain, np.float32)
        if projector_image is not None:
            to_proj = PROJ_FROM_BENCH
            p = cv2.warpPerspective(
                projector_image, to_proj, (alb.shape[1], alb.shape[0]), flags=cv2.WARP_INVERSE_MAP
            ).astype(np.float32)
            light = light + PROJ * p / 255.0
        h, w = alb.shape[:2]
        u, v = np.meshgrid(np.linspace(-1, 1, w), np.linspace(-1, 1, h))
        vig = (1.0 - 0.12 * (u**2 + v**2)).astype(np.float32)[..., None]
        bench_view = alb * light * vig
        cam = cv2.warpPerspective(bench_view, CAM_FROM_BENCH, (1280, 720), flags=cv2.INTER_LINEAR)
        cam = cam + self.rng.normal(0, self.noise, cam.shape).astype(np.float32)
        return np.clip(cam, 0, 255).astype(np.uint8)


def arm(x0: float, tip: tuple[float, float], width: float = 70.0) -> list[tuple[float, float]]:
    """An arm entering at (x0, 0) and ending with its fingertips at ``tip`` (a tapered quad)."""
    d = np.array([tip[0] - x0, tip[1] - 0.0])
    d /= np.linalg.norm(d)
    n = np.array([-d[1], d[0]])
    base = np.array([x0, -20.0])
    t = np.array(tip, float)
    pts = [base + n * width / 2, t + n * width / 3, t, t - n * width / 3, base - n * width / 2]
    # round fingertip end: put the tip a little ahead of the two side points
    pts[2] = t
    pts[1] = t - d * 20 + n * width / 3
    pts[3] = t - d * 20 - n * width / 3
    return [(float(p[0]), float(p[1])) for p in pts]


def frame(image: np.ndarray, t: float, index: int) -> Frame:
    return Frame(image=image, t=t, index=index, source="synthetic")


def projector_image(rects: Sequence[tuple[int, int, int, int]] = (), value: int = 255) -> np.ndarray:
    img = np.zeros((800, 1280, 3), np.uint8)
    for x, y, w, h in rects:
        # rects in bench mm → projector px
        p = cv2.perspectiveTransform(
            np.array([[[x, y]], [[x + w, y + h]]], np.float64), PROJ_FROM_BENCH
        ).reshape(-1, 2)
        lo, hi = p.min(axis=0).astype(int), p.max(axis=0).astype(int)
        img[lo[1] : hi[1], lo[0] : hi[0]] = value
    return img
