"""StepEngine: starting, completing steps, and the buttons (NEXT, BACK, SKIP, PAUSE, HELP)."""

from __future__ import annotations

import pytest

from oss.engine import StepEngine
from oss.instructions import model as m
from oss.records import EVENT_KINDS, Button, Phase, Presence
from tests.engine.builders import feed, kinds, obs, press, step

PICK_A, PICK_B, PICK_C = step("s1", m.Pick("a")), step("s2", m.Pick("b")), step("s3", m.Pick("c"))


def test_start_logs_session_unit_and_first_step(make_engine) -> None:
    e: StepEngine = make_engine(PICK_A, PICK_B, station_id="st1", operator="op7")
    assert e.state.phase is Phase.WAITING and e.state.step_index == -1
    ev = e.start(0.0)
    assert kinds(ev) == ["session_start", "cycle_start", "step_start"]
    assert ev[0].get("station") == "st1" and ev[0].get("operator") == "op7" and ev[0].get("resumed") is False
    assert ev[0].utc == "2025-01-01T00:00:00.001+00:00"
    assert [e_.cycle for e_ in ev] == [1, 1, 1]
    assert (ev[0].step_uid, ev[1].step_uid, ev[2].step_uid) == ("", "", "s1")
    st = e.state
    assert (st.phase, st.step_index, st.step_uid, st.cycle, st.progress) == (Phase.RUNNING, 0, "s1", 0, 0.0)
    assert e.expected_bins() == ("a",)
    assert [rs.uid for rs in e.run_steps] == ["s1", "s2"]


def test_updates_and_presses_before_start_do_nothing(make_engine) -> None:
    e = make_engine(PICK_A)
    assert e.update(obs(0.0, picks=["a"])) == []
    assert e.handle_input(press(0.0)) == []
    assert e.tick(1.0) == [] and e.stop(1.0) == []
    assert e.state.phase is Phase.WAITING


def test_a_met_step_ends_and_the_next_starts_with_a_flash(make_engine) -> None:
    e = make_engine(step("s1", m.Pick("a"), expected_s=4.0), PICK_B)
    e.start(0.0)
    ev = e.update(obs(1.5, picks=["a"]))
    assert kinds(ev) == ["pick", "step_end", "step_start"]
    end = ev[1]
    assert end.step_uid == "s1" and end.get("result") == "done"
    assert end.get("duration_s") == 1.5 and end.get("expected_s") == 4.0 and end.get("errors") == 0
    assert ev[2].step_uid == "s2" and ev[2].get("index") == 1
    assert e.state.step_done_flash
    e.tick(2.0)
    assert e.state.step_done_flash
    e.tick(2.2)
    assert not e.state.step_done_flash


def test_events_are_known_kinds_in_time_order(make_engine) -> None:
    e = make_engine(PICK_A, PICK_B)
    ev = e.start(0.0) + feed(
        e, [obs(1.0, picks=["c"]), press(2.0), obs(2.5, picks=["a"]), obs(3.0, picks=["b"])]
    )
    ev += e.tick(5.0) + e.stop(6.0)
    assert all(x.kind in EVENT_KINDS for x in ev)
    assert [x.t for x in ev] == sorted(x.t for x in ev)


# ---------------------------------------------------------------------------------------------------
# NEXT / confirm


@pytest.mark.parametrize("button", [Button.NEXT, Button.CONFIRM])
def test_the_pedal_never_completes_a_step_that_does_not_ask_for_it(make_engine, button: Button) -> None:
    e = make_engine(PICK_A, PICK_B)
    e.start(0.0)
    ev = feed(e, [press(t, button) for t in (1.0, 2.0, 3.0, 4.0)])
    assert ev == []
    assert e.state.step_index == 0


def test_press_step_with_guard_and_bounce(make_engine) -> None:
    e = make_engine(step("check", m.Press()), step("check2", m.Press()), PICK_A)
    e.start(0.0)
    assert e.handle_input(press(0.2)) == []  # within the guard: the operator cannot have read the step
    assert kinds(e.handle_input(press(1.0))) == ["step_end", "step_start"]
    assert e.handle_input(press(1.05)) == []  # contact bounce of the same press
    assert e.handle_input(press(1.4)) == []  # a reflex double press right after the new step showed
    assert kinds(e.handle_input(press(2.0))) == ["step_end", "step_start"]
    assert e.state.step_uid == "s1"


def test_confirm_step_takes_only_confirm(make_engine) -> None:
    e = make_engine(step("ok", m.Press("confirm")), PICK_A)
    e.start(0.0)
    assert e.handle_input(press(1.0, Button.NEXT)) == []
    assert kinds(e.handle_input(press(2.0, Button.CONFIRM))) == ["step_end", "step_start"]


# ---------------------------------------------------------------------------------------------------
# BACK and SKIP


def test_back_returns_to_the_previous_step(make_engine) -> None:
    e = make_engine(PICK_A, PICK_B, PICK_C)
    e.start(0.0)
    e.update(obs(1.0, picks=["a"]))
    ev = e.handle_input(press(2.0, Button.BACK))
    assert kinds(ev) == ["back", "step_start"]  # the step left is not done: no step_end
    assert ev[0].get("from_index") == 1 and ev[0].get("to_index") == 0 and ev[0].get("refused") is False
    assert ev[0].step_uid == "s2" and ev[0].get("duration_s") == 1.0
    assert ev[1].step_uid == "s1"
    assert e.state.step_index == 0
    assert kinds(e.update(obs(3.0, picks=["a"]))) == ["pick", "step_end", "step_start"]  # done again


