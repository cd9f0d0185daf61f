"""The supervisor monitor's records, with no pixels and no window: what the station hands it each tick,
the actions it hands back, and what it keeps (recent events, a supervisor call, frames per second).

    station ──MonitorSnapshot──▶ Monitor (view + console) ──SupervisorAction──▶ station
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from oss.calibration.model import Calibration
from oss.instructions.model import GUIDANCE_LEVELS, Instruction
from oss.operator.adaptive import AUTO, LEVEL_SETTINGS
from oss.records import Frame, LogEvent, Observation, Phase, PickSeen, StationState

ACTIONS = ("unlock", "wrong_pin", "lock", "skip", "restart", "level", "answer")
STATION_ACTIONS = ("skip", "restart", "level", "answer")  # what changes the station (the rest is the lock)
LEVEL_MOVES = ("next", "more", "less")
RECENT_EVENTS = 10
PICK_SHOWN_S = 1.5  # a pick stays marked on the camera view this long


@dataclass(frozen=True)
class SupervisorAction:
    """One action at the supervisor monitor; the station logs each as a ``supervisor`` event.

    ``action`` is one of ACTIONS; ``accepted`` False means refused, ``reason`` says why (and why a
    ``lock`` happened: ``escape`` or ``timeout``). For ``level``, ``level`` is a level setting
    (full, reduced, minimal, auto) or a move: ``next`` (full → reduced → minimal → auto → full),
    ``more`` or ``less`` guidance. ``t`` is on the monitor's own clock.
    """

    action: str
    t: float
    accepted: bool = True
    reason: str = ""
    level: str = ""
    who: str = "supervisor"

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown supervisor action {self.action!r}; one of {', '.join(ACTIONS)}")

    @property
    def changes_station(self) -> bool:
        return self.accepted and self.action in STATION_ACTIONS


@dataclass(frozen=True, eq=False)
class MonitorSnapshot:
    """What the station hands the monitor after every tick (cheap: references, no copies)."""

    t: float
    state: StationState
    frame: Frame | None = None  # the camera frame of this tick; None when none came
    obs: Observation | None = None  # the latest observation
    events: tuple[LogEvent, ...] = ()  # logged since the previous snapshot, in order
    operator: str = ""
    signed_in: bool = False
    level: str = ""  # the operator's guidance level ('' with nobody signed in)
    level_mode: str = ""  # auto | fixed
    shown: str = ""  # the level drawn now (full after a mistake or a hesitation)
    stage: int = 0  # hesitation stage 0..4
    expected_bins: tuple[str, ...] = ()


class Monitor(Protocol):
    """What the station needs of a supervisor monitor (``oss.monitor.SupervisorMonitor``, its window)."""

    def attach(
        self, instruction: Instruction, variant: str | None, calibration: Calibration, station_id: str
    ) -> None:
        """The station's instruction and calibration (again after a live reload)."""

    def feed(self, snap: MonitorSnapshot) -> None:
        """After every tick; must be cheap (the monitor redraws only now and then)."""

    def poll_actions(self) -> list[SupervisorAction]:
        """Actions since the last call, oldest first; never blocks."""

    def notify(self, message: str, warning: bool = False) -> None:
        """What the station made of an action (``warning``: refused, e.g. a skip while paused)."""


def step_level(current: str, auto: bool, move: str) -> str:
    """The level setting a supervisor's ``move`` (or a level setting itself) asks for.

    ``current`` is the operator's level now, ``auto`` whether it is automatic. ``next`` cycles the
    settings full → reduced → minimal → auto → full; ``more``/``less`` give one level more or less
    guidance than the level now, fixed (at the end of the range it stays).
    """
    if move in LEVEL_SETTINGS:
        return move
    if move == "next":
        setting = AUTO if auto else current
        return LEVEL_SETTINGS[(LEVEL_SETTINGS.index(setting) + 1) % len(LEVEL_SETTINGS)]
    i = GUIDANCE_LEVELS.index(current) if current in GUIDANCE_LEVELS else 0
    if move == "more":
        return GUIDANCE_LEVELS[max(0, i - 1)]
    if move == "less":
        return GUIDANCE_LEVELS[min(len(GUIDANCE_LEVELS) - 1, i + 1)]
    raise ValueError(f"unknown level move {move!r}; one of {', '.join((*LEVEL_MOVES, *LEVEL_SETTINGS))}")


