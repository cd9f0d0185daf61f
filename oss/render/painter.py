"""Draws overlays and the operator panel onto layers, in bench mm through a Canvas.

The Painter keeps the warped text and image stamps it made, so rebuilding a layer (a new step, a
moved jig) re-blends cached stamps instead of rendering and warping text again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np

from oss.instructions.model import (
    Arrow,
    Highlight,
    ImageOverlay,
    NumberOverlay,
    Outline,
    Overlay,
    RunStep,
    TextOverlay,
)

from . import layout as L
from .canvas import Canvas, Quad, Stamp, arrow_polygon, segment_exit, upright_quad
from .colors import BGR, DIM_WHITE, FILL_LEVEL, parse_color, scaled
from .fonts import CAP_HEIGHT_PER_EM, text_sprite, text_width, wrap
from .scene import Poses, Scene

Pt = tuple[float, float]
STAMP_CACHE = 512
BORDER_MM = 3.0
OUTLINE_MM = 4.0
ARROW_GAP_MM = 8.0
NUMBER_CAP_MM = 30.0
SMALL_ZONE_MM = 40.0
RING_GAP_MM = 10.0


class Painter:
    def __init__(
        self,
        canvas: Canvas,
        scene: Scene,
        layout: L.PanelLayout,
        named: dict[str, BGR] | None = None,
    ) -> None:
        self.canvas = canvas
        self.scene = scene
        self.layout = layout
        self.named = named
        self._stamps: OrderedDict[Hashable, Stamp | None] = OrderedDict()
        self.stamps_made = 0

    # --- stamps -------------------------------------------------------------------------------------
    def _stamp(self, key: Hashable, make: Callable[[], np.ndarray], quad: Quad) -> Stamp | None:
        full = (key, tuple((round(x, 2), round(y, 2)) for x, y in quad))
        if full in self._stamps:
            self._stamps.move_to_end(full)
            return self._stamps[full]
        st = self.canvas.stamp(make(), quad)
        self.stamps_made += 1
        self._stamps[full] = st
        if len(self._stamps) > STAMP_CACHE:
            self._stamps.popitem(last=False)
        return st

    def text(
        self,
        img: np.ndarray,
        text: str,
        em_mm: float,
        color: BGR,
        at: Pt,
        anchor: str = "left",
        weight: str = "regular",
        angle_deg: float = 0.0,
    ) -> float:
        """One line of text with its box's top edge at ``at`` (left/center/right); returns its width in mm.

        ``anchor == "middle"`` centres the box on ``at`` both ways (numbers in zones).
        """
        if not text:
            return 0.0
        ppm = self.canvas.px_per_mm(at)
        em_px = max(6, round(em_mm * ppm))
        sprite = text_sprite(text, em_px, color, weight)
        w_mm, h_mm = sprite.size[0] / ppm, sprite.size[1] / ppm
        dx = {"left": w_mm / 2, "center": 0.0, "right": -w_mm / 2, "middle": 0.0}[anchor]
        dy = 0.0 if anchor == "middle" else -h_mm / 2
        c, s = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
        center = (at[0] + c * dx - s * dy, at[1] + s * dx + c * dy)
        quad = upright_quad(center, (w_mm, h_mm), angle_deg)
        st = self._stamp(("text", text, em_px, color, weight), lambda: sprite.bgra, quad)
        if st is not None:
            st.apply(img)
        return w_mm

    def image(self, img: np.ndarray, name: str, center: Pt, size_mm: float, angle_deg: float = 0.0) -> None:
        """Media file ``name`` centred at ``center``, its longer side ``size_mm`` long."""
        bgra = self.scene.image(name)
        h, w = bgra.shape[:2]
        k = size_mm / max(h, w)
        quad = upright_quad(center, (w * k, h * k), angle_deg)
        st = self._stamp(("image", name), lambda: bgra, quad)
        if st is not None:
            st.apply(img)

    def icon(self, img: np.ndarray, key: str, make: Callable[[], np.ndarray], rect: L.Rect) -> None:
        x0, y0, x1, y1 = rect
        side = min(x1 - x0, y1 - y0)
        quad = upright_quad(((x0 + x1) / 2, (y0 + y1) / 2), (side, side))
        st = self._stamp(("icon", key), make, quad)
        if st is not None:
            st.apply(img)

    def text_block(
        self,
        img: np.ndarray,
        text: str,
        rect: L.Rect,
        em_mm: float,
        color: BGR,
        weight: str = "regular",
        min_em_mm: float = L.MIN_TEXT_EM_MM,
        align: str = "left",
    ) -> None:
        """``text`` wrapped into ``rect``, shrunk from ``em_mm`` down to ``min_em_mm`` until it fits;
        lines start at the rect's left edge (``align="right"``: end at its right edge)."""
        x0, y0, x1, y1 = rect
        ppm = self.canvas.px_per_mm(((x0 + x1) / 2, (y0 + y1) / 2))
        em = em_mm
        while True:
            em_px = max(6, round(em * ppm))
            lines = wrap(text, em_px, (x1 - x0) * ppm, weight)
            line_h = em * L.LINE_SPACING
            if len(lines) * line_h <= (y1 - y0) or em <= min_em_mm:
                break
            em = max(min_em_mm, em - 2.0)
        fit = max(1, int((y1 - y0) // line_h))
        if len(lines) > fit:
            lines = lines[:fit]
            last = lines[-1]
            while last and text_width(last + " …", em_px, weight) > (x1 - x0) * ppm:
                last = last[:-1]
            lines[-1] = last.rstrip() + " …"
        top = (y0 + y1) / 2 + len(lines) * line_h / 2
        for i, line in enumerate(lines):
            at = (x1, top - i * line_h) if align == "right" else (x0, top - i * line_h)
            self.text(img, line, em, color, at, align, weight)

    # --- overlays ------------------------------------------------------------------------------------
    def overlay(
        self, img: np.ndarray, rs: RunStep, o: Overlay, poses: Poses, language: str, fallback: str
    ) -> None:
        sc = self.scene
        named = self.named
        if isinstance(o, Highlight):
            self.highlight(img, sc.zone_mm(o.zone, poses), parse_color(o.color, named))
        elif isinstance(o, Outline):
            self.canvas.polyline(img, sc.zone_mm(o.zone, poses), parse_color(o.color, named), OUTLINE_MM)
        elif isinstance(o, Arrow):
            self.arrow(
                img, sc.zone_mm(o.from_zone, poses), sc.zone_mm(o.to_zone, poses), parse_color(o.color, named)
            )
        elif isinstance(o, NumberOverlay):
            self.number(img, o, rs, poses)
        elif isinstance(o, TextOverlay):
            (at,) = sc.to_bench(o.frame, [o.at], poses)
            em = o.size_mm / CAP_HEIGHT_PER_EM
            self.text(
                img,
                o.text.get(language, fallback),
                em,
                parse_color(o.color, named),
                at,
                "middle",
                "bold",
                sc.frame_angle(o.frame, poses),
            )
        elif isinstance(o, ImageOverlay):
            (at,) = sc.to_bench(o.frame, [o.at], poses)
            self.image(img, o.image, at, o.size_mm, sc.frame_angle(o.frame, poses))

    def highlight(self, img: np.ndarray, pts: list[Pt], color: BGR, level: float = FILL_LEVEL) -> None:
        """A filled zone with a bright border; a small zone (a screw hole) also gets a ring to find it by."""
        self.canvas.fill_poly(img, pts, scaled(color, level))
        self.canvas.polyline(img, pts, color, BORDER_MM)
        a = np.asarray(pts, float)
        span = float(np.max(a.max(axis=0) - a.min(axis=0)))
        if span < SMALL_ZONE_MM:
            c = a.mean(axis=0)
            r = span * 0.75 + RING_GAP_MM
            ang = np.linspace(0.0, 2 * np.pi, 48, endpoint=False)
            self.canvas.polyline(
                img, np.stack([c[0] + r * np.cos(ang), c[1] + r * np.sin(ang)], axis=1), color, BORDER_MM
            )

    def arrow(self, img: np.ndarray, src: list[Pt], dst: list[Pt], color: BGR) -> None:
        a = np.mean(np.asarray(src), axis=0)
        b = np.mean(np.asarray(dst), axis=0)
        length = float(np.hypot(*(b - a)))
        if length < 1.0:
            return
        d = (b - a) / length
        t0 = segment_exit(src, (a[0], a[1]), (b[0], b[1]))
        t1 = 1.0 - segment_exit(dst, (b[0], b[1]), (a[0], a[1]))
        start = a + (b - a) * t0 + d * ARROW_GAP_MM
        end = a + (b - a) * t1 - d * ARROW_GAP_MM
        if float(np.dot(end - start, d)) < 20.0:
            return
        poly = arrow_polygon((start[0], start[1]), (end[0], end[1]))
        if poly:
            self.canvas.fill_poly(img, poly, color)

    def number(self, img: np.ndarray, o: NumberOverlay, rs: RunStep, poses: Poses) -> None:
        """The number inside a large zone, or beside a small one on the side away from the other zones."""
        sc = self.scene
        zone = sc.instruction.zones[o.zone]
        value = rs.repetition if o.value == 0 else o.value
        x0, y0, x1, y1 = zone.bounds()
        cx, cy = zone.center
        gap = RING_GAP_MM + 8.0 + NUMBER_CAP_MM * 0.75
        if min(x1 - x0, y1 - y0) < 2.2 * NUMBER_CAP_MM:
            others = [z.center for z in sc.instruction.zones.values() if z.frame == zone.frame]
            mx, my = np.mean(np.asarray(others), axis=0)
            if abs(cx - mx) >= abs(cy - my):
                cx = x0 - gap if cx < mx else x1 + gap
            else:
                cy = y0 - gap if cy < my else y1 + gap
        (at,) = sc.to_bench(zone.frame, [(cx, cy)], poses)
        em = NUMBER_CAP_MM / CAP_HEIGHT_PER_EM
        self.text(
            img,
            str(value),
            em,
            parse_color(o.color, self.named),
            at,
            "middle",
            "bold",
            sc.frame_angle(zone.frame, poses),
        )

    # --- panel -----------------------------------------------------------------------------------------
    def panel_frame(self, img: np.ndarray, color: BGR | None) -> None:
        if color is not None:
            pts = L.rect_points(self.layout.panel)
            self.canvas.fill_poly(img, pts, scaled(color, 0.22))
            self.canvas.polyline(img, pts, color, 4.0)

    def counter(self, img: np.ndarray, k: int, n: int) -> None:
        x0, y0, x1, y1 = self.layout.counter
        self.text(
            img, f"{k}/{n}", L.COUNTER_EM_MM, DIM_WHITE, ((x0 + x1) / 2, (y0 + y1) / 2), "middle", "bold"
        )

    def bar_track(self, img: np.ndarray, n: int) -> None:
        x0, y0, x1, y1 = self.layout.bar
        self.canvas.fill_poly(img, L.rect_points(self.layout.bar), (55, 55, 55))
        for i in range(1, n):
            x = x0 + (x1 - x0) * i / n
            self.canvas.fill_poly(
                img, [(x - 1.0, y0), (x + 1.0, y0), (x + 1.0, y1), (x - 1.0, y1)], (0, 0, 0)
            )

    def bar_fill(self, img: np.ndarray, fraction: float, color: BGR) -> None:
        x0, y0, x1, y1 = self.layout.bar
        f = min(max(fraction, 0.0), 1.0)
        if f > 0:
            self.canvas.fill_poly(img, L.rect_points((x0, y0, x0 + (x1 - x0) * f, y1)), color)
