"""The project's own pictograms: simple high-contrast line icons drawn with OpenCV.

Each icon is designed on a 256-unit square, drawn 4× supersampled and reduced with area averaging,
and returned as BGRA with a transparent background (white lines, a few colour accents), so it
projects as light on a dark bench. ``tools/make_pictograms.py`` writes them to ``instructions/media``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from oss.records import OssError

_SS = 4  # supersampling
W = (255, 255, 255)
YELLOW = (0, 220, 255)
GREEN = (0, 220, 0)
RED = (0, 0, 255)
BLUE = (255, 140, 40)
ORANGE = (0, 150, 255)
LW = 10  # line width in design units


class _Pen:
    """Draws in 256-unit design coordinates onto a supersampled BGRA image."""

    def __init__(self, size: int) -> None:
        self.s = size * _SS / 256.0
        self.img = np.zeros((size * _SS, size * _SS, 4), np.uint8)

    def _p(self, pts: Sequence[tuple[float, float]]) -> np.ndarray:
        return np.round(np.asarray(pts, float) * self.s).astype(np.int32).reshape(-1, 1, 2)

    def _w(self, width: float) -> int:
        return max(1, round(width * self.s))

    def line(self, a: tuple[float, float], b: tuple[float, float], color=W, width: float = LW) -> None:
        pa, pb = self._p([a, b]).reshape(2, 2)
        cv2.line(
            self.img, tuple(map(int, pa)), tuple(map(int, pb)), (*color, 255), self._w(width), cv2.LINE_AA
        )

    def poly(self, pts, color=W, width: float = LW, closed: bool = True) -> None:
        cv2.polylines(self.img, [self._p(pts)], closed, (*color, 255), self._w(width), cv2.LINE_AA)

    def fill(self, pts, color=W) -> None:
        cv2.fillPoly(self.img, [self._p(pts)], (*color, 255), cv2.LINE_AA)

    def rect(
        self, x0: float, y0: float, x1: float, y1: float, color=W, width: float = LW, filled=False
    ) -> None:
        pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        if filled:
            self.fill(pts, color)
        else:
            self.poly(pts, color, width)

    def circle(self, c: tuple[float, float], r: float, color=W, width: float = LW, filled=False) -> None:
        center = tuple(int(v) for v in self._p([c]).reshape(2))
        thick = -1 if filled else self._w(width)
        cv2.circle(self.img, center, round(r * self.s), (*color, 255), thick, cv2.LINE_AA)

    def arc(self, c, r: float, start: float, end: float, color=W, width: float = LW) -> None:
        ang = np.radians(np.linspace(start, end, 48))
        self.poly([(c[0] + r * np.cos(a), c[1] + r * np.sin(a)) for a in ang], color, width, closed=False)

    def arrow(self, a, b, color=W, width: float = LW, head: float = 28) -> None:
        a_, b_ = np.asarray(a, float), np.asarray(b, float)
        d = (b_ - a_) / max(1e-9, float(np.hypot(*(b_ - a_))))
        n = np.array([-d[1], d[0]])
        base = b_ - d * head
        self.line(tuple(a_), tuple(base + d * 2), color, width)
        self.fill([tuple(b_), tuple(base + n * head * 0.6), tuple(base - n * head * 0.6)], color)

    def text(self, s: str, org, scale: float, color=W, width: float = LW) -> None:
        o = tuple(int(v) for v in self._p([org]).reshape(2))
        cv2.putText(
            self.img,
            s,
            o,
            cv2.FONT_HERSHEY_SIMPLEX,
            scale * self.s / 10,
            (*color, 255),
            self._w(width),
            cv2.LINE_AA,
        )

    def result(self) -> np.ndarray:
        size = self.img.shape[0] // _SS
        small = cv2.resize(self.img, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
        a = small[..., 3:4]
        rgb = np.where(a > 0, small[..., :3] * 255.0 / np.maximum(a, 1e-6), 0.0)
        return np.concatenate([np.clip(rgb, 0, 255), a], axis=2).astype(np.uint8)


def _housing(p: _Pen) -> None:
    p.rect(24, 78, 232, 178)
    p.rect(44, 96, 212, 160, width=6)
    p.rect(232, 116, 246, 140, width=6)
    p.arrow((128, 28), (128, 70), YELLOW)


def _thermal_pad(p: _Pen) -> None:
    p.poly([(48, 60), (208, 60), (208, 160), (168, 200), (48, 200)])
    p.poly([(208, 160), (168, 160), (168, 200)], YELLOW, 8)
    for y in (92, 124, 156):
        p.line((72, y), (150 if y == 156 else 184, y), W, 5)


def _led_module(p: _Pen) -> None:
    p.rect(28, 72, 228, 184)
    for x in (68, 108, 148, 188):
        for y in (104, 152):
            p.circle((x, y), 12, YELLOW, filled=True)
    for x, y in ((40, 60), (216, 60)):
        p.line((x, y), (x, y - 20), YELLOW, 6)


def _screw(p: _Pen) -> None:
    p.rect(86, 40, 170, 70, filled=True)
    p.line((128, 44), (128, 66), (0, 0, 0), 8)
    p.poly([(104, 70), (152, 70), (152, 188), (128, 224), (104, 188)])
    for y in range(88, 190, 22):
        p.line((104, y + 10), (152, y), W, 6)
    p.arc((128, 128), 100, 200, 330, YELLOW, 8)
    p.fill([(222, 94), (236, 130), (200, 118)], YELLOW)


def _driver(p: _Pen) -> None:
    p.rect(48, 80, 208, 176)
    p.line((20, 112), (48, 112), W, 8)
    p.line((20, 144), (48, 144), W, 8)
    p.line((208, 112), (236, 112), W, 8)
    p.line((208, 144), (236, 144), W, 8)
    p.fill([(136, 92), (100, 134), (124, 134), (114, 166), (156, 120), (132, 120), (146, 92)], YELLOW)


def _connect(p: _Pen) -> None:
    p.rect(24, 96, 92, 160)
    p.line((92, 112), (116, 112), W, 8)
    p.line((92, 144), (116, 144), W, 8)
    p.line((4, 128), (24, 128), W, 8)
    p.rect(148, 88, 216, 168)
    p.rect(148, 104, 170, 152, width=6)
    p.line((216, 128), (252, 128), W, 8)
    p.arrow((106, 204), (166, 204), YELLOW, 8, 22)


def _gland(p: _Pen) -> None:
    hexagon = [
        (128 + 84 * np.cos(np.radians(a)), 128 + 84 * np.sin(np.radians(a))) for a in range(0, 360, 60)
    ]
    p.poly(hexagon)
    p.circle((128, 128), 50)
    p.circle((128, 128), 20, YELLOW, filled=True)
    p.arc((128, 128), 112, 200, 320, YELLOW, 8)
    p.fill([(206, 30), (232, 50), (198, 62)], YELLOW)


def _cable(p: _Pen) -> None:
    xs = np.linspace(20, 180, 40)
    p.poly([(x, 150 + 34 * np.sin((x - 20) / 160 * 2 * np.pi)) for x in xs], W, 14, closed=False)
    p.rect(180, 136, 204, 164, filled=True)
    p.line((204, 142), (236, 128), YELLOW, 7)
    p.line((204, 158), (236, 172), BLUE, 7)
    p.arrow((60, 60), (150, 60), YELLOW, 8, 24)


def _lens(p: _Pen) -> None:
    pts = [(40, 64), (216, 64), (232, 80), (232, 176), (216, 192), (40, 192), (24, 176), (24, 80)]
    p.poly(pts)
    p.line((70, 160), (120, 96), BLUE, 8)
    p.line((110, 168), (150, 116), BLUE, 8)
    for x, y in ((40, 80), (216, 80), (216, 176), (40, 176)):
        p.circle((x, y), 6, YELLOW, filled=True)


def _label(p: _Pen) -> None:
    p.rect(32, 68, 224, 188)
    p.line((56, 96), (160, 96), W, 8)
    p.line((56, 124), (136, 124), W, 8)
    for i, x in enumerate(range(56, 200, 9)):
        p.line((x, 148), (x, 172), W, 5 if i % 3 else 3)
    p.circle((196, 108), 14, YELLOW, 6)


def _check(p: _Pen) -> None:
    p.circle((128, 128), 104, GREEN, 12)
    p.poly([(76, 130), (114, 168), (184, 90)], GREEN, 18, closed=False)


def _unload(p: _Pen) -> None:
    p.rect(40, 150, 216, 214)
    p.line((20, 230), (236, 230), W, 6)
    p.arrow((128, 140), (128, 36), YELLOW, 12, 34)
    p.arrow((60, 126), (60, 70), YELLOW, 8, 20)
    p.arrow((196, 126), (196, 70), YELLOW, 8, 20)


def _warning(p: _Pen) -> None:
    p.poly([(128, 24), (236, 220), (20, 220)], RED, 14)
    p.line((128, 88), (128, 160), RED, 18)
    p.circle((128, 192), 11, RED, filled=True)


def _pause(p: _Pen) -> None:
    p.circle((128, 128), 104, ORANGE, 12)
    p.rect(92, 76, 114, 180, ORANGE, filled=True)
    p.rect(142, 76, 164, 180, ORANGE, filled=True)


def _help(p: _Pen) -> None:
    p.circle((128, 128), 104, BLUE, 12)
    p.arc((128, 100), 34, 180, 400, BLUE, 16)
    p.line((154, 122), (128, 142), BLUE, 16)
    p.line((128, 142), (128, 160), BLUE, 16)
    p.circle((128, 190), 10, BLUE, filled=True)


def _camera_lost(p: _Pen) -> None:
    p.rect(40, 88, 200, 196, ORANGE)
    p.rect(90, 64, 150, 88, ORANGE, filled=True)
    p.circle((120, 142), 34, ORANGE)
    p.line((24, 36), (232, 232), RED, 14)


DRAWERS: dict[str, Callable[[_Pen], None]] = {
    "housing": _housing,
    "thermal_pad": _thermal_pad,
    "led_module": _led_module,
    "screw": _screw,
    "driver": _driver,
    "connect": _connect,
    "gland": _gland,
    "cable": _cable,
    "lens": _lens,
    "label": _label,
    "check": _check,
    "unload": _unload,
    # used by the renderer itself (banners), not written to instructions/media
    "warning": _warning,
    "pause": _pause,
    "help": _help,
    "camera_lost": _camera_lost,
}
MEDIA_NAMES = (
    "housing",
    "thermal_pad",
    "led_module",
    "screw",
    "driver",
    "connect",
    "gland",
    "cable",
    "lens",
    "label",
    "check",
    "unload",
)


def pictogram(name: str, size: int = 256) -> np.ndarray:
    """The pictogram ``name`` as a ``size``×``size`` BGRA image on a transparent background."""
    if name not in DRAWERS:
        raise OssError(f"no pictogram named {name!r}; known: {', '.join(sorted(DRAWERS))}")
    pen = _Pen(size)
    DRAWERS[name](pen)
    return pen.result()


def write_pictograms(out_dir: str | Path, size: int = 256, names: Sequence[str] = MEDIA_NAMES) -> list[Path]:
    """Write ``<name>.png`` for each pictogram into ``out_dir``; returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        path = out / f"{name}.png"
        if not cv2.imwrite(str(path), pictogram(name, size)):
            raise OssError(f"{path}: could not write the pictogram (is the folder writable?)")
        written.append(path)
    return written
