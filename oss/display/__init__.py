"""Where projector images go: a pyglet window, nothing, and a side-by-side video recorder."""

from __future__ import annotations

from collections.abc import Mapping

from oss.records import OssError

from .base import Display, KeyPress, NullDisplay, QuitRequest, TextLine, key_event
from .pyglet_display import NO_DISPLAY, PygletDisplay, check_display_available
from .recorder import VideoRecorder

DISPLAY_KINDS = ("window", "none")


def open_display(
    kind: str,
    *,
    screen_index: int = 0,
    fullscreen: bool = True,
    size: tuple[int, int] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Display:
    """``window``: a pyglet window on screen ``screen_index``; ``none``: a NullDisplay.

    Raises OssError when a window is asked for and there is no X display.
    """
    if kind == "none":
        return NullDisplay()
    if kind == "window":
        check_display_available(environ)
        return PygletDisplay(screen_index, fullscreen, size)
    raise OssError(f"unknown display {kind!r}: use one of {', '.join(DISPLAY_KINDS)}")


__all__ = [
    "DISPLAY_KINDS",
    "NO_DISPLAY",
    "Display",
    "KeyPress",
    "NullDisplay",
    "PygletDisplay",
    "QuitRequest",
    "TextLine",
    "VideoRecorder",
    "key_event",
    "open_display",
]
