"""Drawing in bench millimetres onto a pixel image through a homography (projector or preview).

Shapes are transformed point by point and drawn in target pixels with anti-aliasing and sub-pixel
precision, so lines stay sharp whatever the projector's keystone. Sprites (text, pictograms) are
warped once into small ``Stamp``s that the renderer caches and blends cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .colors import BGR

Pt = tuple[float, float]
Quad = tuple[Pt, Pt, Pt, Pt]  # bench mm: the sprite's top-left, top-right, bottom-right, bottom-left

_SHIFT = 4  # fractional bits for cv2 drawing
_ONE = 1 << _SHIFT


@dataclass(frozen=True, eq=False)
class Stamp:
    """A sprite already warped to target pixels: premultiplied colour and alpha over a small box."""

    x0: int
    y0: int
    color: np.ndarray  # float32 h×w×3, premultiplied by alpha
    alpha: np.ndarray  # float32 h×w×1, 0..1

    def apply(self, img: np.ndarray) -> None:
        h, w = self.alpha.shape[:2]
        roi = img[self.y0 : self.y0 + h, self.x0 : self.x0 + w]
        roi[:] = (roi * (1.0 - self.alpha) + self.color).astype(np.uint8)


class Canvas:
    """A target image (``size`` = width, height px) seen from bench mm through homography ``h``."""

    def __init__(self, h: np.ndarray, size: tuple[int, int]) -> None:
        self.h = np.asarray(h, dtype=np.float64).reshape(3, 3)
        self.size = (int(size[0]), int(size[1]))

    def blank(self) -> np.ndarray:
        return np.zeros((self.size[1], self.size[0], 3), np.uint8)

    def to_px(self, pts_mm: Sequence[Pt] | np.ndarray) -> np.ndarray:
        pts = np.asarray(pts_mm, dtype=np.float64).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(pts, self.h).reshape(-1, 2)

    def px_per_mm(self, at_mm: Pt) -> float:
        """Local scale of the mapping at a bench point (mean of the x and y directions)."""
        x, y = at_mm
        p = self.to_px([(x, y), (x + 1.0, y), (x, y + 1.0)])
        return float((np.hypot(*(p[1] - p[0])) + np.hypot(*(p[2] - p[0]))) / 2.0)

    @staticmethod
    def _fixed(px: np.ndarray) -> np.ndarray:
        return np.round(px * _ONE).astype(np.int32).reshape(-1, 1, 2)

    # --- shapes ---------------------------------------------------------------------------------
    def fill_poly(self, img: np.ndarray, pts_mm: Sequence[Pt] | np.ndarray, color: BGR) -> None:
        cv2.fillPoly(img, [self._fixed(self.to_px(pts_mm))], color, cv2.LINE_AA, _SHIFT)

    def polyline(
        self,
        img: np.ndarray,
        pts_mm: Sequence[Pt] | np.ndarray,
        color: BGR,
        width_mm: float,
        closed: bool = True,
    ) -> None:
        pts = np.asarray(pts_mm, dtype=np.float64).reshape(-1, 2)
        thick = max(1, round(width_mm * self.px_per_mm(tuple(pts.mean(axis=0)))))
        cv2.polylines(img, [self._fixed(self.to_px(pts))], closed, color, thick, cv2.LINE_AA, _SHIFT)

    def fill_dilated(
        self, img: np.ndarray, pts_mm: Sequence[Pt] | np.ndarray, color: BGR, grow_mm: float
    ) -> None:
        """Fill a polygon grown by ``grow_mm`` all round (a round-capped border of twice that width)."""
        pts = np.asarray(pts_mm, dtype=np.float64).reshape(-1, 2)
        if len(pts) == 0:
            return
        px = self._fixed(self.to_px(pts))
        if len(pts) >= 3:
            cv2.fillPoly(img, [px], color, cv2.LINE_8, _SHIFT)
        thick = max(1, round(2 * grow_mm * self.px_per_mm(tuple(pts.mean(axis=0)))))
        cv2.polylines(img, [px], True, color, thick, cv2.LINE_8, _SHIFT)

    # --- sprites ----------------------------------------------------------------------------------
    def stamp(self, bgra: np.ndarray, quad_mm: Quad) -> Stamp | None:
        """Warp a BGRA sprite onto the bench quadrilateral ``quad_mm``; None when it falls off the image."""
        sh, sw = bgra.shape[:2]
        dst = self.to_px(quad_mm).astype(np.float32)
        x0, y0 = np.floor(dst.min(axis=0)).astype(int) - 1
        x1, y1 = np.ceil(dst.max(axis=0)).astype(int) + 2
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, self.size[0]), min(y1, self.size[1])
        if x1 <= x0 or y1 <= y0:
            return None
        src = np.array([[-0.5, -0.5], [sw - 0.5, -0.5], [sw - 0.5, sh - 0.5], [-0.5, sh - 0.5]], np.float32)
        m = cv2.getPerspectiveTransform(src, dst - np.array([x0, y0], np.float32))
        a = bgra[..., 3:4].astype(np.float32) / 255.0
        pre = np.concatenate([bgra[..., :3].astype(np.float32) * a, a * 255.0], axis=2)
        out = cv2.warpPerspective(
            pre,
            m,
            (int(x1 - x0), int(y1 - y0)),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0, 0),
        )
        alpha = np.clip(out[..., 3:4] / 255.0, 0.0, 1.0)
        return Stamp(int(x0), int(y0), out[..., :3], alpha)


def upright_quad(center: Pt, size: tuple[float, float], angle_deg: float = 0.0) -> Quad:
    """The quad of a ``size`` (w, h mm) sprite centred at ``center``, readable from the operator's side.

    The sprite's top edge lies away from the operator (+y); ``angle_deg`` turns it counter-clockwise.
    """
    cx, cy = center
    w, h = size
    c, s = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    corners = [(-w / 2, h / 2), (w / 2, h / 2), (w / 2, -h / 2), (-w / 2, -h / 2)]
    return tuple((cx + c * x - s * y, cy + s * x + c * y) for x, y in corners)  # type: ignore[return-value]


def arrow_polygon(start: Pt, end: Pt, shaft_mm: float = 10.0, head_mm: float = 36.0) -> list[Pt]:
    """An arrow from ``start`` to ``end`` as one polygon in mm (empty when too short to draw)."""
    s, e = np.asarray(start, float), np.asarray(end, float)
    length = float(np.hypot(*(e - s)))
    if length < 1.0:
        return []
    d = (e - s) / length
    n = np.array([-d[1], d[0]])
    head = min(head_mm, 0.6 * length)
    b = e - d * head
    hw, sw = head * 0.55, shaft_mm / 2
    pts = [s + n * sw, b + n * sw, b + n * hw, e, b - n * hw, b - n * sw, s - n * sw]
    return [(float(p[0]), float(p[1])) for p in pts]


def segment_exit(poly: Sequence[Pt], a: Pt, b: Pt) -> float:
    """Largest parameter t in [0, 1] where segment a→b crosses the polygon's border (0 if it does not)."""
    best = 0.0
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    n = len(poly)
    for i in range(n):
        (px, py), (qx, qy) = poly[i], poly[(i + 1) % n]
        ex, ey = qx - px, qy - py
        den = dx * ey - dy * ex
        if abs(den) < 1e-12:
            continue
        t = ((px - ax) * ey - (py - ay) * ex) / den
        u = ((px - ax) * dy - (py - ay) * dx) / den
        if 0.0 <= t <= 1.0 and 0.0 <= u <= 1.0:
            best = max(best, t)
    return best
