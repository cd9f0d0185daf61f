"""The projector window: pyglet, full screen on a chosen screen, one texture upload per frame.

pyglet is imported only when a window is opened: importing ``pyglet.window`` already needs an X
display, and a headless station (``--display none``) must not need one.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from oss.records import OssError

from .base import KeyPress, QuitRequest, TextLine, key_event

BURST_S = 0.1  # a badge reader types its characters closer together than this
MIN_BADGE_CHARS = 3

NO_DISPLAY = "no X display: use --display none or start Xvfb (e.g. 'Xvfb :99 &' and DISPLAY=:99)"


NO_DISPLAY_FOR_MONITOR = (
    "no X display for the supervisor monitor window; the station runs without it. Leave out --monitor (or "
    "set 'monitor: {enabled: false}' in the station file), or start Xvfb (e.g. 'Xvfb :99 &' and DISPLAY=:99)"
)


def check_display_available(environ: Mapping[str, str] | None = None, *, message: str = NO_DISPLAY) -> None:
    """Raise OssError(``message``) when this is Linux without an X (or Wayland) display to open windows on."""
    env = os.environ if environ is None else environ
    if sys.platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        raise OssError(message)


class PygletDisplay:
    """A pyglet window showing BGR images; ``screen_index`` picks the screen (0 = the first). Not full
    screen, it is ``size`` (default half the screen) and may be ``resizable`` (the image is scaled)."""

    def __init__(
        self,
        screen_index: int = 0,
        fullscreen: bool = True,
        size: tuple[int, int] | None = None,
        *,
        caption: str = "OSS projector",
        vsync: bool = False,
        resizable: bool = False,
    ) -> None:
        check_display_available()
        try:
            import pyglet

            pyglet.options["debug_gl"] = False
            pyglet.options["shadow_window"] = False
            from pyglet import gl
            from pyglet.window import key as pkey
        except Exception as e:  # pyglet raises its own exception types per platform
            raise OssError(f"{NO_DISPLAY} ({e})") from e
        self._pyglet = pyglet
        self._gl = gl
        self._key = pkey
        display = pyglet.display.get_display()
        screens = display.get_screens()
        if not 0 <= screen_index < len(screens):
            listing = ", ".join(f"{i}: {s.width}x{s.height}+{s.x}+{s.y}" for i, s in enumerate(screens))
            raise OssError(
                f"screen {screen_index} does not exist; this display has {listing}. "
                "Choose one of these with --screen."
            )
        screen = screens[screen_index]
        window_cls: Any = pyglet.window.Window  # the platform's concrete window class
        if fullscreen:
            self.window = window_cls(fullscreen=True, screen=screen, vsync=vsync, caption=caption)
        else:
            w, h = size or (screen.width // 2, screen.height // 2)
            self.window = window_cls(
                int(w), int(h), screen=screen, vsync=vsync, caption=caption, resizable=resizable
            )
        self.window.set_mouse_visible(not fullscreen)
        self.window.push_handlers(
            on_key_press=self._on_key_press, on_text=self._on_text, on_close=self._on_close
        )
        self._queue: list[list[Any]] = []  # [event, time, state], see the events section
        self._typed: list[tuple[str, float]] = []  # characters of the current burst
        self._texture: Any = None
        self._sprite: Any = None
        self._closed = False
        self._text_entry = False  # see text_entry
        self.frames = 0

    @property
    def size(self) -> tuple[int, int]:
        """The window's size in pixels (the screen's in full screen)."""
        return (self.window.width, self.window.height)

    # --- events -----------------------------------------------------------------------------------------
    # Key presses queue up in order as [event, time, state]: "ready"; "awaiting" (a printable key whose
    # character has not come yet: without one it is a plain key); "held" (it typed a character: it is
    # delivered BURST_S later unless more characters follow quickly, as from a badge reader).
    def _on_key_press(self, symbol: int, modifiers: int) -> bool:
        now = time.monotonic()
        name = self._key.symbol_string(symbol)
        if name in ("ENTER", "RETURN") and self._burst_ready(now):
            self._drop_typed_keys()
            self._queue.append([TextLine("".join(c for c, _ in self._typed), now), now, "ready"])
            self._typed = []
            return True
        ev = key_event(name, bool(modifiers & self._key.MOD_SHIFT), now)
        if self._text_entry and (len(name) == 1 or name.startswith(("_", "NUM_")) or name == "SPACE"):
            return True  # typed text, not a button (its character comes through _on_text)
        if self._text_entry and name == "BACKSPACE":
            self._typed = self._typed[:-1]
            return True
        if ev is not None:
            printable = len(name) == 1 or name == "SPACE"  # may be part of a badge burst
            self._queue.append([ev, now, "awaiting" if printable else "ready"])
        return True  # handled: Escape must not close the window behind the station's back

    def _on_text(self, text: str) -> bool:
        now = time.monotonic()
        if self._typed and now - self._typed[-1][1] > BURST_S and not self._text_entry:
            self._typed = []
        if text in ("\r", "\n"):
            return True
        if self._typed:  # a second character in quick succession: the keys are a badge burst
            self._drop_typed_keys()
        else:
            for item in self._queue:
                if item[2] == "awaiting":
                    item[2] = "held"
        self._typed.extend((c, now) for c in text)
        return True

    def _drop_typed_keys(self) -> None:
        self._queue = [item for item in self._queue if item[2] == "ready"]

    def text_entry(self, on: bool) -> None:
        if on and not self._text_entry:
            self._typed = []
        self._text_entry = on

    def _burst_ready(self, now: float) -> bool:
        if self._text_entry:
            return True
        return len(self._typed) >= MIN_BADGE_CHARS and now - self._typed[-1][1] <= BURST_S

    def _release(self, now: float) -> list[KeyPress]:
        out: list[KeyPress] = []
        for item in self._queue:
            if item[2] == "awaiting" or (item[2] == "held" and now - item[1] >= BURST_S):
                item[2] = "ready"
        while self._queue and self._queue[0][2] == "ready":
            out.append(self._queue.pop(0)[0])
        return out

    def _on_close(self) -> bool:
        self._queue.append([QuitRequest(time.monotonic(), "window closed"), 0.0, "ready"])
        return True

    def poll_keys(self) -> list[KeyPress]:
        if self._closed:
            return []
        self.window.dispatch_events()
        return self._release(time.monotonic())

    # --- drawing -------------------------------------------------------------------------------------
    def show(self, image: np.ndarray) -> None:
        if self._closed:
            return
        img = np.ascontiguousarray(image[::-1], dtype=np.uint8)  # GL rows run bottom-up
        if img.ndim == 2:
            img = np.ascontiguousarray(np.repeat(img[..., None], 3, axis=2))
        h, w = img.shape[:2]
        self.window.switch_to()
        self.window.dispatch_events()
        if self._texture is None or (self._texture.width, self._texture.height) != (w, h):
            gl = self._gl
            self._texture = self._pyglet.image.Texture.create(
                w, h, min_filter=gl.GL_LINEAR, mag_filter=gl.GL_LINEAR
            )
            self._sprite = self._pyglet.sprite.Sprite(self._texture, 0, 0)
        self._texture.blit_into(
            self._pyglet.image.ImageData(w, h, "BGR", img.tobytes(), pitch=w * 3), 0, 0, 0
        )
        self._draw()
        self.window.flip()
        self.frames += 1

    def _draw(self) -> None:
        self.window.clear()
        if self._sprite is not None:
            self._sprite.update(
                x=0,
                y=0,
                scale_x=self.window.width / self._texture.width,
                scale_y=self.window.height / self._texture.height,
            )
            self._sprite.draw()

    def read_back(self) -> np.ndarray:
        """What the window shows now, as a BGR image (redraws the last frame and reads the colour buffer)."""
        self.window.switch_to()
        self._draw()
        buf = self._pyglet.image.get_buffer_manager().get_color_buffer().get_image_data()
        data = np.frombuffer(buf.get_data("BGR", buf.width * 3), np.uint8).reshape(buf.height, buf.width, 3)
        return np.ascontiguousarray(data[::-1])

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.window.close()

    def __enter__(self) -> PygletDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
