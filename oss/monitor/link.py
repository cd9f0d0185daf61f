"""The station's side of the supervisor monitor (``StationParts.monitor``).

Each tick the station calls ``act`` after reading its inputs (the monitor's actions become log events
and reach the operator's session) and ``feed`` after showing the projector image (a snapshot for the
monitor, which redraws at most ten times a second). Every action is logged as a ``supervisor`` event
(who, what, accepted or why not) in the operator's session, followed by what the session made of it:

    skip     InputEvent(SKIP, source "monitor", supervisor=True) → the engine's ``skip`` (+ step_end ...)
    restart  OperatorSession.restart_unit → ``restart`` and a new ``cycle_start`` of the same unit
    level    OperatorSession.set_level → ``level`` with reason ``set by supervisor``
    answer   while a supervisor is called: InputEvent(HELP, source "monitor") → ``help`` off

With nobody signed in there is no session to log in: the action goes to the station's messages and
actions that change the station are refused.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import TYPE_CHECKING

from oss.calibration.model import Calibration
from oss.engine.events import EventMaker, Value
from oss.instructions.model import Instruction
from oss.operator.adaptive import AUTO
from oss.records import Button, Frame, InputEvent, LogEvent, Observation, Phase, StationState

from .model import Monitor, MonitorSnapshot, SupervisorAction, step_level

if TYPE_CHECKING:
    from oss.operator.session import OperatorSession

log = logging.getLogger("oss.monitor")

SOURCE = "monitor"


class MonitorLink:
    """Connects one station to its monitor; ``tick_ms`` holds what the monitor cost each tick."""

    def __init__(
        self,
        monitor: Monitor,
        instruction: Instruction,
        variant: str | None,
        calibration: Calibration,
        station_id: str,
    ) -> None:
        self.monitor = monitor
        self._attached = (instruction, variant, station_id)
        monitor.attach(instruction, variant, calibration, station_id)
        self._events: list[LogEvent] = []
        self._maker = EventMaker()
        self._spent = 0.0
        self.tick_ms: deque[float] = deque(maxlen=100_000)

    def follow(self, calibration: Calibration) -> None:
        """The camera's view of the bench moved and perception re-aligned it (a knocked camera or bench):
        the monitor draws the zones, hands and picks over the camera image with ``calibration`` from now
        on, so they stay on what they mark."""
        instruction, variant, station_id = self._attached
        self.monitor.attach(instruction, variant, calibration, station_id)

    def logged(self, events: list[LogEvent]) -> None:
        """Events the station just wrote to the log (the monitor lists the recent ones)."""
        self._events.extend(events)

    # --- actions ------------------------------------------------------------------------------------------
    def act(self, session: OperatorSession | None, t: float) -> list[LogEvent]:
        """The monitor's actions since the last tick, applied; returns the events for the station to log."""
        t0 = time.perf_counter()
        out: list[LogEvent] = []
        for a in self.monitor.poll_actions():
            out += self._apply(a, session, t)
        self._spent += time.perf_counter() - t0
        return out

    def _apply(self, a: SupervisorAction, session: OperatorSession | None, t: float) -> list[LogEvent]:
        if session is None:
            log.info(
                "supervisor monitor: %s (accepted=%s, %s) with nobody signed in",
                a.action,
                a.accepted,
                a.reason,
            )
            if a.changes_station:
                self.monitor.notify("Refused: nobody is signed in.", warning=True)
            return []
        level = a.level
        if a.action == "level" and a.accepted:
            level = step_level(session.level.level, session.level.auto, a.level)
        out = [self._note(a, session, t, level)]
        if not a.changes_station:
            return out
        if a.action == "skip":
            press = InputEvent(Button.SKIP, SOURCE, t, device=SOURCE, supervisor=True)
            events = session.handle_input(press)
            self._tell(events, "skip", "Step skipped.")
        elif a.action == "answer":
            if session.engine.state.phase is not Phase.HELP:
                self.monitor.notify("There is no call to answer.", warning=True)
                return out
            events = session.handle_input(InputEvent(Button.HELP, SOURCE, t, device=SOURCE, supervisor=True))
            self._tell(events, "help", "Call answered: help is off.")
        elif a.action == "restart":
            events = session.restart_unit(t, SOURCE, SOURCE, supervisor=True)
            self._tell(events, "restart", "Unit started over at step 1.")
        else:
            current = AUTO if session.level.auto else session.level.level
            if level == current:
                self.monitor.notify(f"The level is {level} already.")
                return out
            events = session.set_level(level, t, by=a.who)
            self.monitor.notify(f"Level set to {level} ({session.level.level}).")
        return out + events

    def _note(self, a: SupervisorAction, session: OperatorSession, t: float, level: str) -> LogEvent:
        data: dict[str, Value] = {
            "action": a.action,
            "accepted": a.accepted,
            "reason": a.reason or None,
            "who": a.who,
            "source": SOURCE,
            "level": level or None,
        }
        st = session.engine.state
        return self._maker.make("supervisor", t, st.step_uid, session.engine.unit, data)

    def _tell(self, events: list[LogEvent], kind: str, done: str) -> None:
        ev = next((e for e in events if e.kind == kind), None)
        if ev is None:
            self.monitor.notify(
                f"Refused: the station did not take the {kind} (pressed twice?).", warning=True
            )
        elif ev.get("refused"):
            self.monitor.notify(f"Refused by the station: {ev.get('reason')}.", warning=True)
        else:
            self.monitor.notify(done)

    # --- what the monitor shows ---------------------------------------------------------------------------
    def feed(
        self,
        frame: Frame | None,
        obs: Observation | None,
        state: StationState,
        session: OperatorSession | None,
        t: float,
    ) -> None:
        t0 = time.perf_counter()
        events, self._events = tuple(self._events), []
        if session is None:
            snap = MonitorSnapshot(t, state, frame, obs, events)
        else:
            g = session.view()
            snap = MonitorSnapshot(
                t,
                state,
                frame,
                obs,
                events,
                operator=session.operator_id,
                signed_in=True,
                level=session.level.level,
                level_mode=session.level.mode,
                shown=g.shown,
                stage=g.stage,
                expected_bins=session.engine.expected_bins(),
            )
        self.monitor.feed(snap)
        self.tick_ms.append((self._spent + time.perf_counter() - t0) * 1000.0)
        self._spent = 0.0
