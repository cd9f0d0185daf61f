"""The LED street-light fixture (instructions/led_fixture.yaml) driven by a scripted operator."""

from __future__ import annotations

from collections import Counter

import pytest

from oss.engine import StepEngine
from oss.instructions import model as m
from oss.instructions.loader import load_instruction
from oss.records import Button, LogEvent, Phase, Presence
from tests.conftest import SAMPLE
from tests.engine.builders import Item, Script, StepClock, feed, kinds, perform, press


@pytest.fixture(scope="module")
def led() -> m.Instruction:
    return load_instruction(SAMPLE)


def script_units(e: StepEngine, units: int, t0: float = 1.0) -> Script:
    s = Script(t=t0)
    for _ in range(units):
        for rs in e.run_steps:
            perform(s, rs.done).frames(0.2)
        s.presence = {z: Presence.EMPTY for z in s.presence}  # the finished fixture went off the jig
        s.frames(2.0)
    return s


def per_step(events: list[LogEvent], kind: str, cycle: int | None = None) -> Counter[str]:
    return Counter(x.step_uid for x in events if x.kind == kind and cycle in (None, x.cycle))


@pytest.mark.parametrize(("variant", "wrong_module"), [("w40", "led60"), ("w60", "led40")])
def test_one_unit_of_each_variant(led: m.Instruction, variant: str, wrong_module: str) -> None:
    e = StepEngine(led, variant, station_id="bench-1", utc_clock=StepClock())
    ev = e.start(0.0) + script_units(e, 1).run(e)
    uids = [rs.uid for rs in e.run_steps]
    assert (
        len(uids) == 21
        and f"led_module_{variant[1:]}" in uids
        and f"led_module_{wrong_module[3:]}" not in uids
    )
    assert per_step(ev, "step_start", cycle=1) == Counter(uids)
    assert per_step(ev, "step_end", cycle=1) == Counter(uids)
    assert per_step(ev, "step_start", cycle=2) == Counter(["housing"])  # the next unit began
    assert [x.step_uid for x in ev if x.kind == "step_end"] == uids  # in order
    assert all(x.get("result") == "done" for x in ev if x.kind == "step_end")
    assert kinds(ev).count("cycle_end") == 1 and kinds(ev).count("error") == 0
    assert all(x.get("correct") and x.get("counted") for x in ev if x.kind == "pick")
    assert kinds(ev).count("pick") == 18  # housing, pad, module, driver, gland, cable, lens, label, 10 screws
    assert e.state.cycle == 1 and e.state.phase is Phase.RUNNING  # the next unit has begun


def test_two_units_then_finished(led: m.Instruction) -> None:
    e = StepEngine(led, "w60", max_cycles=2, utc_clock=StepClock())
    ev = e.start(0.0) + script_units(e, 2).run(e)
    assert kinds(ev).count("cycle_end") == 2
    assert per_step(ev, "step_end") == Counter({rs.uid: 2 for rs in e.run_steps})
    assert e.state.phase is Phase.FINISHED and e.state.cycle == 2
    assert [x.cycle for x in ev if x.kind == "cycle_end"] == [1, 2]


def test_a_wrong_module_is_caught_and_put_back(led: m.Instruction) -> None:
    e = StepEngine(led, "w40", language="nl", utc_clock=StepClock())
    e.start(0.0)
    s = Script(t=1.0)
    steps = e.run_steps
    for rs in steps[:2]:
        perform(s, rs.done).frames(0.2)
    s.pick("bin_led60")  # the 60 W module in a 40 W fixture
    ev = s.run(e)
    err = [x for x in ev if x.kind == "error"]
    assert len(err) == 1 and err[0].get("bin") == "bin_led60" and err[0].get("expected") == "bin_led40"
    assert e.state.phase is Phase.ERROR and e.state.error_bin == "bin_led60"
    assert e.state.error_hint == "Dit is een 40 W lamp. Pak de 40 W module."
    assert e.expected_bins() == ("bin_led40",)
    s2 = Script(t=s.t, presence=s.presence).pick("bin_led60")  # put it back
    assert [x.get("by") for x in s2.run(e) if x.kind == "error"] == ["put_back"]
    s3 = Script(t=s2.t, presence=s2.presence)
    for rs in steps[2:]:
        perform(s3, rs.done).frames(0.2)
    ev = s3.run(e)
    assert kinds(ev).count("cycle_end") == 1 and "error" not in kinds(ev)
    end = next(x for x in ev if x.kind == "cycle_end")
    assert end.get("errors") == 1


def test_the_pedal_cannot_rush_the_unit(led: m.Instruction) -> None:
    """Pressing the pedal all through the unit completes only the final check."""
    e = StepEngine(led, "w40", utc_clock=StepClock())
    e.start(0.0)
    s = script_units(e, 1)
    pressed: list[Item] = []
    for it in s.items:
        pressed.append(it)
        if round(it.t * 20) % 10 == 0:  # twice a second
            pressed.append(press(it.t, Button.NEXT))
    ev = feed(e, pressed)
    ends = [x for x in ev if x.kind == "step_end"]
    assert [x.step_uid for x in ends] == [rs.uid for rs in e.run_steps]
    assert "error" not in kinds(ev)


def test_resume_after_a_crash_finishes_the_unit(led: m.Instruction) -> None:
    e = StepEngine(led, "w40", utc_clock=StepClock())
    ev = e.resume(cycle=7, step_index=19, t=100.0)  # at the final check
    s = Script(t=101.0, presence={"housing_seat": Presence.PRESENT})
    for rs in e.run_steps[19:]:
        perform(s, rs.done).frames(0.2)
    ev += s.run(e)
    assert [x.step_uid for x in ev if x.kind == "step_end"] == ["final_check", "unload"]
    assert [x.cycle for x in ev if x.kind == "cycle_end"] == [7]
    assert e.state.cycle == 7


@pytest.mark.parametrize("how", ["crash", "stop", "back then crash"])
def test_the_log_stores_resume_point_continues_the_unit(led: m.Instruction, tmp_path, how: str) -> None:
    """The engine's events, written to the real event store, lead a new engine to the right step."""
    from oss.log.store import EventStore

    steps = StepEngine(led, "w40").run_steps
    with EventStore(tmp_path / "events.db", "bench-1") as store:
        sid = store.open_session("anna", led, "w40")
        e = StepEngine(led, "w40", utc_clock=StepClock())
        s = Script(t=1.0)
        for rs in steps[:6]:
            perform(s, rs.done).frames(0.2)
        ev = e.start(0.0) + s.run(e)
        if how == "back then crash":
            ev += e.handle_input(press(s.t + 1.0, Button.BACK))
        if how == "stop":
            ev += e.stop(s.t + 1.0)
        store.append_many(sid, ev)
        point = store.unfinished_unit(led)
    assert point is not None and point.cycle == 1
    expected = {"crash": 6, "stop": 6, "back then crash": 5}[how]
    assert point.next_step_index == expected
    e2 = StepEngine(led, "w40", utc_clock=StepClock())
    e2.resume(point.cycle, point.next_step_index, 100.0)
    s2 = Script(t=101.0, presence=dict(s.presence))
    for rs in steps[expected:]:
        perform(s2, rs.done).frames(0.2)
    ev2 = s2.run(e2)
    assert [x.step_uid for x in ev2 if x.kind == "step_end"] == [rs.uid for rs in steps[expected:]]
    assert kinds(ev2).count("cycle_end") == 1 and "error" not in kinds(ev2)
