"""The supervisor monitor: :class:`SupervisorMonitor` keeps the model, the console and the view and draws
at most ``max_hz`` times a second, and never spends more than ``max_share`` of the time drawing (on a
slow or busy computer it draws less often, so the station loop keeps its pace); :class:`MonitorWindow`
shows it in a second pyglet window (not full screen) and takes the supervisor's keys there.

pyglet is imported only when the window opens (see ``oss.display.pyglet_display``).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Self

import numpy as np

from oss.calibration.model import Calibration
from oss.instructions.model import Instruction

from .console import SupervisorConsole
from .model import MonitorModel, MonitorSnapshot, SupervisorAction
from .view import MonitorView

log = logging.getLogger("oss.monitor")

MAX_HZ = 10.0
MAX_SHARE = 0.15  # of the wall time, at most, for drawing and showing the monitor
SIZE = (1280, 720)


class SupervisorMonitor:
    """The monitor without a window (tests, pictures); ``present`` is where a window shows the image."""

    def __init__(
        self,
        console: SupervisorConsole,
        *,
        size: tuple[int, int] = SIZE,
        max_hz: float = MAX_HZ,
        max_share: float = MAX_SHARE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.max_share = max_share
        self.size = size
        self.period = 1.0 / max_hz if max_hz > 0 else 0.0
        self.clock = clock
        self.model = MonitorModel(clock)
        self.view: MonitorView | None = None
        self.image: np.ndarray | None = None  # the image drawn last
        self.draws = 0
        self.draw_ms: deque[float] = deque(maxlen=2000)
        self._actions: list[SupervisorAction] = []
        self._next_draw = -float("inf")

    def attach(
        self, instruction: Instruction, variant: str | None, calibration: Calibration, station_id: str
    ) -> None:
        self.view = MonitorView(instruction, variant, calibration, station_id, self.size)
        self._next_draw = -float("inf")

    def feed(self, snap: MonitorSnapshot) -> None:
        self.model.take(snap)
        if self.view is not None and self.clock() >= self._next_draw - 1e-3:
            self.redraw()

    def redraw(self) -> np.ndarray:
        """Draw the image now (whatever the rate limit) and show it."""
        if self.view is None:
            raise RuntimeError("the monitor has no station attached yet")
        t0, start = time.perf_counter(), self.clock()
        self.image = self.view.render(self.model, self.console.status())
        self.present(self.image)
        spent = time.perf_counter() - t0
        self.draws += 1
        self.draw_ms.append(spent * 1000.0)
        pause = spent / self.max_share - spent if self.max_share > 0 else 0.0
        self._next_draw = start + max(self.period, spent + pause)
        return self.image

    def present(self, image: np.ndarray) -> None:
        """Show ``image`` (a window does; the headless monitor only keeps it in ``image``)."""

    # --- the supervisor's side ---------------------------------------------------------------------
    def press(self, key_name: str) -> None:
        """A key on the monitor, by pyglet's symbol name (``_1``, ``ENTER``, ``S``, ...)."""
        self._actions += self.console.key(key_name)

    def type_keys(self, *names: str) -> None:
        for n in names:
            self.press(n)

    def poll_actions(self) -> list[SupervisorAction]:
        out, self._actions = self._actions + self.console.poll(), []
        for a in out:
            if not a.accepted:
                log.warning("supervisor monitor: %s refused: %s", a.action, a.reason)
        return out

    def notify(self, message: str, warning: bool = False) -> None:
        self.console.say(message, warning)

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MonitorWindow(SupervisorMonitor):
    """The monitor in a pyglet window of its own (``screen_index``; resizable); keys typed there go to
    the console. Closing the window closes only the monitor, never the station."""

    def __init__(
        self,
        console: SupervisorConsole,
        *,
        screen_index: int = 0,
        size: tuple[int, int] = SIZE,
        max_hz: float = MAX_HZ,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(console, size=size, max_hz=max_hz, clock=clock)
        from oss.display.pyglet_display import PygletDisplay

        self.display = PygletDisplay(
            screen_index, fullscreen=False, size=size, caption="OSS supervisor monitor", resizable=True
        )
        from pyglet.window import key

        self._key: Any = key
        self.closed = False
        # on top of the display's own handlers: the projector's keys (Escape = quit) never apply here
        self.display.window.push_handlers(
            on_key_press=self._on_key_press, on_text=lambda text: True, on_close=self._on_close
        )

    @property
    def window(self) -> Any:
        return self.display.window

    def _on_key_press(self, symbol: int, modifiers: int) -> bool:
        self.press(self._key.symbol_string(symbol))
        return True

    def _on_close(self) -> bool:
        log.info("the supervisor monitor window was closed; the station goes on")
        self.close()
        return True

    def present(self, image: np.ndarray) -> None:
        if not self.closed:
            self.display.show(image)

    def poll_actions(self) -> list[SupervisorAction]:
        if not self.closed:
            self.display.window.dispatch_events()
        return super().poll_actions()

    def read_back(self) -> np.ndarray:
        """What the window shows now (BGR, window pixels)."""
        return self.display.read_back()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.display.close()
