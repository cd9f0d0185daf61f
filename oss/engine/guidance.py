"""How much guidance the operator sees now, and help when a step stalls. No pixels here.

The operator works at a guidance level (``full``, ``reduced``, ``minimal``; see
``oss.instructions.levels``). On top of it, within one step:

* a mistake (an ``error`` event) shows full guidance for the rest of the step;
* **hesitation**: the step runs well past its expected time without progress. The stages, each
  logged as a ``hesitation`` event, with ``T1 = max(expected_s * factor, expected_s + min_extra_s)``
  seconds without progress (paused time and help time left out)::

      stage 0 ──T1──▶ 1 more: full guidance ──+animation_after_s──▶ 2 animation
              ──+sound_after_s──▶ 3 sound: the attention sound ──+call_after_s──▶ 4 supervisor

  Stage 4 calls a supervisor: the station turns HELP on (``InputEvent(HELP, source="hesitation")``),
  which the stack light shows yellow and the panel as "help is on the way". When the supervisor turns
  help off again, the step goes on at stage 1 with a fresh clock.
* **one press away**: a NEXT/CONFIRM press that the step does not take (the pedal) jumps to stage 2
  (full guidance with animation) at once; a second one calls the supervisor. The HELP button calls
  the supervisor directly (the engine does that).

Progress (the step's condition moving on, a counted pick, an error cleared) restarts the clock; a
new step starts at stage 0.

``hesitation`` event data: stage (1..4), name (more | animation | sound | supervisor), idle_s,
expected_s, source (time | press), level (the operator's), shown (the level shown from now on).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from oss.engine.events import EventMaker, UtcClock, Value
from oss.instructions.levels import FULL, panel_items
from oss.instructions.model import GUIDANCE_LEVELS, Press, RunStep, iter_conditions
from oss.records import Button, InputEvent, LogEvent, OssError, Phase, StationState

STAGES = ("none", "more", "animation", "sound", "supervisor")
MORE, ANIMATION, SOUND, SUPERVISOR = 1, 2, 3, 4
_CLOCKED = (Phase.RUNNING, Phase.ERROR)


@dataclass(frozen=True)
class HesitationPolicy:
    """When a stalled step gets more help. Seconds; see the module docstring."""

    default_expected_s: float = 10.0  # for steps without expected_s
    factor: float = 1.5
    min_extra_s: float = 3.0
    animation_after_s: float = 5.0
    sound_after_s: float = 10.0
    call_after_s: float = 20.0
    press_guard_s: float = 0.5  # a press this soon after the step start was meant for the step before

    def __post_init__(self) -> None:
        gaps = (self.animation_after_s, self.sound_after_s, self.call_after_s)
        if self.factor < 1 or self.min_extra_s < 0 or not 0 <= gaps[0] <= gaps[1] <= gaps[2]:
            raise OssError(
                "HesitationPolicy: factor must be >= 1, min_extra_s >= 0 and "
                "0 <= animation_after_s <= sound_after_s <= call_after_s; fix the station settings"
            )

    def thresholds(self, expected_s: float | None) -> tuple[float, float, float, float]:
        """Seconds without progress at which stages 1..4 begin."""
        e = expected_s if expected_s and expected_s > 0 else self.default_expected_s
        t1 = max(e * self.factor, e + self.min_extra_s)
        return (t1, t1 + self.animation_after_s, t1 + self.sound_after_s, t1 + self.call_after_s)


@dataclass(frozen=True)
class GuidanceView:
    """What the renderer needs to know about guidance now (engine → renderer, beside StationState).

    ``level`` is the operator's level for this product, ``shown`` the level drawn now (full after a
    mistake, a hesitation or during help), ``stage`` the hesitation stage (0..4), ``animate`` whether
    the animation runs, ``help_hint`` whether the panel says how to get help.
    """

    level: str = FULL
    shown: str = FULL
    stage: int = 0
    animate: bool = True
    help_hint: bool = False


@dataclass
class GuidanceUpdate:
    """What one update asks of the station: events to log, sounds to play, a supervisor to call."""

    events: list[LogEvent] = field(default_factory=list)
    sounds: list[str] = field(default_factory=list)
    call_supervisor: bool = False
    full_shown: bool = False  # full guidance appeared for this step now (e.g. read the text aloud)


def takes_press(rs: RunStep, button: Button) -> bool:
    """Whether the step's condition has a ``press`` of this button (or any press, for HELP)."""
    name = button.value
    return any(isinstance(c, Press) and c.button == name for c in iter_conditions(rs.done))


