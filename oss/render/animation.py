"""The guidance animation: a dot running along each arrow of the step, rings pulsing out of its places.

Drawn per frame on top of the cached layer (it moves), only where the guidance level asks for it. One
cycle takes ``PERIOD_S``; the dot eases in and out so the eye can follow it from bin to place.
"""

from __future__ import annotations

import math

import numpy as np

from oss.instructions.model import Arrow, Highlight, NumberOverlay, Outline, Overlay, RunStep

from .canvas import segment_exit
from .colors import BGR, parse_color, scaled
from .painter import ARROW_GAP_MM, Painter
from .scene import Poses

PERIOD_S = 1.6
DOT_MM = 14.0
RING_MM = 24.0  # how far a pulse ring grows beyond its zone
LEVEL = 0.6  # the animation is dimmer than the overlays: it moves, and the camera must not take it for a hand


def circle(center: tuple[float, float], r: float, n: int = 28) -> list[tuple[float, float]]:
    a = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    return [(center[0] + r * math.cos(x), center[1] + r * math.sin(x)) for x in a]


def _grown(pts: list[tuple[float, float]], by: float) -> list[tuple[float, float]]:
    """The polygon scaled about its centre so that its half-size grows by ``by`` mm."""
    a = np.asarray(pts, float)
    c = a.mean(axis=0)
    half = float(np.max(np.abs(a - c))) or 1.0
    k = (half + by) / half
    return [(float(x), float(y)) for x, y in c + (a - c) * k]


def phase_at(t: float) -> float:
    return (t % PERIOD_S) / PERIOD_S


def draw_animation(
    p: Painter,
    img: np.ndarray,
    rs: RunStep,
    overlays: tuple[Overlay, ...],
    poses: Poses,
    t: float,
    named: dict[str, BGR] | None = None,
) -> None:
    """One frame of the animation of step ``rs`` at time ``t`` (seconds)."""
    sc = p.scene
    ph = phase_at(t)
    ease = 0.5 - 0.5 * math.cos(math.pi * ph)
    arrows = [o for o in overlays if isinstance(o, Arrow)]
    targets: dict[str, BGR] = {}
    for o in overlays:
        if isinstance(o, Highlight | Outline | NumberOverlay) and not sc.instruction.zones[o.zone].is_bin:
            targets.setdefault(o.zone, parse_color(o.color, named))
    for a in arrows:
        src_poly, dst_poly = sc.zone_mm(a.from_zone, poses), sc.zone_mm(a.to_zone, poses)
        c0 = np.mean(np.asarray(src_poly), axis=0)
        c1 = np.mean(np.asarray(dst_poly), axis=0)
        length = float(np.hypot(*(c1 - c0)))
        if length < 1.0:
            continue
        d = (c1 - c0) / length
        # the dot runs between the zones' edges, never over the bin itself (as the arrow does)
        t0 = segment_exit(src_poly, (c0[0], c0[1]), (c1[0], c1[1]))
        t1 = 1.0 - segment_exit(dst_poly, (c1[0], c1[1]), (c0[0], c0[1]))
        src = c0 + (c1 - c0) * t0 + d * (ARROW_GAP_MM + DOT_MM)
        dst = c0 + (c1 - c0) * t1 - d * (ARROW_GAP_MM + DOT_MM)
        targets.setdefault(a.to_zone, parse_color(a.color, named))
        color = parse_color(a.color, named)
        for lag, size in ((0.16, 0.55), (0.08, 0.75), (0.0, 1.0)):  # a short trail behind the dot
            e = max(0.0, ease - lag)
            at = (float(src[0] + (dst[0] - src[0]) * e), float(src[1] + (dst[1] - src[1]) * e))
            p.canvas.fill_poly(img, circle(at, DOT_MM * size), scaled(color, LEVEL * size))
    for zone, color in targets.items():
        pts = sc.zone_mm(zone, poses)
        p.canvas.polyline(img, _grown(pts, 6.0 + RING_MM * ph), scaled(color, LEVEL * (1.0 - 0.8 * ph)), 3.0)
