"""StepEngine: the end of a unit, the next unit, max_cycles, stop, resume, construction errors."""

from __future__ import annotations

import pytest

from oss.engine import StepEngine
from oss.instructions import model as m
from oss.records import OssError, Phase, Presence
from tests.engine.builders import feed, instruction, kinds, obs, step

PICK_A, PICK_B = step("s1", m.Pick("a")), step("s2", m.Pick("b"))


def test_a_unit_ends_shows_done_then_the_next_starts(make_engine) -> None:
    e: StepEngine = make_engine(PICK_A, PICK_B)
    e.start(0.0)
    e.update(obs(1.0, picks=["a"]))
    ev = e.update(obs(2.0, picks=["b"]))
    assert kinds(ev) == ["pick", "step_end", "cycle_end"]
    end = ev[-1]
    assert end.step_uid == "" and end.cycle == 1
    assert end.get("duration_s") == 2.0 and end.get("errors") == 0 and end.get("steps") == 2
    st = e.state
    assert (st.phase, st.cycle, st.progress, st.step_index) == (Phase.DONE, 1, 1.0, 1)
    assert e.expected_bins() == () and e.zones_needing_presence() == ()
    assert e.tick(3.4) == []
    ev = e.tick(3.5)
    assert kinds(ev) == ["cycle_start", "step_start"] and [x.cycle for x in ev] == [2, 2]
    assert e.state.phase is Phase.RUNNING and e.state.step_index == 0 and e.state.cycle == 1


def test_a_pick_during_done_goes_to_the_next_unit(make_engine) -> None:
    e = make_engine(PICK_A, PICK_B)
    e.start(0.0)
    feed(e, [obs(1.0, picks=["a"]), obs(2.0, picks=["b"])])
    assert e.update(obs(2.5, picks=["a"])) == []  # the operator starts the next unit at once
    ev = e.update(obs(3.6))
    assert kinds(ev) == ["cycle_start", "step_start", "pick", "step_end", "step_start"]
    assert ev[2].get("counted") is True and ev[2].get("t_leave") == 2.5


def test_pause_holds_done(make_engine) -> None:
    from oss.records import Button
    from tests.engine.builders import press

    e = make_engine(PICK_A)
    e.start(0.0)
    e.update(obs(1.0, picks=["a"]))
    e.handle_input(press(1.5, Button.PAUSE))
    assert e.tick(10.0) == [] and e.state.phase is Phase.PAUSED
    e.handle_input(press(10.0, Button.PAUSE))
    assert e.tick(10.9) == []
    assert kinds(e.tick(11.0)) == ["cycle_start", "step_start"]


@pytest.mark.parametrize("max_cycles", [1, 2, 3])
def test_max_cycles_finishes_the_session(make_engine, max_cycles: int) -> None:
    e = make_engine(PICK_A, PICK_B, max_cycles=max_cycles)
    ev = e.start(0.0)
    t = 1.0
    for _ in range(max_cycles):
        ev += feed(e, [obs(t, picks=["a"]), obs(t + 1.0, picks=["b"]), obs(t + 3.0)])
        t += 4.0
    assert kinds(ev).count("cycle_end") == max_cycles
    assert kinds(ev).count("cycle_start") == max_cycles
    assert e.state.phase is Phase.FINISHED and e.state.cycle == max_cycles
    assert e.update(obs(t, picks=["a"]))[0].get("ignored") == "no step"
    end = e.stop(t + 1.0)
    assert kinds(end) == ["session_end"]
    assert end[0].get("units") == max_cycles and end[0].get("resume_cycle") is None


def test_stop_mid_step_logs_where_to_resume(make_engine) -> None:
    e = make_engine(PICK_A, PICK_B)
    e.start(0.0)
    e.update(obs(1.0, picks=["a"]))
    ev = e.stop(3.0)
    assert kinds(ev) == ["session_end"]  # the step in progress is not done: no step_end
    assert (ev[0].get("resume_cycle"), ev[0].get("resume_step"), ev[0].get("units")) == (1, 1, 0)
    assert ev[0].get("duration_s") == 3.0 and ev[0].get("step_s") == 2.0
    assert e.update(obs(4.0, picks=["b"])) == [] and e.stop(5.0) == []
    assert e.state.phase is Phase.FINISHED


