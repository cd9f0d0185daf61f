"""How a station is stopped: by a signal (``systemctl stop`` sends SIGTERM, Ctrl+C SIGINT), or by Escape
in the projector window, which is gated so that a stray key press never ends a session.

Signals::

    with StopSignals() as signals:          # SIGTERM / SIGINT set a request; the loop ends at its next tick
        station.run(stop_when=signals)      # → stopped_by "SIGTERM": session_end, lamps off, summary
    # a second signal while stopping raises KeyboardInterrupt (a stop that hangs can still be forced)

Escape (``projector: {escape: ...}`` in the station file)::

    pin      Escape asks for the supervisor PIN on the projection; the PIN and Enter stop the station,
             Escape again goes back to work; 3 wrong PINs block it for 60 s. Default where a PIN is set.
    confirm  Escape asks "press Escape again to stop"; a second Escape within 5 s stops. Default otherwise.
    ignore   Escape does nothing (a kiosk: stop with systemctl or the supervisor monitor).
    quit     Escape stops at once (a developer's bench).
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Self

from oss.config import ESCAPE_POLICIES

CONFIRM_S = 5.0  # a second Escape within this stops (policy confirm)
PIN_PROMPT_S = 30.0  # the PIN prompt closes by itself after this
PIN_TRIES = 3  # wrong PINs in a row before the prompt is blocked
PIN_BLOCK_S = 60.0


class StopSignals:
    """SIGTERM and SIGINT become a stop request read by the loop (``bool(signals())``).

    Installed only in the main thread (Python delivers signals there); elsewhere it does nothing and
    never requests a stop. The previous handlers are restored on exit."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.requested = ""  # "SIGTERM" / "SIGINT" once asked
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        del frame
        if self.requested:  # asked twice: the stop itself hangs; give up on a clean one
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name

    def __call__(self) -> str:
        return self.requested

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for s, h in self._previous.items():
            signal.signal(s, h)  # type: ignore[arg-type]
        self._previous.clear()


@dataclass(frozen=True)
class GateAnswer:
    """What one Escape or one typed line did: ``stop`` the station; ``notice`` to show (may be "");
    ``log`` the outcome for a ``stop_request`` event ("" when nothing is worth logging)."""

    stop: bool = False
    notice: str = ""
    log: str = ""


class EscapeGate:
    """Decides what Escape (or closing the projector window) does; see the module docstring.

    ``prompting``: the PIN prompt is open, so typed lines are for the gate (the display is asked to
    hand over every typed character as text while it is)."""

    def __init__(self, policy: str, pin: str | None) -> None:
        if policy not in ESCAPE_POLICIES:
            raise ValueError(f"escape policy must be one of {', '.join(ESCAPE_POLICIES)}, not '{policy}'")
        if policy == "pin" and not pin:
            policy = "confirm"  # no PIN to ask for: a second Escape is the next best guard
        self.policy, self._pin = policy, pin
        self._asked_t = -1e9
        self._prompt_until = -1e9
        self._wrong = 0
        self._blocked_until = -1e9

    @staticmethod
    def default_policy(pin: str | None) -> str:
        return "pin" if pin else "confirm"

    def prompting(self, t: float) -> bool:
        return self.policy == "pin" and t < self._prompt_until

    def escape(self, t: float) -> GateAnswer:
        """Escape was pressed (or the window closed) at ``t`` (seconds, the loop's clock)."""
        if self.policy == "quit":
            return GateAnswer(stop=True, log="stopped")
        if self.policy == "ignore":
            return GateAnswer(log="ignored")
        if self.policy == "confirm":
            if t - self._asked_t <= CONFIRM_S:
                return GateAnswer(stop=True, log="stopped")
            self._asked_t = t
            return GateAnswer(notice="STOP? Press Escape again to stop the station", log="asked")
        if t < self._blocked_until:
            return GateAnswer(notice=f"STOP: wait {self._blocked_until - t:.0f} s", log="blocked")
        if self.prompting(t):  # Escape in the prompt: back to work
            self._prompt_until = -1e9
            return GateAnswer(notice="Going on", log="cancelled")
        self._prompt_until = t + PIN_PROMPT_S
        return GateAnswer(notice="STOP? Type the supervisor PIN, then Enter", log="asked")

    def line(self, text: str, t: float) -> GateAnswer:
        """A typed line while the PIN prompt is open."""
        if text.strip() == self._pin:
            self._prompt_until, self._wrong = -1e9, 0
            return GateAnswer(stop=True, log="stopped")
        self._wrong += 1
        if self._wrong >= PIN_TRIES:
            self._wrong, self._prompt_until, self._blocked_until = 0, -1e9, t + PIN_BLOCK_S
            return GateAnswer(notice=f"Wrong PIN {PIN_TRIES} times: wait {PIN_BLOCK_S:.0f} s", log="blocked")
        self._prompt_until = t + PIN_PROMPT_S
        return GateAnswer(notice="Wrong PIN: try again, or Escape to go on working", log="wrong pin")
