"""One operator's session at the station: the step engine set up for them, guidance, level, sound.

The station loop owns one :class:`OperatorSession` per signed-in operator. It wraps the StepEngine
(which knows nothing of people) with what the operator's profile asks for:

* the engine and renderer in the operator's language, text size, palette and working hand;
* the guidance level: fixed by the profile, or automatic from the operator's own log for this
  product (``oss.operator.adaptive``), re-decided after every unit and logged as ``level`` events;
* hesitation help (``oss.engine.guidance``): more guidance, animation, the attention sound, then a
  supervisor call (HELP turned on with source ``hesitation``);
* sounds for a step done, a unit done, an error and attention, and the step text read aloud;
* what a supervisor may do (``oss.monitor``): set the level for the rest of the session
  (``set_level``), start the unit over (``restart_unit``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from oss.calibration.model import Calibration
from oss.engine.config import EngineConfig
from oss.engine.engine import StepEngine
from oss.engine.events import EventMaker, UtcClock, Value
from oss.engine.guidance import GuidanceController, GuidanceUpdate, GuidanceView, HesitationPolicy
from oss.instructions.levels import panel_items
from oss.instructions.model import Instruction
from oss.log.store import EventStore
from oss.operator.adaptive import (
    AUTO,
    LEVEL_SETTINGS,
    AdaptiveLevel,
    LevelChange,
    LevelPolicy,
    history_level,
    unit_outcomes,
)
from oss.operator.profile import OperatorProfile
from oss.operator.sound import SoundPlayer, Speaker
from oss.records import Button, InputEvent, LogEvent, Observation, OssError, StationState
from oss.render.renderer import Renderer

log = logging.getLogger("oss.operator")

MAX_HISTORY_SESSIONS = 50  # the automatic level looks this far back in the operator's log


@dataclass(frozen=True)
class SessionSettings:
    """What the station gives every operator session."""

    instruction: Instruction
    variant: str | None
    calibration: Calibration
    station_id: str = "station-1"
    language: str | None = None  # the station's language, when the profile has none
    max_cycles: int | None = None
    engine_config: EngineConfig | None = None
    hesitation: HesitationPolicy | None = None
    level_policy: LevelPolicy | None = None
    utc_clock: UtcClock | None = None


def level_from_log(
    store: EventStore, operator: str, product: str, policy: LevelPolicy | None = None
) -> tuple[str, list]:
    """The automatic level of ``operator`` for ``product`` and the units since it last changed."""
    sessions = [s for s in store.sessions() if s.operator == operator and s.product_id == product]
    kinds = ("level", "cycle_start", "cycle_end", "step_end", "hesitation")
    chunks = [store.events(s.id, kinds=kinds) for s in sessions[-MAX_HISTORY_SESSIONS:]]
    return history_level(chunks, policy)


class OperatorSession:
    """The engine, guidance and level of one signed-in operator; see the module docstring."""

    def __init__(
        self,
        settings: SessionSettings,
        profile: OperatorProfile,
        store: EventStore,
        *,
        operator_id: str | None = None,
        sounds: SoundPlayer | None = None,
        speaker: Speaker | None = None,
    ) -> None:
        self.settings = s = settings
        self.profile = profile
        self._store = store
        self.operator_id = profile.id if operator_id is None else operator_id
        self.sounds = sounds if profile.sound else None
        self.speaker = speaker if profile.speech else None
        ins = s.instruction
        self.engine = StepEngine(
            ins,
            s.variant,
            station_id=s.station_id,
            operator=self.operator_id,
            debounce=s.engine_config,
            language=profile.language or s.language,
            max_cycles=s.max_cycles,
            utc_clock=s.utc_clock,
        )
        self.language = self.engine.language
        self.renderer = Renderer(
            ins,
            s.calibration,
            s.variant,
            language=self.language,
            text_scale=profile.text_scale,
            palette_name=profile.palette,
            hand=profile.hand,
        )
        if profile.level == AUTO:
            level, since = level_from_log(store, self.operator_id, ins.product_id, s.level_policy)
        else:
            level, since = profile.level, []
        self.level = AdaptiveLevel(
            level, auto=profile.level == AUTO, policy=s.level_policy, since_change=since
        )
        self.guidance = GuidanceController(level, s.hesitation, s.utc_clock)
        self._events = EventMaker(s.utc_clock)
        self.session_id = store.open_session(self.operator_id, ins, s.variant)
        self._unit: list[LogEvent] = []
        self.supervisor_calls: list[tuple[float, str]] = []
        self.notice = ""
        if profile.speech and (speaker is None or not speaker.available):
            self.notice = (
                speaker.message if speaker is not None else "spoken step text is off at this station"
            )

    # --- the engine, with guidance ---------------------------------------------------------------
    @property
    def state(self) -> StationState:
        return self.engine.state

    def view(self) -> GuidanceView:
        return self.guidance.view()

    def start(self, t: float, resume: tuple[int, int] | None = None) -> list[LogEvent]:
        events = self.engine.start(t) if resume is None else self.engine.resume(resume[0], resume[1], t)
        cycle = next((e.cycle for e in events if e.cycle), 1)
        events.append(self._level_event(t, cycle, None))
        return events + self.follow(events, t)

    def handle_input(self, ev: InputEvent) -> list[LogEvent]:
        g = self.guidance.on_input(ev, self.engine.state, self.engine.current_step)
        self._unit += g.events
        events = self.engine.handle_input(ev)
        return events + g.events + self._apply(g, ev.t) + self.follow(events, ev.t)

    def update(self, obs: Observation) -> list[LogEvent]:
        events = self.engine.update(obs)
        return events + self.follow(events, obs.t)

    def tick(self, t: float) -> list[LogEvent]:
        events = self.engine.tick(t)
        return events + self.follow(events, t)

    def stop(self, t: float) -> list[LogEvent]:
        return self.engine.stop(t)

    # --- a supervisor's actions ----------------------------------------------------------------------
    def restart_unit(
        self, t: float, source: str, device: str = "", supervisor: bool = False
    ) -> list[LogEvent]:
        """Start the unit over at its first step (a supervisor only; see ``StepEngine.restart_unit``)."""
        events = self.engine.restart_unit(t, source, device, supervisor)
        return events + self.follow(events, t)

    def set_level(self, level: str, t: float, by: str = "supervisor") -> list[LogEvent]:
        """Set the guidance level for the rest of the session: ``full``, ``reduced`` or ``minimal`` fix
        it (the automatic level stops changing it), ``auto`` goes back to the level from the operator's
        log. Logged as a ``level`` event with reason ``set by <by>``."""
        if level not in LEVEL_SETTINGS:
            raise OssError(f"unknown guidance level {level!r}: use one of {', '.join(LEVEL_SETTINGS)}")
        s, previous = self.settings, self.level.level
        if level == AUTO:
            new, since = level_from_log(
                self._store, self.operator_id, s.instruction.product_id, s.level_policy
            )
            self.level = AdaptiveLevel(new, auto=True, policy=s.level_policy, since_change=since)
        else:
            self.level = AdaptiveLevel(
                level, auto=False, policy=s.level_policy, since_change=self.level.since_change
            )
        self.guidance.set_level(self.level.level)
        log.info(
            "guidance level of %s set by %s: %s -> %s (%s)",
            self.operator_id,
            by,
            previous,
            self.level.level,
            self.level.mode,
        )
        change = LevelChange(previous, self.level.level, f"set by {by}", len(self.level.since_change))
        return [self._level_event(t, max(1, self.engine.unit), change, by=by)]

    # --- reacting to what happened -----------------------------------------------------------------
    def follow(self, events: list[LogEvent], t: float) -> list[LogEvent]:
        """Guidance, level, sounds and speech after the engine's ``events`` of this moment."""
        g = self.guidance.update(t, self.engine.state, self.engine.current_step, events)
        out = list(g.events)
        for ev in events:
            if ev.kind == "cycle_start":
                self._unit = [ev]
            elif ev.kind in ("step_end", "hesitation", "cycle_end"):
                self._unit.append(ev)
            if ev.kind == "cycle_end":
                out += self._unit_done(ev)
        self._unit += [e for e in g.events if e.kind == "hesitation"]
        out += self._apply(g, t)
        if any(ev.kind == "step_start" for ev in events):
            self._speak_step(always=False)
        return out

    def _apply(self, g: GuidanceUpdate, t: float) -> list[LogEvent]:
        out: list[LogEvent] = []
        for name in g.sounds:
            self.play(name)
        if g.full_shown:
            self._speak_step(always=True)
        if g.call_supervisor:
            step = self.engine.state.step_uid
            self.supervisor_calls.append((t, step))
            log.warning("supervisor called: operator %s is stuck at step %s", self.operator_id or "?", step)
            call = InputEvent(Button.HELP, "hesitation", t, device="guidance")
            events = self.engine.handle_input(call)
            out += events
            self.guidance.update(t, self.engine.state, self.engine.current_step, events)
        return out

    def _unit_done(self, end: LogEvent) -> list[LogEvent]:
        outcomes = unit_outcomes(self._unit)
        self._unit = []
        if not outcomes:
            return []
        change = self.level.on_unit(outcomes[-1])
        if change is None:
            return []
        self.guidance.set_level(change.level)
        log.info(
            "guidance level of %s: %s -> %s (%s)",
            self.operator_id,
            change.previous,
            change.level,
            change.reason,
        )
        return [self._level_event(end.t, end.cycle, change)]

    def _level_event(self, t: float, cycle: int, change: LevelChange | None, by: str = "") -> LogEvent:
        data: dict[str, Value] = {
            "operator": self.operator_id,
            "product": self.settings.instruction.product_id,
            "level": change.level if change else self.level.level,
            "previous": change.previous if change else None,
            "mode": self.level.mode,
            "changed": change is not None and change.level != change.previous,
            "reason": change.reason if change else ("from the log" if self.level.auto else "profile"),
            "units": change.units if change else len(self.level.since_change),
        }
        if by:
            data["by"] = by
        return self._events.make("level", t, "", cycle, data)

    # --- sound -------------------------------------------------------------------------------------
    def play(self, name: str) -> None:
        if self.sounds is not None:
            self.sounds.play(name, self.profile.volume)

    def _speak_step(self, always: bool) -> None:
        rs = self.engine.current_step
        if self.speaker is None or rs is None:
            return
        if always or "text" in panel_items(rs.step, self.guidance.shown):
            fallback = self.settings.instruction.default_language
            self.speaker.say(rs.step.text.get(self.language, fallback), self.language, self.profile.volume)


SessionFactory = Callable[[OperatorProfile], OperatorSession]