def test_stop_during_done_resumes_at_the_next_unit(make_engine) -> None:
    e = make_engine(PICK_A)
    e.start(0.0)
    e.update(obs(1.0, picks=["a"]))
    ev = e.stop(1.5)
    assert (ev[0].get("resume_cycle"), ev[0].get("resume_step"), ev[0].get("units")) == (2, 0, 1)


def test_resume_in_the_middle_of_a_unit(make_engine) -> None:
    e = make_engine(PICK_A, PICK_B, step("s3", m.Pick("c")), max_cycles=5)
    ev = e.resume(cycle=3, step_index=1, t=10.0)
    assert kinds(ev) == ["session_start", "cycle_start", "step_start"]
    assert ev[0].get("resumed") is True and ev[1].get("resumed") is True and ev[2].get("resumed") is True
    assert ev[1].get("resume_step_index") == 1
    assert ev[2].step_uid == "s2" and [x.cycle for x in ev] == [3, 3, 3]
    assert (e.state.step_index, e.state.cycle) == (1, 2)
    ev = feed(e, [obs(11.0, picks=["b"]), obs(12.0, picks=["c"])])
    assert kinds(ev)[-1] == "cycle_end" and ev[-1].cycle == 3
    assert e.state.cycle == 3
    ev = e.tick(14.0)
    assert ev[0].cycle == 4 and ev[1].step_uid == "s1"


def test_resume_at_the_last_allowed_unit_finishes_after_it(make_engine) -> None:
    e = make_engine(PICK_A, max_cycles=2)
    e.resume(2, 0, 0.0)
    feed(e, [obs(1.0, picks=["a"]), obs(3.0)])
    assert e.state.phase is Phase.FINISHED


@pytest.mark.parametrize(
    ("cycle", "step_index", "message"),
    [
        (0, 0, "cycle must be 1 or more"),
        (1, 2, "step 2 does not exist"),
        (1, -1, "does not exist"),
        (4, 0, "past"),
    ],
)
def test_resume_rejects_a_point_that_does_not_exist(
    make_engine, cycle: int, step_index: int, message: str
) -> None:
    e = make_engine(PICK_A, PICK_B, max_cycles=3)
    with pytest.raises(OssError, match=message):
        e.resume(cycle, step_index, 0.0)


def test_an_engine_starts_once(make_engine) -> None:
    e = make_engine(PICK_A)
    e.start(0.0)
    with pytest.raises(RuntimeError):
        e.start(1.0)


@pytest.mark.parametrize(
    ("variant", "max_cycles", "message"),
    [("w99", None, "unknown variant 'w99'"), ("v1", 0, "max_cycles must be at least 1")],
)
def test_construction_errors_say_what_to_do(variant: str, max_cycles: int | None, message: str) -> None:
    ins = instruction(PICK_A)
    ins = m.Instruction(**{**ins.__dict__, "variants": {"v1": m.Variant("v1", m.Text.of(en="V1"))}})
    with pytest.raises(OssError, match=message):
        StepEngine(ins, variant, max_cycles=max_cycles)


def test_zones_needing_presence_follow_the_step(make_engine) -> None:
    place = step("place", m.Sequence((m.Pick("a"), m.PartPresent("p"))))
    remove = step("remove", m.AllOf((m.PartAbsent("p"), m.PartPresent("q"))))
    e = make_engine(place, remove)
    e.start(0.0)
    assert e.zones_needing_presence() == ("p",)
    e.update(obs(1.0, picks=["a"]))
    assert e.expected_bins() == ()
    feed(e, [obs(1.1 + i * 0.05, presence={"p": Presence.PRESENT}) for i in range(10)])
    assert e.state.step_uid == "remove"
    assert e.zones_needing_presence() == ("p", "q")
