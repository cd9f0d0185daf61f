"""StepEngine.restart_unit: a supervisor starts the unit in progress over at its first step."""

from __future__ import annotations

from pathlib import Path

from oss.engine import StepEngine
from oss.instructions import model as m
from oss.log.store import EventStore
from oss.records import Button, Phase
from tests.engine.builders import StepClock, feed, instruction, kinds, obs, press, step

PICK_A, PICK_B, PICK_C = step("s1", m.Pick("a")), step("s2", m.Pick("b")), step("s3", m.Pick("c"))


def test_restart_goes_back_to_step_one_of_the_same_unit_with_fresh_counts(make_engine) -> None:
    e = make_engine(PICK_A, PICK_B, PICK_C)
    e.start(0.0)
    feed(e, [obs(1.0, picks=["a"])])  # s1 done
    feed(e, [obs(2.0, picks=["d"])])  # a wrong pick at s2: an error in this attempt
    assert e.state.phase is Phase.ERROR and e.state.step_uid == "s2"
    ev = e.restart_unit(3.0, "monitor", "monitor", supervisor=True)
    assert kinds(ev) == ["restart", "error", "cycle_start", "step_start"]
    r = ev[0]
    assert (r.get("refused"), r.get("index"), r.get("source"), r.step_uid) == (False, 1, "monitor", "s2")
    assert r.get("duration_s") == 3.0 and r.get("errors") == 1
    assert ev[1].get("cleared") is True and ev[1].get("by") == "restart"
    assert ev[2].cycle == 1 and ev[2].get("restarted") is True and ev[2].get("resume_step_index") == 0
    assert (e.state.phase, e.state.step_uid, e.state.cycle) == (Phase.RUNNING, "s1", 0)
    assert e.expected_bins() == ("a",)
    # the unit is counted once, from the restart, without the error of the attempt given up
    ev = feed(e, [obs(4.0, picks=["a"]), obs(5.0, picks=["b"]), obs(6.0, picks=["c"])])
    ends = [x for x in ev if x.kind == "cycle_end"]
    assert len(ends) == 1 and ends[0].cycle == 1 and ends[0].get("errors") == 0
    assert e.state.phase is Phase.DONE and e.state.cycle == 1


def test_the_restarted_unit_ends_with_its_own_times(make_engine) -> None:
    e = make_engine(PICK_A, PICK_B)
    e.start(0.0)
    feed(e, [obs(1.0, picks=["a"])])
    e.restart_unit(10.0, "monitor", supervisor=True)
    ev = feed(e, [obs(11.0, picks=["a"]), obs(12.0, picks=["b"])])
    end = next(x for x in ev if x.kind == "cycle_end")
    assert end.cycle == 1 and end.get("duration_s") == 2.0 and end.get("errors") == 0


def test_restart_is_refused_without_a_supervisor_while_paused_and_between_units(make_engine) -> None:
    e = make_engine(PICK_A)
    assert e.restart_unit(0.0, "monitor", supervisor=True) == []  # not started: nothing to log
    e.start(0.0)
    ev = e.restart_unit(1.0, "keyboard")
    assert (
        kinds(ev) == ["restart"] and ev[0].get("refused") is True and ev[0].get("reason") == "supervisor only"
    )
    e.handle_input(press(2.0, Button.PAUSE))
    ev = e.restart_unit(3.0, "monitor", supervisor=True)
    assert ev[0].get("refused") is True and ev[0].get("reason") == "paused"
    e.handle_input(press(4.0, Button.PAUSE))
    feed(e, [obs(5.0, picks=["a"])])
    assert e.state.phase is Phase.DONE
    ev = e.restart_unit(5.5, "monitor", supervisor=True)
    assert ev[0].get("refused") is True and ev[0].get("reason") == "unit done"
    assert e.state.phase is Phase.DONE


def test_after_a_restart_the_log_resumes_the_unit_at_step_one(tmp_path: Path) -> None:
    ins = instruction(PICK_A, PICK_B, PICK_C)
    e = StepEngine(ins, None, utc_clock=StepClock())
    with EventStore(tmp_path / "log.sqlite", "st") as store:
        sid = store.open_session("op", ins, None)
        store.append_many(sid, e.start(0.0))
        store.append_many(sid, feed(e, [obs(1.0, picks=["a"]), obs(2.0, picks=["b"])]))
        assert store.unfinished_unit(ins).next_step_index == 2  # type: ignore[union-attr]
        store.append_many(sid, e.restart_unit(3.0, "monitor", supervisor=True))
        point = store.unfinished_unit(ins)
        assert point is not None and point.cycle == 1 and point.next_step_index == 0
