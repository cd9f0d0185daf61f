"""The step engine: one instruction variant run unit after unit, from Observations and InputEvents.

It knows nothing of pixels. Feed it ``update(obs)`` every frame, ``handle_input(ev)`` for every
button press and ``tick(t)`` when no frame came; it returns LogEvents and exposes ``state``.

States (``oss.records.Phase``). The main line::

    WAITING ──start()/resume()──▶ RUNNING ──step met──▶ RUNNING (next step; step_done_flash 0.6 s)
                                   │  ▲ │
                wrong pick         │  │ └──last step met──▶ DONE ──1.5 s──▶ RUNNING (next unit, step 1)
                                   ▼  │                        └──1.5 s, max_cycles reached──▶ FINISHED
                                  ERROR  (cleared by: putting it back = the same bin picked again,
                                          a correct pick, NEXT/confirm (acknowledge), BACK, SKIP)
    any ──stop()──▶ FINISHED

Two toggles sit on top of the main line (orthogonal regions of the chart):

    PAUSED  PAUSE toggles it (not in WAITING/FINISHED). Nothing advances: observations are not
            fed, picks are logged and ignored, step and DONE timers stop, NEXT/BACK/SKIP refused.
            On resume every debounce run and dwell starts over.
    HELP    HELP toggles it. Work goes on (a supervisor may do the step); a wrong pick is logged
            but raises no error while the supervisor is there.

``state.phase`` shows FINISHED > HELP > PAUSED > ERROR/DONE/RUNNING/WAITING.

What moves a step, and what never does:
    * the step's condition met (see ``conditions.py``), while RUNNING (not ERROR, not PAUSED);
    * NEXT/confirm only where the condition has a ``press`` of that button, and not within
      ``press_guard_s`` of the step start: the pedal is never a way to skip a step;
      NEXT/confirm in ERROR acknowledges the error, otherwise a press the step does not ask for
      changes nothing and is not logged (there is no event kind for it);
    * HELP toggles help and is also offered to a ``press: help`` in the condition;
    * SKIP only with ``InputEvent.supervisor``; otherwise a ``skip`` event with ``refused``;
    * BACK to the previous step of the unit (refused on the first step and in DONE); the step left
      gets no ``step_end``: only a step done or skipped ends (the log store's resume relies on it).
    * ``restart_unit`` (a supervisor only): the unit starts over at its first step, with a new
      ``cycle_start`` of the same unit number; the step left gets no ``step_end``, and the unit's
      times and counts start again (the attempt given up is in the ``restart`` event).
While in ERROR, frames are not fed: what happened during the mistake must be seen again after it.

Picks, in order of ``t_leave``: the same bin as an outstanding wrong pick puts it back; one the
condition counts is correct; one the step no longer needs from a bin the next step starts with is
kept for the next step (``carry_early_picks``); another from the step's bins (or the rule's
``allowed_bins``) is a correct extra; anything else is a wrong pick: ``error`` and Phase.ERROR.
Picks in DONE wait for the next unit's first step. Every pick is logged.

The ``data`` fields of every event kind are listed in ``oss/engine/events.py``.
"""

from __future__ import annotations

import math

from oss.engine import step_run as sr
from oss.engine.conditions import ConditionTracker
from oss.engine.config import EngineConfig
from oss.engine.events import EventMaker, UtcClock, Value
from oss.engine.step_run import StepRun
from oss.instructions.model import Instruction, RunStep
from oss.records import Button, InputEvent, LogEvent, Observation, OssError, Phase, PickSeen, StationState

_WORKING = (Phase.RUNNING, Phase.ERROR)
_UNIT_KINDS = ("session_start", "session_end", "cycle_start", "cycle_end")


