"""Text sprites with full Unicode (``één``, ``ß``) from the DejaVu Sans font that matplotlib ships.

OpenCV's ``putText`` only knows ASCII, so text is drawn with Pillow once and kept as BGRA sprites;
the renderer places the cached sprites, never re-rendering text per frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from oss.records import OssError

from .colors import BGR

FONT_FILES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
CAP_HEIGHT_PER_EM = 0.729  # DejaVu Sans: capital letter height / font size


@cache
def font_path(weight: str = "regular") -> Path:
    """The DejaVu Sans font file in matplotlib's data folder (found at run time, never downloaded)."""
    try:
        import matplotlib
    except ImportError as e:  # pragma: no cover - matplotlib comes with mediapipe
        raise OssError(
            "matplotlib is not installed; the projector text needs its DejaVu fonts. "
            "Install the project's dependencies (pip install -e .)."
        ) from e
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / FONT_FILES[weight]
    if not path.is_file():
        raise OssError(f"{path}: font file missing from the matplotlib install. Reinstall matplotlib.")
    return path


@lru_cache(maxsize=64)
def _font(em_px: int, weight: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(weight)), em_px)


@dataclass(frozen=True, eq=False)
class Sprite:
    """A BGRA image whose pixel rows run from the top of the glyphs down, ``baseline`` rows from the top."""

    bgra: np.ndarray
    baseline: int

    @property
    def size(self) -> tuple[int, int]:
        return (self.bgra.shape[1], self.bgra.shape[0])


def text_width(text: str, em_px: int, weight: str = "regular") -> float:
    """Advance width of ``text`` in pixels at font size ``em_px``."""
    return float(_font(max(1, em_px), weight).getlength(text))


@lru_cache(maxsize=512)
def text_sprite(text: str, em_px: int, color: BGR, weight: str = "regular") -> Sprite:
    """``text`` (one line) in ``color`` on a transparent background; the line box is ascent+descent high."""
    font = _font(max(1, em_px), weight)
    ascent, descent = font.getmetrics()
    pad = max(1, em_px // 12)
    width = int(np.ceil(font.getlength(text))) + 2 * pad
    mask = Image.new("L", (max(1, width), ascent + descent + 2 * pad), 0)
    ImageDraw.Draw(mask).text((pad, pad + ascent), text, fill=255, font=font, anchor="ls")
    alpha = np.asarray(mask, dtype=np.uint8)
    bgra = np.empty((*alpha.shape, 4), np.uint8)
    bgra[..., 0], bgra[..., 1], bgra[..., 2] = color
    bgra[..., 3] = alpha
    return Sprite(bgra, pad + ascent)


def wrap(text: str, em_px: int, max_width_px: float, weight: str = "regular") -> list[str]:
    """Greedy word wrap to ``max_width_px``; a single word longer than the width gets its own line."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for word in para.split():
            trial = f"{line} {word}" if line else word
            if line and text_width(trial, em_px, weight) > max_width_px:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return lines
