"""Projected tiles to choose from with a touch or the pedal: the sign-in list, the sign-out button.

A :class:`TileScreen` says what to draw; the renderer places the tiles with ``layout.tile_grid`` (the
same rectangles the touch check uses) above the operator panel, which holds the title and hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from . import layout as L
from .colors import BGR, DIM_WHITE, scaled
from .painter import Painter
from .scene import load_bgra


@dataclass(frozen=True)
class Tile:
    label: str
    photo: Path | None = None
    selected: bool = False  # the pedal cursor is here
    progress: float = 0.0  # 0..1 of a touch dwell on it
    face: bool = True  # a photo or initials above the label (a person); False: the label alone, larger


@dataclass(frozen=True)
class TileScreen:
    title: str
    hint: str = ""
    tiles: tuple[Tile, ...] = ()
    message: str = ""  # a line in the status row (an unknown badge, say)
    page: str = ""  # "1/2" when the list has pages


def initials(label: str) -> str:
    words = [w for w in label.replace("-", " ").split() if w]
    return "".join(w[0].upper() for w in words[:2]) or "?"


def _photo(path: Path) -> np.ndarray:
    img = load_bgra(path)
    h, w = img.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    return cv2.resize(img[y0 : y0 + side, x0 : x0 + side], (256, 256), interpolation=cv2.INTER_AREA)


def draw_tile_screen(
    p: Painter,
    img: np.ndarray,
    screen: TileScreen,
    rects: list[L.Rect],
    named: dict[str, BGR],
    text_scale: float = 1.0,
    panel: bool = True,
) -> None:
    """Tiles in ``rects`` (bench mm); with ``panel`` also the title and hint in the operator panel."""
    yellow, white = named["yellow"], named["white"]
    for tile, (x0, y0, x1, y1) in zip(screen.tiles, rects, strict=False):
        pts = L.rect_points((x0, y0, x1, y1))
        p.canvas.fill_poly(img, pts, (40, 40, 40))
        p.canvas.polyline(img, pts, yellow if tile.selected else DIM_WHITE, 8.0 if tile.selected else 3.0)
        if tile.progress > 0:
            w = (x1 - x0) * min(1.0, tile.progress)
            p.canvas.fill_poly(img, L.rect_points((x0, y0, x0 + w, y0 + 12.0)), named["green"])
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        em = min(30.0 * text_scale, (x1 - x0 - 16.0) / max(1, len(tile.label)) / 0.58)
        if not tile.face:
            p.text(img, tile.label, min(1.6 * em, 48.0), white, (cx, cy), "middle", "bold")
            continue
        side = min(y1 - y0 - 60.0, x1 - x0 - 20.0)
        top = y1 - 10.0
        face = (cx - side / 2, top - side, cx + side / 2, top)
        if tile.photo is not None and tile.photo.is_file():
            photo: Path = tile.photo
            p.icon(img, f"photo:{photo}", partial(_photo, photo), face)
        else:
            p.canvas.fill_poly(
                img,
                _circle(((face[0] + face[2]) / 2, (face[1] + face[3]) / 2), side / 2),
                scaled(white, 0.25),
            )
            p.text(
                img,
                initials(tile.label),
                side * 0.45,
                white,
                ((face[0] + face[2]) / 2, (face[1] + face[3]) / 2),
                "middle",
                "bold",
            )
        p.text(img, tile.label, em, white, (cx, y0 + 44.0), "center", "bold")
    if panel:
        lay = p.layout
        p.panel_frame(img, named["blue"])
        text = screen.title + (f"\n{screen.hint}" if screen.hint else "")
        p.text_block(
            img, text, (lay.icon[0], lay.text[1], lay.text[2], lay.text[3]), 40.0 * text_scale, white
        )
        if screen.page:
            x0, y0, x1, y1 = lay.counter
            p.text(img, screen.page, 40.0, DIM_WHITE, ((x0 + x1) / 2, (y0 + y1) / 2), "middle", "bold")
    if screen.message:
        x0, _, _, y1 = p.layout.status
        p.text(img, screen.message, L.STATUS_EM_MM, named["orange"], (x0, y1), "left", "bold")


def _circle(c: tuple[float, float], r: float) -> list[tuple[float, float]]:
    a = np.linspace(0.0, 2 * np.pi, 32, endpoint=False)
    return [(c[0] + r * float(np.cos(x)), c[1] + r * float(np.sin(x))) for x in a]
