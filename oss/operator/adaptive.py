"""The automatic guidance level: per operator and product, from the operator's own log.

After every unit the station looks at the units since the level last changed:

* **less guidance** (full → reduced → minimal) after ``clean_units`` units in a row that were clean
  (no error, no hesitation, no help call, no skip) and at pace (active time at most ``pace_factor``
  times the sum of the steps' ``expected_s``);
* **more guidance** (one level back) after a unit with an error, a hesitation, a help call or a skip.

A slow but clean unit changes nothing and does not count towards the run of clean units. Every
change is a ``level`` event with its reason; every session also starts with one (``changed=False``)
that says the level in effect. ``level`` event data: operator, product, level, previous, mode
(auto | fixed), changed, reason, units (the clean units in a row that led to it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from oss.instructions.levels import FULL, MINIMAL, rank
from oss.instructions.model import GUIDANCE_LEVELS
from oss.records import OssError

AUTO = "auto"
LEVEL_SETTINGS = (*GUIDANCE_LEVELS, AUTO)


class EventLike(Protocol):
    """A LogEvent or a StoredEvent."""

    @property
    def kind(self) -> str: ...

    @property
    def cycle(self) -> int: ...

    def get(self, key: str, default: object = None) -> object: ...


@dataclass(frozen=True)
class LevelPolicy:
    clean_units: int = 3  # clean units at pace in a row for one level less guidance
    pace_factor: float = 1.3  # a unit is at pace when active time <= pace_factor * expected time
    start_level: str = FULL  # where an operator new to a product starts
    least: str = MINIMAL  # the least guidance the automatic level goes to

    def __post_init__(self) -> None:
        if self.clean_units < 1 or self.pace_factor <= 0:
            raise OssError("LevelPolicy: clean_units must be >= 1 and pace_factor > 0")
        if self.start_level not in GUIDANCE_LEVELS or self.least not in GUIDANCE_LEVELS:
            raise OssError(f"LevelPolicy: levels must be one of {', '.join(GUIDANCE_LEVELS)}")


@dataclass(frozen=True)
class UnitOutcome:
    """How one unit went, from its events."""

    cycle: int
    errors: int = 0
    help: int = 0
    hesitations: int = 0
    skips: int = 0
    duration_s: float = 0.0
    expected_s: float | None = None  # sum of the steps' expected_s (None: no step has one)
    hesitation_step: str = ""

    @property
    def clean(self) -> bool:
        return not (self.errors or self.help or self.hesitations or self.skips)

    def at_pace(self, factor: float) -> bool:
        return self.expected_s is None or self.duration_s <= factor * self.expected_s

    def trouble(self) -> str:
        """Why this unit was not clean, in words for the log."""
        parts = []
        if self.errors:
            parts.append(f"{self.errors} error{'s' * (self.errors != 1)}")
        if self.hesitations:
            where = f" at {self.hesitation_step}" if self.hesitation_step else ""
            parts.append(f"hesitated{where}")
        if self.help:
            parts.append("called for help")
        if self.skips:
            parts.append(f"{self.skips} step{'s' * (self.skips != 1)} skipped")
        return ", ".join(parts)


@dataclass(frozen=True)
class LevelChange:
    previous: str
    level: str
    reason: str
    units: int = 0


def _num(v: object) -> float:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0.0


def unit_outcomes(events: Iterable[EventLike]) -> list[UnitOutcome]:
    """The units that ended in ``events`` (in order), with what happened in them."""
    out: list[UnitOutcome] = []
    hes, hes_step, expected, has_expected = 0, "", 0.0, False
    for ev in events:
        if ev.kind == "cycle_start":
            hes, hes_step, expected, has_expected = 0, "", 0.0, False
        elif ev.kind == "hesitation":
            hes += 1
            hes_step = hes_step or str(getattr(ev, "step_uid", "") or "")
        elif ev.kind == "step_end":
            e = ev.get("expected_s")
            if isinstance(e, int | float) and not isinstance(e, bool):
                expected += float(e)
                has_expected = True
        elif ev.kind == "cycle_end":
            out.append(
                UnitOutcome(
                    cycle=ev.cycle,
                    errors=int(_num(ev.get("errors"))),
                    help=int(_num(ev.get("help"))),
                    hesitations=hes,
                    skips=int(_num(ev.get("skips"))),
                    duration_s=_num(ev.get("duration_s")),
                    expected_s=expected if has_expected else None,
                    hesitation_step=hes_step,
                )
            )
    return out


def decide(level: str, since_change: Sequence[UnitOutcome], policy: LevelPolicy) -> LevelChange | None:
    """The change the latest unit (the last of ``since_change``) brings, if any."""
    if not since_change:
        return None
    last = since_change[-1]
    if not last.clean:
        if level == FULL:
            return None
        more = GUIDANCE_LEVELS[rank(level) - 1]
        return LevelChange(level, more, f"unit {last.cycle}: {last.trouble()}")
    run = 0
    for u in reversed(since_change):
        if not (u.clean and u.at_pace(policy.pace_factor)):
            break
        run += 1
    if run >= policy.clean_units and rank(level) < rank(policy.least):
        less = GUIDANCE_LEVELS[rank(level) + 1]
        recent = since_change[-run:]
        timed = [u for u in recent if u.expected_s]
        pace = (
            f", at {100 * sum(u.duration_s for u in timed) / sum(u.expected_s or 0 for u in timed):.0f}% "
            "of the expected time"
            if timed
            else ""
        )
        return LevelChange(level, less, f"{run} clean unit{'s' * (run != 1)} in a row{pace}", run)
    return None


class AdaptiveLevel:
    """The level of one operator for one product during a session; ``on_unit`` after each unit."""

    def __init__(
        self,
        level: str,
        *,
        auto: bool = True,
        policy: LevelPolicy | None = None,
        since_change: Sequence[UnitOutcome] = (),
    ) -> None:
        if level not in GUIDANCE_LEVELS:
            raise OssError(f"unknown guidance level {level!r}: use one of {', '.join(GUIDANCE_LEVELS)}")
        self.level = level
        self.auto = auto
        self.policy = policy or LevelPolicy()
        self.since_change: list[UnitOutcome] = list(since_change)

    @property
    def mode(self) -> str:
        return AUTO if self.auto else "fixed"

    def on_unit(self, outcome: UnitOutcome) -> LevelChange | None:
        self.since_change.append(outcome)
        if not self.auto:
            return None
        change = decide(self.level, self.since_change, self.policy)
        if change is not None:
            self.level = change.level
            self.since_change = []
        return change


def history_level(
    events_by_session: Iterable[Sequence[EventLike]], policy: LevelPolicy | None = None
) -> tuple[str, list[UnitOutcome]]:
    """The automatic level and the units since its last change, from an operator's sessions with one
    product (oldest first). No history: ``policy.start_level`` and no units."""
    policy = policy or LevelPolicy()
    level = policy.start_level
    since: list[UnitOutcome] = []
    for events in events_by_session:
        chunk: list[EventLike] = []
        for ev in events:
            if ev.kind == "level" and ev.get("mode") == AUTO:
                lvl = ev.get("level")
                if isinstance(lvl, str) and lvl in GUIDANCE_LEVELS:
                    if ev.get("changed"):
                        level, since, chunk = lvl, [], []
                        continue
                    level = lvl
            chunk.append(ev)
        since.extend(unit_outcomes(chunk))
    return level, since
