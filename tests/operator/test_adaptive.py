"""The automatic guidance level, decided from synthetic unit logs."""

from __future__ import annotations

import pytest

from oss.operator.adaptive import (
    AdaptiveLevel,
    LevelPolicy,
    UnitOutcome,
    decide,
    history_level,
    unit_outcomes,
)
from oss.records import LogEvent, OssError


def ev(kind: str, cycle: int, step: str = "", **data: object) -> LogEvent:
    return LogEvent(kind, 0.0, "", step, cycle, tuple(data.items()))  # type: ignore[arg-type]


def unit(
    cycle: int, *, errors: int = 0, help: int = 0, hesitate: str = "", duration: float = 20.0
) -> list[LogEvent]:
    out = [ev("cycle_start", cycle)]
    out += [ev("step_end", cycle, f"s{i}", expected_s=10.0, result="done") for i in range(2)]
    if hesitate:
        out.append(ev("hesitation", cycle, hesitate, stage=1))
    out.append(ev("cycle_end", cycle, errors=errors, help=help, skips=0, duration_s=duration))
    return out


def test_unit_outcomes_read_errors_help_hesitation_and_pace() -> None:
    events = unit(1) + unit(2, errors=2) + unit(3, hesitate="led_screw#2", duration=40.0) + unit(4, help=1)
    got = unit_outcomes(events)
    assert [(u.cycle, u.errors, u.hesitations, u.help, u.expected_s) for u in got] == [
        (1, 0, 0, 0, 20.0),
        (2, 2, 0, 0, 20.0),
        (3, 0, 1, 0, 20.0),
        (4, 0, 0, 1, 20.0),
    ]
    assert [u.clean for u in got] == [True, False, False, False]
    assert got[2].trouble() == "hesitated at led_screw#2" and not got[2].at_pace(1.3)
    assert got[1].trouble() == "2 errors"


def test_clean_units_at_pace_lower_the_guidance_one_level_at_a_time() -> None:
    lvl = AdaptiveLevel("full", policy=LevelPolicy(clean_units=3))
    changes = [lvl.on_unit(u) for u in unit_outcomes(unit(1) + unit(2) + unit(3))]
    assert changes[:2] == [None, None]
    c = changes[2]
    assert c is not None and (c.previous, c.level, c.units) == ("full", "reduced", 3)
    assert c.reason == "3 clean units in a row, at 100% of the expected time"
    changes = [
        lvl.on_unit(u) for u in unit_outcomes(unit(4) + unit(5) + unit(6) + unit(7) + unit(8) + unit(9))
    ]
    assert [c.level if c else None for c in changes] == [None, None, "minimal", None, None, None]
    assert lvl.level == "minimal"  # the least guidance there is: stays


def test_an_error_or_a_hesitation_goes_back_one_level_and_restarts_the_count() -> None:
    lvl = AdaptiveLevel("minimal")
    c = lvl.on_unit(unit_outcomes(unit(1, errors=1))[0])
    assert c is not None and (c.previous, c.level, c.reason) == ("minimal", "reduced", "unit 1: 1 error")
    c = lvl.on_unit(unit_outcomes(unit(2, hesitate="lens"))[0])
    assert c is not None and c.level == "full" and "hesitated at lens" in c.reason
    assert lvl.on_unit(unit_outcomes(unit(3, errors=3))[0]) is None  # full is the most there is
    assert [lvl.on_unit(u) for u in unit_outcomes(unit(4) + unit(5))] == [None, None]


def test_slow_clean_units_change_nothing_and_break_the_run() -> None:
    units = unit_outcomes(unit(1) + unit(2) + unit(3, duration=30.0) + unit(4) + unit(5))
    assert decide("full", units, LevelPolicy()) is None  # 30 s for 20 s expected: not at pace
    assert decide("full", units + unit_outcomes(unit(6)), LevelPolicy()) is not None


def test_fixed_level_never_changes() -> None:
    lvl = AdaptiveLevel("reduced", auto=False)
    assert all(lvl.on_unit(u) is None for u in unit_outcomes(unit(1, errors=1) + unit(2) + unit(3) + unit(4)))
    assert lvl.mode == "fixed" and lvl.level == "reduced"


def test_history_continues_across_sessions_from_the_last_change() -> None:
    s1 = unit(1) + unit(2) + unit(3) + [ev("level", 3, mode="auto", level="reduced", changed=True)] + unit(4)
    s2 = [ev("level", 1, mode="auto", level="reduced", changed=False), *unit(1), *unit(2)]
    level, since = history_level([s1, s2])
    assert level == "reduced" and [u.cycle for u in since] == [4, 1, 2]
    lvl = AdaptiveLevel(level, since_change=since)
    c = lvl.on_unit(unit_outcomes(unit(3))[0])
    assert c is not None and c.level == "minimal"  # unit 4 of yesterday and two of today count
    assert history_level([]) == ("full", [])


def test_bad_policy_and_level_are_refused() -> None:
    with pytest.raises(OssError):
        LevelPolicy(clean_units=0)
    with pytest.raises(OssError):
        AdaptiveLevel("medium")
    assert UnitOutcome(1).clean
