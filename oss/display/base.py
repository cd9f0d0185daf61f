"""The Display interface, the keyboard mapping and the display that shows nothing.

A Display shows BGR images (projector pixels) and hands back key presses as ``InputEvent``s with
source ``keyboard``; Escape or closing the window gives a ``QuitRequest``.

Keys: space / right / page down = NEXT, left / backspace / page up = BACK, enter = CONFIRM,
h = HELP, p = PAUSE, shift+s = SKIP (supervisor), escape = quit.

A badge reader is a keyboard that types a code and Enter in one quick burst: the window hands such
a burst on as one ``TextLine`` (and no key presses for its characters).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from oss.records import Button, InputEvent


@dataclass(frozen=True)
class QuitRequest:
    """The person at the keyboard asked to stop the station (Escape, or the window was closed)."""

    t: float
    reason: str = "escape"


@dataclass(frozen=True)
class TextLine:
    """A line typed in one quick burst and ended by Enter: a badge reader's code."""

    text: str
    t: float


KeyPress = InputEvent | QuitRequest | TextLine

KEY_BUTTONS: dict[str, Button] = {
    "SPACE": Button.NEXT,
    "RIGHT": Button.NEXT,
    "PAGEDOWN": Button.NEXT,
    "LEFT": Button.BACK,
    "BACKSPACE": Button.BACK,
    "PAGEUP": Button.BACK,
    "ENTER": Button.CONFIRM,
    "RETURN": Button.CONFIRM,
    "H": Button.HELP,
    "P": Button.PAUSE,
}


def key_event(name: str, shift: bool = False, t: float | None = None) -> KeyPress | None:
    """Translate a key (pyglet's symbol name, e.g. ``SPACE``, ``S``) into what the station does with it."""
    t = time.monotonic() if t is None else t
    key = name.upper()
    if key == "ESCAPE":
        return QuitRequest(t)
    if key == "S" and shift:
        return InputEvent(Button.SKIP, "keyboard", t, device="keyboard", supervisor=True)
    button = KEY_BUTTONS.get(key)
    return InputEvent(button, "keyboard", t, device="keyboard") if button is not None else None


@runtime_checkable
class Display(Protocol):
    """Somewhere the projector image goes."""

    def show(self, image: np.ndarray) -> None:
        """Show a BGR uint8 image, scaled to fill the output."""

    def poll_keys(self) -> list[KeyPress]:
        """Key presses since the last call, oldest first; never blocks."""

    def text_entry(self, on: bool) -> None:
        """While on, every typed character is text: Enter delivers them as one ``TextLine`` however
        slowly they were typed, and printable keys are no buttons (a supervisor types a PIN)."""

    def close(self) -> None:
        """Release the output; calling it twice is harmless."""


class NullDisplay:
    """No output at all (``--display none``): keeps the last image for whoever wants to look at it."""

    def __init__(self) -> None:
        self.last: np.ndarray | None = None
        self.frames = 0
        self.closed = False

    def show(self, image: np.ndarray) -> None:
        self.last = image
        self.frames += 1

    def poll_keys(self) -> list[KeyPress]:
        return []

    def text_entry(self, on: bool) -> None:
        """Nothing to type on."""

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> NullDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