def test_back_on_the_first_step_is_refused_and_logged(make_engine) -> None:
    e = make_engine(PICK_A, PICK_B)
    e.start(0.0)
    ev = e.handle_input(press(1.0, Button.BACK))
    assert kinds(ev) == ["back"] and ev[0].get("refused") is True and ev[0].get("reason") == "first step"
    assert e.state.step_index == 0


@pytest.mark.parametrize(
    ("supervisor", "expected", "index_after"),
    [(False, ["skip"], 0), (True, ["skip", "step_end", "step_start"], 1)],
)
def test_skip_is_for_supervisors_only(
    make_engine, supervisor: bool, expected: list[str], index_after: int
) -> None:
    e = make_engine(PICK_A, PICK_B)
    e.start(0.0)
    ev = e.handle_input(press(1.0, Button.SKIP, supervisor=supervisor, source="keyboard"))
    assert kinds(ev) == expected
    assert ev[0].get("refused") is (not supervisor)
    if not supervisor:
        assert ev[0].get("reason") == "supervisor only"
    else:
        assert ev[1].get("result") == "skip" and not e.state.step_done_flash
    assert e.state.step_index == index_after


def test_skip_of_the_last_step_ends_the_unit_and_counts(make_engine) -> None:
    e = make_engine(PICK_A)
    e.start(0.0)
    ev = e.handle_input(press(1.0, Button.SKIP, supervisor=True))
    assert kinds(ev) == ["skip", "step_end", "cycle_end"]
    assert ev[-1].get("skips") == 1
    assert e.state.phase is Phase.DONE


# ---------------------------------------------------------------------------------------------------
# PAUSE


def test_pause_stops_the_step_clock_and_ignores_work(make_engine) -> None:
    e = make_engine(step("wait", m.Timer(2.0)), PICK_A)
    e.start(0.0)
    assert kinds(e.handle_input(press(1.0, Button.PAUSE))) == ["pause"]
    assert e.state.phase is Phase.PAUSED and e.expected_bins() == ()
    assert e.tick(5.0) == []
    ev = e.update(obs(5.5, picks=["a"]))
    assert kinds(ev) == ["pick"] and ev[0].get("ignored") == "paused" and ev[0].get("counted") is False
    assert e.handle_input(press(5.6, Button.NEXT)) == []
    assert kinds(e.handle_input(press(5.7, Button.BACK))) == ["back"]  # refused, logged
    ev = e.handle_input(press(6.0, Button.PAUSE))
    assert kinds(ev) == ["resume"] and ev[0].get("paused_s") == 5.0
    assert e.tick(6.9) == []
    ev = e.tick(7.05)
    assert kinds(ev) == ["step_end", "step_start"]
    assert ev[0].get("duration_s") == pytest.approx(2.05) and ev[0].get("paused_s") == pytest.approx(5.0)


def test_pause_makes_presence_be_seen_again(make_engine) -> None:
    e = make_engine(step("place", m.PartPresent("p")), PICK_A)
    e.start(0.0)
    feed(e, [obs(1.0 + i * 0.05, presence={"p": Presence.PRESENT}) for i in range(5)])  # 0.2 s of 0.3
    e.handle_input(press(1.25, Button.PAUSE))
    e.handle_input(press(3.0, Button.PAUSE))
    ev = feed(e, [obs(3.0 + i * 0.05, presence={"p": Presence.PRESENT}) for i in range(4)])  # 0.15 s
    assert ev == []
    ev = feed(e, [obs(3.2 + i * 0.05, presence={"p": Presence.PRESENT}) for i in range(4)])
    assert "step_end" in kinds(ev)


# ---------------------------------------------------------------------------------------------------
# HELP


def test_help_toggles_and_is_counted_in_the_step(make_engine) -> None:
    e = make_engine(PICK_A, PICK_B)
    e.start(0.0)
    ev = e.handle_input(press(1.0, Button.HELP, source="buttonbox"))
    assert kinds(ev) == ["help"] and ev[0].get("on") is True and ev[0].get("source") == "buttonbox"
    assert e.state.phase is Phase.HELP
    ev = e.update(obs(1.5, picks=["c"]))  # the supervisor shows a part: no error while help is there
    assert kinds(ev) == ["pick"] and ev[0].get("correct") is False
    ev = e.handle_input(press(2.0, Button.HELP))
    assert ev[0].get("on") is False and e.state.phase is Phase.RUNNING
    ev = e.update(obs(2.5, picks=["a"]))
    assert ev[1].kind == "step_end" and ev[1].get("help") == 1


def test_work_goes_on_while_help_is_on(make_engine) -> None:
    e = make_engine(PICK_A, PICK_B)
    e.start(0.0)
    e.handle_input(press(1.0, Button.HELP))
    assert kinds(e.update(obs(1.5, picks=["a"]))) == ["pick", "step_end", "step_start"]
    assert e.state.phase is Phase.HELP and e.state.step_index == 1
