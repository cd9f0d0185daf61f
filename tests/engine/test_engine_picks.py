"""StepEngine: wrong picks are errors at once, and how they clear; correct, extra and early picks."""

from __future__ import annotations

import pytest

from oss.engine import EngineConfig, StepEngine
from oss.instructions import model as m
from oss.records import Button, Phase, Presence
from tests.engine.builders import feed, kinds, obs, press, step

HINT = {"en": "Take A", "nl": "Pak A"}


def started(make_engine, *steps: m.Step, **kw: object) -> StepEngine:
    e: StepEngine = make_engine(*steps, **kw)
    e.start(0.0)
    return e


def test_a_wrong_pick_is_an_error_at_once(make_engine) -> None:
    e = started(make_engine, step("s1", m.Pick("a"), hint=HINT), step("s2", m.Pick("b")))
    ev = e.update(obs(1.0, picks=["c"]))
    assert kinds(ev) == ["pick", "error"]
    assert ev[0].get("correct") is False and ev[0].get("counted") is False
    err = ev[1]
    assert (err.get("bin"), err.get("expected"), err.get("step"), err.get("cleared")) == (
        "c",
        "a",
        "s1",
        False,
    )
    st = e.state
    assert (st.phase, st.error_bin, st.error_hint) == (Phase.ERROR, "c", "Take A")
    assert e.expected_bins() == ("a",)


@pytest.mark.parametrize(
    ("action", "by", "after"),
    [
        (obs(2.0, picks=["c"]), "put_back", ["pick", "error"]),
        (press(2.0), "acknowledged", ["error"]),
        (press(2.0, Button.CONFIRM), "acknowledged", ["error"]),
        (obs(2.0, picks=["a"]), "correct_pick", ["pick", "error", "step_end", "step_start"]),
    ],
)
def test_the_error_clears(make_engine, action, by: str, after: list[str]) -> None:
    e = started(make_engine, step("s1", m.Pick("a"), hint=HINT), step("s2", m.Pick("b")))
    e.update(obs(1.0, picks=["c"]))
    ev = feed(e, [action])
    assert kinds(ev) == after
    cleared = next(x for x in ev if x.kind == "error")
    assert cleared.get("cleared") is True and cleared.get("by") == by and cleared.get("bin") == "c"
    assert e.state.phase is Phase.RUNNING and e.state.error_bin == "" and e.state.error_hint == ""
    if by == "put_back":
        assert ev[0].get("put_back") is True and ev[0].get("counted") is False


def test_an_acknowledge_right_as_the_error_appears_is_not_taken(make_engine) -> None:
    e = started(make_engine, step("s1", m.Pick("a")), step("s2", m.Pick("b")))
    e.update(obs(1.0, picks=["c"]))
    assert e.handle_input(press(1.2)) == []
    assert e.state.phase is Phase.ERROR


def test_two_wrong_bins_must_both_go_back(make_engine) -> None:
    e = started(make_engine, step("s1", m.Pick("a")), step("s2", m.Pick("b")))
    ev = feed(e, [obs(1.0, picks=["c"]), obs(1.5, picks=["d"])])
    assert kinds(ev) == ["pick", "error", "pick", "error"]
    assert e.state.error_bin == "d"
    assert kinds(e.update(obs(2.0, picks=["c"]))) == ["pick"]  # c back, d still out
    assert e.state.phase is Phase.ERROR and e.state.error_bin == "d"
    assert kinds(e.update(obs(2.5, picks=["d"]))) == ["pick", "error"]
    assert e.state.phase is Phase.RUNNING


@pytest.mark.parametrize(
    ("language", "hint", "shown"),
    [
        ("en", None, "Put it back. Take from the lit bin."),
        ("nl", None, "Leg het terug. Pak uit de verlichte bak."),
        ("nl", HINT, "Pak A"),
        ("de", HINT, "Take A"),  # no German: the instruction's default language
    ],
)
def test_error_hint_in_the_operators_language(make_engine, language: str, hint, shown: str) -> None:
    e = started(make_engine, step("s1", m.Pick("a"), hint=hint), language=language)
    ev = e.update(obs(1.0, picks=["b"]))
    assert e.state.error_hint == shown and ev[1].get("hint") == shown