class StepEngine:
    """Runs ``instruction`` for ``variant`` (None: the first variant), unit after unit.

    ``debounce`` holds every timing (see EngineConfig); ``language`` the operator's language
    (default: the instruction's); ``max_cycles`` ends the session (FINISHED) after that unit;
    ``utc_clock`` returns the wall time for log stamps (inject a fixed clock in tests).
    """

    def __init__(
        self,
        instruction: Instruction,
        variant: str | None = None,
        *,
        station_id: str = "",
        operator: str = "",
        debounce: EngineConfig | None = None,
        language: str | None = None,
        max_cycles: int | None = None,
        utc_clock: UtcClock | None = None,
    ) -> None:
        where = instruction.source or instruction.product_id
        try:
            steps = instruction.run_steps(variant)
        except KeyError as err:
            raise OssError(f"{where}: {err.args[0]}; start the station with one of those variants") from None
        if not steps:
            raise OssError(f"{where}: variant {variant!r} has no steps; add steps or choose another variant")
        if max_cycles is not None and max_cycles < 1:
            raise OssError(f"max_cycles must be at least 1 (got {max_cycles}); leave it out for no limit")
        self.instruction = instruction
        self.variant = variant if variant is not None else instruction.default_variant()
        self.station_id, self.operator, self.max_cycles = station_id, operator, max_cycles
        self.config = debounce or EngineConfig()
        self.language = language or instruction.default_language
        self._steps = steps
        self._events = EventMaker(utc_clock)
        self._next_bins: dict[int, dict[str, int]] = {}
        self._base = Phase.WAITING
        self._started = self._stopped = False
        self._paused, self._pause_t0, self._paused_total = False, 0.0, 0.0
        self._help = False
        self._now = self._session_t0 = 0.0
        self._unit = self._completed = self._session_units = 0
        self._idx = -1  # stays on the last step through DONE and FINISHED
        self._run: StepRun | None = None  # None outside RUNNING/ERROR
        self._cycle_t0 = self._cycle_a0 = self._done_a0 = 0.0
        self._cycle_errors = self._cycle_help = self._cycle_skips = 0
        self._flash_until = -math.inf
        self._early: list[PickSeen] = []  # picks kept for the next step (already logged)
        self._deferred: list[PickSeen] = []  # picks seen in DONE, judged when the next unit starts
        self._last_press: dict[Button, float] = {}

    # ------------------------------------------------------------------------------------------
    # Public API

    @property
    def run_steps(self) -> tuple[RunStep, ...]:
        return self._steps

    @property
    def unit(self) -> int:
        """The number of the unit in progress (or just done), 1-based; 0 before the start."""
        return self._unit

    @property
    def current_step(self) -> RunStep | None:
        return self._steps[self._idx] if self._idx >= 0 else None

    def start(self, t: float) -> list[LogEvent]:
        """Begin the session at unit 1, step 0: session_start, cycle_start, step_start."""
        return self._begin(t, unit=1, index=0, resumed=False)

    def resume(self, cycle: int, step_index: int, t: float) -> list[LogEvent]:
        """Begin the session in unit ``cycle`` (1-based) at run step ``step_index`` (after a crash)."""
        if cycle < 1:
            raise OssError(f"resume: cycle must be 1 or more (got {cycle}); use the unit number from the log")
        if not 0 <= step_index < len(self._steps):
            raise OssError(
                f"resume: step {step_index} does not exist; variant {self.variant!r} has steps "
                f"0..{len(self._steps) - 1}; the log may be from another instruction version"
            )
        if self.max_cycles is not None and cycle > self.max_cycles:
            raise OssError(f"resume: unit {cycle} is past max_cycles={self.max_cycles}; start a new batch")
        return self._begin(t, unit=cycle, index=step_index, resumed=True)

    def update(self, obs: Observation) -> list[LogEvent]:
        """One frame of perception. Ignored before start and after stop."""
        if not self._started or self._stopped:
            return []
        out = self._advance(obs.t)
        t = self._now
        picks = sorted(obs.picks, key=lambda p: p.t_leave)
        if self._base is Phase.DONE and not self._paused:
            self._deferred.extend(picks)
            return out
        run = self._run
        if run is None or self._paused:
            reason = "paused" if self._paused else "no step"
            return out + [self._pick_event(p, t, ignored=reason) for p in picks]
        for p in picks:
            out += self._on_pick(run, p, t)
        if self._base is Phase.RUNNING:
            run.tracker.on_frame(obs, self._s(t))
        return out + self._maybe_complete(t)

    def handle_input(self, ev: InputEvent) -> list[LogEvent]:
        """One button press (pedal, keys, touch). Ignored before start and after stop."""
        if not self._started or self._stopped:
            return []
        out = self._advance(ev.t)
        t = self._now
        last = self._last_press.get(ev.button)
        self._last_press[ev.button] = ev.t
        bounce = last is not None and abs(ev.t - last) < self.config.press_debounce_s
        if bounce or self._base is Phase.FINISHED:
            return out
        if ev.button is Button.PAUSE:
            return out + self._toggle_pause(ev, t)
        if ev.button is Button.HELP:
            return out + self._toggle_help(ev, t)
        if ev.button is Button.SKIP:
            return out + self._skip(ev, t)
        if ev.button is Button.BACK:
            return out + self._back(ev, t)
        return out + self._next(ev, t)

    def restart_unit(
        self, t: float, source: str, device: str = "", supervisor: bool = False
    ) -> list[LogEvent]:
        """Start the unit in progress over at its first step; a supervisor's action (``supervisor``),
        refused (and logged) otherwise, and while paused or between units."""
        if not self._started or self._stopped:
            return []
        out = self._advance(t)
        t = self._now
        run = self._working()
        reason = "supervisor only" if not supervisor else "" if run is not None else self._refusal()
        about: dict[str, Value] = {"index": self._idx, "source": source, "device": device}
        if reason or run is None:
            return [*out, self._log("restart", t, **about, refused=True, reason=reason)]
        given_up: dict[str, Value] = {
            "duration_s": self._active(t) - self._cycle_a0,
            "errors": self._cycle_errors,
        }
        out.append(self._log("restart", t, **about, refused=False, reason=None, **given_up))
        if run.wrong:
            out.append(self._clear_error(run, t, "restart"))
        self._early, self._run = [], None
        return out + self._start_cycle(t, 0, restarted=True)

    def tick(self, t: float) -> list[LogEvent]:
        """Let time pass without a frame: timers, the end of DONE, the step-done flash."""
        if not self._started or self._stopped:
            return []
        return self._advance(t)

    def stop(self, t: float) -> list[LogEvent]:
        """End the session: session_end, saying where a new session should resume.

        A step in progress gets no ``step_end`` (that would mark it done for the log store's resume
        search); session_end carries its index, unit and time spent as ``resume_*`` and ``step_s``.
        """
        if not self._started or self._stopped:
            return []
        t = self._now = max(t, self._now)
        out: list[LogEvent] = []
        where: dict[str, Value] = {}
        resume_cycle: int | None = None
        resume_step: int | None = None
        if self._run is not None:
            resume_cycle, resume_step = self._unit, self._idx
            where["step_s"] = self._s(t)
        elif self._base is Phase.DONE and not self._max_reached():
            resume_cycle, resume_step = self._unit + 1, 0
        where |= {"resume_cycle": resume_cycle, "resume_step": resume_step}
        out.append(
            self._log("session_end", t, units=self._session_units, duration_s=t - self._session_t0, **where)
        )
        self._stopped, self._base, self._run = True, Phase.FINISHED, None
        self._paused = self._help = False
        return out

    @property
    def state(self) -> StationState:
        rs, run = self.current_step, self._run
        if self._base is Phase.FINISHED:
            phase = Phase.FINISHED
        elif self._help:
            phase = Phase.HELP
        elif self._paused:
            phase = Phase.PAUSED
        else:
            phase = self._base
        if run is not None:
            progress = run.tracker.progress
        else:
            progress = 1.0 if self._base in (Phase.DONE, Phase.FINISHED) and self._idx >= 0 else 0.0
        wrong = run.wrong if run is not None else []
        return StationState(
            phase=phase,
            step_index=self._idx,
            step_uid=rs.uid if rs else "",
            variant=self.variant,
            cycle=self._completed,
            language=self.language,
            error_hint=self._hint(run) if run is not None and wrong else "",
            error_bin=wrong[-1] if wrong else "",
            progress=progress,
            step_done_flash=self._now < self._flash_until,
            t=self._now,
        )

    def expected_bins(self) -> tuple[str, ...]:
        """Bins to light now: those a pick would be counted from (none while paused or between units)."""
        if self._run is None or self._paused:
            return ()
        return tuple(self._run.tracker.live_pick_bins())

    def zones_needing_presence(self) -> tuple[str, ...]:
        """Zones whose part presence the current step still has to decide (also while paused)."""
        return self._run.tracker.pending_presence_zones() if self._run is not None else ()

    # ------------------------------------------------------------------------------------------
    # Clocks and logging

    def _active(self, t: float) -> float:
        """Session clock without paused time."""
        return t - self._paused_total - (t - self._pause_t0 if self._paused else 0.0)

    def _s(self, t: float) -> float:
        """Step clock: seconds since the step started, paused time left out."""
        return self._active(t) - (self._run.a0 if self._run is not None else 0.0)

    def _log(self, kind: str, t: float, /, **data: Value) -> LogEvent:
        """An event of the current step (session and unit events carry no step uid)."""
        rs = self.current_step
        uid = rs.uid if rs is not None and kind not in _UNIT_KINDS else ""
        return self._events.make(kind, t, uid, self._unit, data)

    def _max_reached(self) -> bool:
        return self.max_cycles is not None and self._completed >= self.max_cycles

    def _hint(self, run: StepRun) -> str:
        return run.hint(self.language, self.instruction.default_language)

    # ------------------------------------------------------------------------------------------
    # Sessions, units and steps

    def _begin(self, t: float, *, unit: int, index: int, resumed: bool) -> list[LogEvent]:
        if self._started:
            raise RuntimeError("StepEngine already started; make a new engine for a new session")
        self._started, self._now, self._session_t0 = True, t, t
        self._unit, self._completed = unit, unit - 1
        ins = self.instruction
        who: dict[str, Value] = {
            "station": self.station_id,
            "operator": self.operator,
            "product": ins.product_id,
        }
        what: dict[str, Value] = {
            "version": ins.version,
            "content_hash": ins.content_hash,
            "variant": self.variant,
        }
        how: dict[str, Value] = {"language": self.language, "max_cycles": self.max_cycles, "resumed": resumed}
        out = [self._log("session_start", t, **who, **what, **how)]
        return out + self._start_cycle(t, index, resumed)

    def _start_cycle(
        self, t: float, index: int = 0, resumed: bool = False, restarted: bool = False
    ) -> list[LogEvent]:
        self._cycle_t0, self._cycle_a0 = t, self._active(t)
        self._cycle_errors = self._cycle_help = self._cycle_skips = 0
        self._idx = -1
        data: dict[str, Value] = {"variant": self.variant, "steps": len(self._steps), "resumed": resumed}
        more: dict[str, Value] = {"restarted": restarted}
        out = [self._log("cycle_start", t, **data, resume_step_index=index, **more)]
        return out + self._start_step(t, index, resumed)

    def _start_step(self, t: float, index: int, resumed: bool = False) -> list[LogEvent]:
        self._idx = index
        rs = self._steps[index]
        run = self._run = StepRun(rs, self.config, t, self._active(t))
        self._base = Phase.RUNNING
        data: dict[str, Value] = {"index": index, "total": rs.total, "repetition": rs.repetition}
        more: dict[str, Value] = {"repetitions": rs.repetitions, "expected_s": rs.step.expected_s}
        out = [self._log("step_start", t, **data, **more, resumed=resumed)]
        early, self._early = self._early, []
        for p in early:
            run.tracker.on_pick(p, 0.0)
        deferred, self._deferred = self._deferred, []
        for p in deferred:
            out += self._on_pick(run, p, t)
        return out

    def _step_end(self, run: StepRun, t: float, result: str) -> LogEvent:
        duration = self._s(t)
        data: dict[str, Value] = {"index": run.index, "result": result, "duration_s": duration}
        paused = max(0.0, (t - run.t0) - duration)
        more: dict[str, Value] = {"paused_s": paused, "expected_s": run.rs.step.expected_s}
        return self._log("step_end", t, **data, **more, errors=run.errors, help=run.help)

    def _finish_step(self, run: StepRun, t: float, result: str) -> list[LogEvent]:
        out = [self._step_end(run, t, result)]
        if result == "done":
            self._flash_until = t + self.config.step_done_flash_s
        if self._idx + 1 < len(self._steps):
            return out + self._start_step(t, self._idx + 1)
        active = self._active(t) - self._cycle_a0
        self._completed = self._unit
        self._session_units += 1
        paused = max(0.0, (t - self._cycle_t0) - active)
        data: dict[str, Value] = {"duration_s": active, "paused_s": paused, "errors": self._cycle_errors}
        more: dict[str, Value] = {"help": self._cycle_help, "skips": self._cycle_skips}
        out.append(self._log("cycle_end", t, **data, **more, steps=len(self._steps)))
        self._base, self._done_a0, self._run = Phase.DONE, self._active(t), None
        return out

    def _maybe_complete(self, t: float) -> list[LogEvent]:
        run = self._run
        if self._base is Phase.RUNNING and not self._paused and run is not None and run.tracker.met:
            return self._finish_step(run, t, "done")
        return []

    def _advance(self, t: float) -> list[LogEvent]:
        """Move the clock to ``t`` (never backwards) and do what time alone does."""
        t = self._now = max(t, self._now)
        if self._paused:
            return []
        if self._base is Phase.DONE and self._active(t) - self._done_a0 >= self.config.done_s:
            if self._max_reached():
                self._base = Phase.FINISHED
                deferred, self._deferred = self._deferred, []
                return [self._pick_event(p, t, ignored="no step") for p in deferred]
            self._unit += 1
            return self._start_cycle(t)
        if self._run is not None:
            self._run.tracker.on_time(self._s(t))
            return self._maybe_complete(t)
        return []

    # ------------------------------------------------------------------------------------------
    # Picks and errors

    def _next_step_bins(self) -> dict[str, int]:
        """Bins the step after this one counts picks from at its start, with how many it needs."""
        nxt = self._idx + 1
        if nxt >= len(self._steps):
            if self.max_cycles is not None and self._unit >= self.max_cycles:
                return {}
            nxt = 0
        if nxt not in self._next_bins:
            self._next_bins[nxt] = ConditionTracker(self._steps[nxt].done, self.config).live_pick_bins()
        return self._next_bins[nxt]

    def _early_ok(self, pick: PickSeen) -> bool:
        if not self.config.carry_early_picks:
            return False
        if sum(1 for p in self._early if p.bin == pick.bin) >= self._next_step_bins().get(pick.bin, 0):
            return False
        self._early.append(pick)
        return True

    def _pick_event(self, p: PickSeen, t: float, *, verdict: str = "", ignored: str = "") -> LogEvent:
        correct = verdict not in (sr.WRONG, sr.PUT_BACK) if verdict else None
        data: dict[str, Value] = {"bin": p.bin, "correct": correct, "counted": verdict == sr.COUNTED}
        more: dict[str, Value] = {"early": verdict == sr.EARLY, "put_back": verdict == sr.PUT_BACK}
        return self._log("pick", t, **data, **more, ignored=ignored or None, t_leave=p.t_leave)

    def _on_pick(self, run: StepRun, p: PickSeen, t: float) -> list[LogEvent]:
        verdict = run.classify(p, self._s(t), self._early_ok)
        out = [self._pick_event(p, t, verdict=verdict)]
        if verdict == sr.PUT_BACK and not run.wrong:
            out.append(self._clear_error(run, t, "put_back", p.bin))
        elif verdict == sr.WRONG and not self._help:
            out.append(self._raise_error(run, t, p.bin))
        elif verdict in (sr.COUNTED, sr.EXTRA) and run.wrong:
            out.append(self._clear_error(run, t, "correct_pick"))
        return out

    def _raise_error(self, run: StepRun, t: float, bin_id: str) -> LogEvent:
        if bin_id not in run.wrong:
            run.wrong.append(bin_id)
        self._base, run.error_t = Phase.ERROR, t
        run.errors += 1
        self._cycle_errors += 1
        run.tracker.reset_transients()
        expected = self.expected_bins() or run.allowed_bins()
        data: dict[str, Value] = {"rule": "wrong_pick", "bin": bin_id, "expected": ",".join(expected)}
        return self._log("error", t, **data, step=run.uid, hint=self._hint(run), cleared=False)

    def _clear_error(self, run: StepRun, t: float, by: str, bin_id: str = "") -> LogEvent:
        bin_id = bin_id or ",".join(run.wrong)
        run.wrong.clear()
        self._base = Phase.RUNNING
        run.tracker.reset_transients()
        return self._log("error", t, bin=bin_id, cleared=True, by=by)

    # ------------------------------------------------------------------------------------------
    # Buttons

    def _toggle_pause(self, ev: InputEvent, t: float) -> list[LogEvent]:
        if not self._paused:
            self._paused, self._pause_t0 = True, t
            return [self._log("pause", t, source=ev.source)]
        paused_s = t - self._pause_t0
        self._paused_total += paused_s
        self._paused = False
        if self._run is not None:
            self._run.tracker.reset_transients()
        return [self._log("resume", t, source=ev.source, paused_s=paused_s), *self._advance(t)]

    def _toggle_help(self, ev: InputEvent, t: float) -> list[LogEvent]:
        self._help = not self._help
        if self._help and self._run is not None:
            self._run.help += 1
        self._cycle_help += int(self._help)
        out = [self._log("help", t, on=self._help, source=ev.source)]
        run = self._working()
        if run is not None and run.tracker.wants_press(ev.button):
            run.tracker.on_press(ev.button, self._s(t))
            out += self._maybe_complete(t)
        return out

    def _working(self) -> StepRun | None:
        """The step in progress when buttons may act on it (not paused, not between units)."""
        return None if self._paused else self._run

    def _refusal(self) -> str:
        return "paused" if self._paused else {Phase.DONE: "unit done"}.get(self._base, "no step")

    def _next(self, ev: InputEvent, t: float) -> list[LogEvent]:
        run = self._working()
        if run is None or ev.t - run.t0 < self.config.press_guard_s:
            return []
        if self._base is Phase.ERROR:
            if ev.t - run.error_t < self.config.press_guard_s:
                return []
            return [self._clear_error(run, t, "acknowledged")]
        if run.tracker.wants_press(ev.button):
            run.tracker.on_press(ev.button, self._s(t))
            return self._maybe_complete(t)
        return []

    def _back(self, ev: InputEvent, t: float) -> list[LogEvent]:
        run = self._working()
        if run is None or self._idx <= 0:
            reason = "first step" if run is not None else self._refusal()
            data: dict[str, Value] = {"from_index": self._idx, "to_index": None, "refused": True}
            return [self._log("back", t, **data, reason=reason, source=ev.source)]
        data = {"from_index": self._idx, "to_index": self._idx - 1, "refused": False, "reason": None}
        visit: dict[str, Value] = {"duration_s": self._s(t), "errors": run.errors}
        out = [self._log("back", t, **data, **visit, source=ev.source)]
        if run.wrong:
            out.append(self._clear_error(run, t, "back"))
        self._early = []
        return out + self._start_step(t, self._idx - 1)

    def _skip(self, ev: InputEvent, t: float) -> list[LogEvent]:
        run = self._working()
        reason = "supervisor only" if not ev.supervisor else "" if run is not None else self._refusal()
        about: dict[str, Value] = {"index": self._idx, "source": ev.source, "device": ev.device}
        if reason or run is None:
            return [self._log("skip", t, **about, refused=True, reason=reason)]
        out = [self._log("skip", t, **about, refused=False, reason=None)]
        if run.wrong:
            out.append(self._clear_error(run, t, "skip"))
        self._cycle_skips += 1
        return out + self._finish_step(run, t, "skip")
