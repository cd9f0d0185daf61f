"""Projector frame composition: overlays in bench mm mapped to projector pixels (numpy/OpenCV only)."""

from __future__ import annotations

from .pictograms import MEDIA_NAMES, pictogram, write_pictograms
from .renderer import Renderer

__all__ = ["MEDIA_NAMES", "Renderer", "pictogram", "write_pictograms"]