@pytest.mark.parametrize(
    ("steps", "picks", "errors"),
    [
        pytest.param([step("s1", m.Pick("a"), allowed=("b",))], ["b"], 0, id="rule allows another bin"),
        pytest.param(
            [step("s1", m.Sequence((m.Pick("a"), m.HandIn("p"))))], ["a", "a"], 0, id="extra from its bin"
        ),
        pytest.param([step("s1", m.HandIn("p"))], ["a"], 1, id="a step without picks"),
        pytest.param([step("s1", m.Pick("a"), repeat=2)], ["a", "b"], 1, id="wrong on the repetition"),
    ],
)
def test_which_picks_are_errors(make_engine, steps, picks: list[str], errors: int) -> None:
    e = started(make_engine, *steps)
    ev = feed(e, [obs(1.0 + i, picks=[b]) for i, b in enumerate(picks)])
    assert sum(1 for x in ev if x.kind == "error") == errors
    assert sum(1 for x in ev if x.kind == "pick") == len(picks)


def test_frames_during_an_error_do_not_complete_the_step(make_engine) -> None:
    e = started(
        make_engine, step("s1", m.Sequence((m.Pick("a"), m.PartPresent("p")))), step("s2", m.Pick("b"))
    )
    e.update(obs(1.0, picks=["a"]))
    e.update(obs(1.1, picks=["c"]))
    present = [obs(1.2 + i * 0.05, presence={"p": Presence.PRESENT}) for i in range(20)]
    assert kinds(feed(e, present)) == []
    assert kinds(e.handle_input(press(2.5))) == ["error"]
    ev = feed(e, [obs(2.5 + i * 0.05, presence={"p": Presence.PRESENT}) for i in range(10)])
    end = next(x for x in ev if x.kind == "step_end")
    assert end.t >= 2.5 + 0.3 and end.get("errors") == 1


def test_a_pick_the_next_step_starts_with_is_kept_for_it(make_engine) -> None:
    e = started(
        make_engine, step("s1", m.Sequence((m.Pick("a"), m.PartPresent("p")))), step("s2", m.Pick("b"))
    )
    e.update(obs(1.0, picks=["a"]))
    ev = e.update(obs(1.2, picks=["b"]))  # reaching ahead before the part in p is confirmed
    assert kinds(ev) == ["pick"] and ev[0].get("early") is True and ev[0].get("correct") is True
    ev = feed(e, [obs(1.3 + i * 0.05, presence={"p": Presence.PRESENT}) for i in range(12)])
    assert kinds(ev) == ["step_end", "step_start", "step_end", "cycle_end"]
    assert not any(x.kind == "error" for x in ev)


@pytest.mark.parametrize(
    ("first", "config"),
    [
        pytest.param(step("s1", m.Pick("a")), EngineConfig(), id="the step still needs its own pick"),
        pytest.param(
            step("s1", m.Sequence((m.Pick("a"), m.HandIn("p")))),
            EngineConfig(carry_early_picks=False),
            id="carrying switched off",
        ),
    ],
)
def test_reaching_ahead_is_an_error_when(make_engine, first: m.Step, config: EngineConfig) -> None:
    e = started(make_engine, first, step("s2", m.Pick("b")), debounce=config)
    if config.carry_early_picks is False:
        e.update(obs(0.5, picks=["a"]))
    ev = e.update(obs(1.0, picks=["b"]))
    assert kinds(ev) == ["pick", "error"]


def test_only_as_many_early_picks_as_the_next_step_needs(make_engine) -> None:
    screw = m.Sequence((m.Pick("a"), m.HandIn("p", dwell_s=0.5)))
    e = started(make_engine, step("screw", screw, repeat=2))
    ev = feed(e, [obs(1.0, picks=["a"]), obs(1.5, picks=["a"]), obs(2.0, picks=["a"])])
    assert [x.get("early") for x in ev] == [False, True, False]  # the third is a correct extra
    assert not any(x.kind == "error" for x in ev)
    ev = feed(e, [obs(2.5 + i * 0.05, hands=["p"]) for i in range(12)])
    assert kinds(ev) == ["step_end", "step_start"]
    ev = feed(e, [obs(3.5, hands=[]), *[obs(3.6 + i * 0.05, hands=["p"]) for i in range(12)]])
    assert kinds(ev) == ["step_end", "cycle_end"]  # the second screw needed no new pick
