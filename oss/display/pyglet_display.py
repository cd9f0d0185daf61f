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

from .base import KeyPress, QuitRequest, key_event

NO_DISPLAY = "no X display: use --display none or start Xvfb (e.g. 'Xvfb :99 &' and DISPLAY=:99)"


def check_display_available(environ: Mapping[str, str] | None = None) -> None:
    """Raise OssError when this is Linux without an X (or Wayland) display to open windows on."""
    env = os.environ if environ is None else environ
    if sys.platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        raise OssError(NO_DISPLAY)


class PygletDisplay:
    """A pyglet window showing BGR images; ``screen_index`` picks the screen (0 = the first)."""

    def __init__(
        self,
        screen_index: int = 0,
        fullscreen: bool = True,
        size: tuple[int, int] | None = None,
        *,
        caption: str = "OSS projector",
        vsync: bool = False,
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
            self.window = window_cls(int(w), int(h), screen=screen, vsync=vsync, caption=caption)
        self.window.set_mouse_visible(not fullscreen)
        self.window.push_handlers(on_key_press=self._on_key_press, on_close=self._on_close)
        self._events: list[KeyPress] = []
        self._texture: Any = None
        self._sprite: Any = None
        self._closed = False
        self.frames = 0

    @property
    def size(self) -> tuple[int, int]:
        """The window's size in pixels (the screen's in full screen)."""
        return (self.window.width, self.window.height)

    # --- events -----------------------------------------------------------------------------------------
    def _on_key_press(self, symbol: int, modifiers: int) -> bool:
        ev = key_event(
            self._key.symbol_string(symbol), bool(modifiers & self._key.MOD_SHIFT), time.monotonic()
        )
        if ev is not None:
            self._events.append(ev)
        return True  # handled: Escape must not close the window behind the station's back

    def _on_close(self) -> bool:
        self._events.append(QuitRequest(time.monotonic(), "window closed"))
        return True

    def poll_keys(self) -> list[KeyPress]:
        if self._closed:
            return []
        self.window.dispatch_events()
        out, self._events = self._events, []
        return out

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
