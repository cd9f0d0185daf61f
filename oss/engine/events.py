"""Building LogEvents (UTC from an injectable clock) and the engine's own operator texts.

The ``data`` fields of the engine's events, by kind (``cycle`` of every event is the unit number,
1-based and continued across ``StepEngine.resume``; ``step_uid`` is empty for session and unit
events; durations are seconds, ``duration_s`` without paused time):

session_start  station, operator, product, version, content_hash, variant, language, max_cycles, resumed
cycle_start    variant, steps, resumed, resume_step_index (the step the unit starts at: 0, or where resumed),
               restarted (a supervisor started the unit over: the same unit number again)
step_start     index, total, repetition, repetitions, expected_s, resumed
step_end       index, result (done | skip), duration_s, paused_s, expected_s, errors, help; only a step
               done or skipped ends: one left with BACK or by stop() has no step_end
pick           bin, correct, counted, early, put_back, ignored (paused | no step | None), t_leave
error          raised: rule (wrong_pick), bin, expected (comma-separated bins), step, hint, cleared=False
               cleared: bin, cleared=True, by (put_back | correct_pick | acknowledged | back | skip | restart)
help           on, source
pause          source
resume         source, paused_s
back           from_index, to_index, refused, reason, source; when taken also duration_s, errors of the
               visit left
skip           index, source, device, refused, reason (supervisor only | paused | unit done | no step)
restart        index (the step left), source, device, refused, reason (as skip); when taken also
               duration_s, errors of the attempt given up; followed by cycle_start with restarted=True
cycle_end      duration_s, paused_s, errors, help, skips, steps
session_end    units (completed in this session), duration_s, resume_cycle, resume_step (where a new
               session should resume, None when the batch is finished), step_s (time spent on the step
               in progress, when there is one)

Made beside the engine, by the operator's session (``oss.operator.session``):

hesitation     stage (1..4), name (more | animation | sound | supervisor), idle_s, expected_s,
               source (time | press), level, shown; see ``oss.engine.guidance``. Stage 4 is followed
               by ``help`` with on=True, source=hesitation.
level          operator, product, level, previous, mode (auto | fixed), changed, reason, units; one at
               every session start (changed=False) and one per change; see ``oss.operator.adaptive``.
               Set by a supervisor: reason ``supervisor``, and ``by`` (who).

Made by the station for the supervisor monitor (``oss.monitor``), one per key action there:

supervisor     action (unlock | wrong_pin | lock | skip | restart | level | answer), accepted, reason (why
               refused, or why locked), who, source (monitor), level (the level asked for)

Made by the station when Escape is pressed (or the window closed) in the projector window
(``oss.station.stopping``):

stop_request   how (escape | window closed), outcome (asked | wrong pin | blocked | cancelled | ignored |
               stopped), policy (pin | confirm | ignore | quit)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from oss.instructions.model import Text
from oss.records import EVENT_KINDS, LogEvent

UtcClock = Callable[[], datetime]
Value = str | int | float | bool | None

WRONG_PICK_HINT = Text.of(
    en="Put it back. Take from the lit bin.",
    nl="Leg het terug. Pak uit de verlichte bak.",
)
"""Shown after a wrong pick when the step has no ``wrong_pick`` rule with its own hint."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(dt: datetime) -> str:
    """ISO 8601 in UTC with milliseconds; a naive datetime is taken to be UTC already."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")


class EventMaker:
    """Makes LogEvents stamped with ``utc_clock()``; checks the kind against EVENT_KINDS."""

    def __init__(self, utc_clock: UtcClock | None = None) -> None:
        self._clock = utc_clock or utc_now

    def make(self, kind: str, t: float, step_uid: str, cycle: int, data: dict[str, Value]) -> LogEvent:
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}; one of {', '.join(EVENT_KINDS)}")
        clean = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in data.items()}
        return LogEvent(kind, t, iso_utc(self._clock()), step_uid, cycle, tuple(clean.items()))