# --- what the monitor keeps ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SupervisorCall:
    """A supervisor is wanted: the station called (hesitation) or the operator pressed Help."""

    t: float
    step_uid: str
    source: str  # hesitation | the device of the help press | '' (sign-in screen)

    @property
    def stuck(self) -> bool:
        return self.source == "hesitation"


def _num(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def event_line(ev: LogEvent) -> str:
    """One short line per event for the monitor's list: time (UTC), kind, step and what matters."""
    clock = ev.utc[11:19] if len(ev.utc) >= 19 else f"{ev.t:8.1f}"
    g = ev.get
    detail = ""
    if ev.kind == "pick":
        verdict = "wrong" if g("correct") is False else "counted" if g("counted") else "ok"
        detail = f"{g('bin')} {verdict}" + (f" (ignored: {g('ignored')})" if g("ignored") else "")
    elif ev.kind == "error":
        detail = f"cleared by {g('by')}" if g("cleared") else f"wrong pick {g('bin')}"
    elif ev.kind in ("skip", "restart", "back"):
        detail = f"refused: {g('reason')}" if g("refused") else f"by {g('source')}"
    elif ev.kind == "help":
        detail = f"{'on' if g('on') else 'off'} ({g('source')})"
    elif ev.kind == "hesitation":
        detail = f"{g('name')} after {_num(g('idle_s')) or 0:.0f} s"
    elif ev.kind == "level":
        detail = f"{g('level')} ({g('mode')}, {g('reason')})"
    elif ev.kind == "supervisor":
        detail = f"{g('action')} {g('level') or ''} {'ok' if g('accepted') else 'refused'}".replace("  ", " ")
        if g("reason"):
            detail += f": {g('reason')}"
    elif ev.kind == "step_end":
        d = _num(g("duration_s"))
        detail = f"{g('result')} in {d:.1f} s" if d is not None else str(g("result"))
    elif ev.kind == "cycle_end":
        d = _num(g("duration_s"))
        detail = f"unit {ev.cycle} in {d:.0f} s" if d is not None else f"unit {ev.cycle}"
    elif ev.kind == "cycle_start":
        detail = f"unit {ev.cycle}" + (" restarted" if g("restarted") else "")
    elif ev.kind in ("camera", "device"):
        detail = f"{'ok' if g('ok') else 'LOST'} {g('message') or ''}".strip()
    elif ev.kind == "session_start":
        detail = f"operator {g('operator') or '-'}"
    return f"{clock}  {ev.kind:<10} {ev.step_uid}  {detail}".rstrip()


class FpsMeter:
    """Camera frames per second over the last ``window_s`` seconds of the wall clock."""

    def __init__(self, window_s: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s, self.clock = window_s, clock
        self._times: deque[float] = deque()

    def frame(self) -> None:
        now = self.clock()
        self._times.append(now)
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()

    @property
    def fps(self) -> float:
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else 0.0


class MonitorModel:
    """What the monitor remembers between snapshots; ``take(snap)`` is cheap (no drawing)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.events: deque[LogEvent] = deque(maxlen=RECENT_EVENTS)
        self.call: SupervisorCall | None = None
        self.fps = FpsMeter(clock=clock)
        self.snap: MonitorSnapshot | None = None
        self.image_frame: Frame | None = None  # the latest camera frame
        self.picks: deque[tuple[float, PickSeen]] = deque(maxlen=16)  # (snapshot t, pick)

    def take(self, snap: MonitorSnapshot) -> None:
        self.snap = snap
        if snap.frame is not None:
            self.image_frame = snap.frame
            self.fps.frame()
        if snap.obs is not None and snap.frame is not None:
            self.picks.extend((snap.t, p) for p in snap.obs.picks)
        self._follow(snap.events, snap.state)

    def recent_picks(self, t: float) -> list[PickSeen]:
        return [p for tp, p in self.picks if 0.0 <= t - tp <= PICK_SHOWN_S]

    def _follow(self, events: Iterable[LogEvent], state: StationState) -> None:
        for ev in events:
            self.events.append(ev)
            if ev.kind == "help":
                on = bool(ev.get("on"))
                self.call = SupervisorCall(ev.t, ev.step_uid, str(ev.get("source") or "")) if on else None
            elif ev.kind == "session_end":
                self.call = None
        if state.phase is Phase.HELP and self.call is None:  # help on the sign-in screen: no event
            self.call = SupervisorCall(state.t, state.step_uid, "")
        elif state.phase is not Phase.HELP and self.call is not None:
            self.call = None