class GuidanceController:
    """Follows the engine's state and events for one operator at ``level``; see the module docstring."""

    def __init__(
        self,
        level: str = FULL,
        policy: HesitationPolicy | None = None,
        utc_clock: UtcClock | None = None,
    ) -> None:
        self.policy = policy or HesitationPolicy()
        self._events = EventMaker(utc_clock)
        self.level = FULL
        self.set_level(level)
        self._rs: RunStep | None = None
        self._cycle = 0
        self._t0 = self._last_t = 0.0
        self._idle = 0.0
        self._stage = 0
        self._errored = False
        self._help = False
        self._progress = 0.0
        self._phase = Phase.WAITING

    def set_level(self, level: str) -> None:
        if level not in GUIDANCE_LEVELS:
            raise OssError(f"unknown guidance level {level!r}: use one of {', '.join(GUIDANCE_LEVELS)}")
        self.level = level

    @property
    def stage(self) -> int:
        return self._stage

    @property
    def shown(self) -> str:
        return FULL if (self._errored or self._stage >= MORE or self._help) else self.level

    def view(self) -> GuidanceView:
        rs = self._rs
        animate = self._stage >= ANIMATION or (
            rs is not None and "animation" in panel_items(rs.step, self.shown)
        )
        return GuidanceView(
            level=self.level,
            shown=self.shown,
            stage=self._stage,
            animate=animate,
            help_hint=MORE <= self._stage < SUPERVISOR and not self._help,
        )

    # --- following the engine -------------------------------------------------------------------
    def update(
        self, t: float, state: StationState, step: RunStep | None, events: list[LogEvent]
    ) -> GuidanceUpdate:
        """Call once per tick after the engine, with its state, current step and the tick's events."""
        out = GuidanceUpdate()
        was_full = self.shown == FULL
        for ev in events:
            self._cycle = ev.cycle or self._cycle
            if ev.kind == "step_start":
                self._begin_step(step, t)
                was_full = self.shown == FULL
            elif ev.kind == "error" and ev.get("cleared") is False:
                self._errored = True
                out.sounds.append("error")
            elif (ev.kind == "error" and ev.get("cleared") is True) or (
                ev.kind == "pick" and ev.get("counted")
            ):
                self._idle = 0.0
            elif ev.kind == "step_end" and ev.get("result") == "done":
                out.sounds.append("step")
            elif ev.kind == "cycle_end":
                out.sounds.append("done")
                self._rs = None
            elif ev.kind == "help":
                self._on_help(bool(ev.get("on")))
        if step is None or state.phase in (Phase.DONE, Phase.FINISHED, Phase.WAITING):
            self._rs = None
        if state.progress > self._progress + 1e-6:
            self._idle = 0.0
        self._progress = state.progress
        dt = max(0.0, t - self._last_t)
        self._last_t = t
        self._phase = state.phase
        if self._rs is not None and state.phase in _CLOCKED:
            self._idle += dt
            stage = sum(1 for th in self.policy.thresholds(self._rs.step.expected_s) if self._idle >= th)
            while self._stage < stage and self._stage < SUPERVISOR:
                self._raise(self._stage + 1, t, "time", out)
        if not was_full and self.shown == FULL and self._rs is not None:
            out.full_shown = True
        return out

    def on_input(self, ev: InputEvent, state: StationState, step: RunStep | None) -> GuidanceUpdate:
        """A press: one the step does not take asks for help (see the module docstring)."""
        out = GuidanceUpdate()
        if (
            ev.button not in (Button.NEXT, Button.CONFIRM)
            or step is None
            or self._rs is None
            or state.phase is not Phase.RUNNING
            or takes_press(step, ev.button)
            or ev.t - self._t0 < self.policy.press_guard_s
        ):
            return out
        was_full = self.shown == FULL
        target = ANIMATION if self._stage < ANIMATION else SUPERVISOR
        while self._stage < target:
            self._raise(self._stage + 1, ev.t, "press", out, sound=target == SUPERVISOR)
        out.full_shown = not was_full
        return out

    # --- internals --------------------------------------------------------------------------------
    def _begin_step(self, step: RunStep | None, t: float) -> None:
        self._rs = step
        self._t0 = self._last_t = t
        self._idle = 0.0
        self._stage = 0
        self._errored = False
        self._progress = 0.0

    def _on_help(self, on: bool) -> None:
        if on:
            self._help = True
            return
        self._help = False
        if self._stage >= MORE and self._rs is not None:
            self._stage = MORE
            self._idle = self.policy.thresholds(self._rs.step.expected_s)[0]

    def _raise(self, stage: int, t: float, source: str, out: GuidanceUpdate, sound: bool = True) -> None:
        self._stage = stage
        rs = self._rs
        data: dict[str, Value] = {
            "stage": stage,
            "name": STAGES[stage],
            "idle_s": self._idle,
            "expected_s": rs.step.expected_s if rs is not None else None,
            "source": source,
            "level": self.level,
            "shown": self.shown,
        }
        out.events.append(self._events.make("hesitation", t, rs.uid if rs else "", self._cycle, data))
        if stage == SOUND and sound:
            out.sounds.append("attention")
        if stage == SUPERVISOR and not self._help:
            out.call_supervisor = True
            if "attention" not in out.sounds:
                out.sounds.append("attention")
