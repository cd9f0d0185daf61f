"""The supervisor's keys at the monitor, behind a PIN.

Locked, the monitor only shows. Type the PIN (digits; Backspace deletes one) and Enter: supervisor
actions are open for ``unlock_s`` seconds (2 minutes), then the monitor locks itself again; Escape
locks at once. Unlocked: ``S`` skips the step, ``R`` restarts the unit, ``H`` answers a supervisor call
(turns help off), ``L`` cycles the guidance level (full → reduced → minimal → auto), ``+``/``-`` give
more or less guidance.

A wrong PIN is refused and shown; after ``max_tries`` wrong PINs in a row, PIN entry is blocked for
``block_s`` seconds. Action keys while locked are refused with a message saying how to unlock (or,
with no PIN configured, where to set one). Every outcome is a :class:`SupervisorAction` for the log.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from oss.config import PIN_DIGITS, valid_pin
from oss.records import OssError

from .model import SupervisorAction

UNLOCK_S = 120.0
MAX_TRIES = 3
BLOCK_S = 30.0
MAX_DIGITS = PIN_DIGITS[1]
MESSAGE_S = 8.0  # a message stays on the monitor this long
PIN_ENV = "OSS_SUPERVISOR_PIN"
NO_PIN = (
    "no supervisor PIN is set: add 'monitor: {pin: \"...\"}' to the station file "
    f"or set {PIN_ENV} before 'oss run'"
)
LOCKED = "locked: type the PIN and press Enter"

DIGIT_KEYS = {**{f"_{d}": str(d) for d in range(10)}, **{f"NUM_{d}": str(d) for d in range(10)}}
ENTER_KEYS = ("ENTER", "RETURN", "NUM_ENTER")
ACTION_KEYS: dict[str, tuple[str, str]] = {  # key → (action, level move)
    "S": ("skip", ""),
    "R": ("restart", ""),
    "H": ("answer", ""),
    "L": ("level", "next"),
    "PLUS": ("level", "more"),
    "EQUAL": ("level", "more"),  # the + key without shift
    "NUM_ADD": ("level", "more"),
    "MINUS": ("level", "less"),
    "UNDERSCORE": ("level", "less"),
    "NUM_SUBTRACT": ("level", "less"),
}


def check_pin(pin: str) -> str:
    """A PIN is 4 to 12 digits; raises OssError otherwise."""
    if not valid_pin(pin):
        lo, hi = PIN_DIGITS
        raise OssError(
            f"the supervisor PIN must be {lo} to {hi} digits (0-9); check 'monitor: {{pin: ...}}' "
            f"in the station file or {PIN_ENV}"
        )
    return pin


@dataclass(frozen=True)
class ConsoleStatus:
    """What the monitor shows of the console."""

    unlocked: bool
    remaining_s: float  # of the unlock
    typed: int  # digits typed so far
    message: str  # the latest outcome ('' after MESSAGE_S)
    warning: bool  # the message is a refusal
    has_pin: bool
    blocked_s: float  # PIN entry blocked for this long after too many wrong PINs


class SupervisorConsole:
    """PIN gate and key mapping; ``clock`` is injectable for tests (seconds, monotonic)."""

    def __init__(
        self,
        pin: str | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        unlock_s: float = UNLOCK_S,
        max_tries: int = MAX_TRIES,
        block_s: float = BLOCK_S,
        who: str = "supervisor",
    ) -> None:
        self._pin = check_pin(pin) if pin else None
        self.clock = clock
        self.unlock_s, self.max_tries, self.block_s, self.who = unlock_s, max_tries, block_s, who
        self._typed = ""
        self._until = -1.0  # unlocked until
        self._tries = 0
        self._blocked_until = -1.0
        self._message, self._message_t, self._warning = "", -1e9, False

    @property
    def has_pin(self) -> bool:
        return self._pin is not None

    def unlocked(self) -> bool:
        return self.clock() < self._until

    def status(self) -> ConsoleStatus:
        now = self.clock()
        shown = now - self._message_t <= MESSAGE_S
        return ConsoleStatus(
            unlocked=now < self._until,
            remaining_s=max(0.0, self._until - now),
            typed=len(self._typed),
            message=self._message if shown else "",
            warning=self._warning and shown,
            has_pin=self._pin is not None,
            blocked_s=max(0.0, self._blocked_until - now),
        )

    def say(self, message: str, warning: bool = False) -> None:
        self._message, self._message_t, self._warning = message, self.clock(), warning

    # --- keys -------------------------------------------------------------------------------------------
    def key(self, name: str) -> list[SupervisorAction]:
        """One key press, by pyglet's symbol name (``_4``, ``NUM_4``, ``ENTER``, ``S``, ``PLUS``, ...)."""
        key = name.upper()
        now = self.clock()
        out = self.poll()
        if key in DIGIT_KEYS:
            if now >= self._until and len(self._typed) < MAX_DIGITS:
                self._typed += DIGIT_KEYS[key]
        elif key == "BACKSPACE":
            self._typed = self._typed[:-1]
        elif key in ENTER_KEYS:
            if self._typed:
                out.append(self._submit(now))
        elif key == "ESCAPE":
            self._typed = ""
            if now < self._until:
                self._until = -1.0
                self.say("Locked.")
                out.append(self._act("lock", now, reason="escape"))
        elif key in ACTION_KEYS:
            action, move = ACTION_KEYS[key]
            out.append(self._request(action, move, now))
        return out

    def poll(self) -> list[SupervisorAction]:
        """The lock after the unlock time ran out (once)."""
        now = self.clock()
        if self._until > 0 and now >= self._until:
            self._until = -1.0
            self.say("Locked again after the unlock time.")
            return [self._act("lock", now, reason="timeout")]
        return []

    def _act(
        self, action: str, t: float, accepted: bool = True, reason: str = "", level: str = ""
    ) -> SupervisorAction:
        return SupervisorAction(action, t, accepted, reason, level, self.who)

    def _submit(self, now: float) -> SupervisorAction:
        typed, self._typed = self._typed, ""
        if self._pin is None:
            self.say(f"Refused: {NO_PIN}", warning=True)
            return self._act("unlock", now, False, NO_PIN)
        if now < self._blocked_until:
            reason = f"too many wrong PINs: wait {self._blocked_until - now:.0f} s"
            self.say(f"Refused: {reason}", warning=True)
            return self._act("unlock", now, False, reason)
        if hmac.compare_digest(typed.encode(), self._pin.encode()):
            self._tries, self._until = 0, now + self.unlock_s
            self.say(f"Unlocked for {self.unlock_s / 60:.0f} min.")
            return self._act("unlock", now)
        self._tries += 1
        reason = f"wrong PIN ({self._tries} of {self.max_tries})"
        if self._tries >= self.max_tries:
            self._tries, self._blocked_until = 0, now + self.block_s
            reason += f": PIN entry blocked for {self.block_s:.0f} s"
        self.say(f"Wrong PIN. {reason[0].upper()}{reason[1:]}", warning=True)
        return self._act("wrong_pin", now, False, reason)

    def _request(self, action: str, move: str, now: float) -> SupervisorAction:
        if now < self._until:
            words = {
                "skip": "Skip the step",
                "restart": "Restart the unit",
                "level": f"Level: {move}",
                "answer": "Answer the call",
            }
            self.say(f"{words[action]} ...")
            return self._act(action, now, level=move)
        reason = NO_PIN if self._pin is None else LOCKED
        self.say(f"Refused: {reason}", warning=True)
        return self._act(action, now, False, reason, move)
