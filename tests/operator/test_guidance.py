"""Hesitation help and what is shown per level, on the real step engine with synthetic observations."""

from __future__ import annotations

import pytest

from oss.engine import StepEngine
from oss.engine.guidance import GuidanceController, HesitationPolicy
from oss.instructions import model as m
from oss.records import Button, LogEvent, Phase
from tests.engine.builders import StepClock, instruction, obs, press, step

POLICY = HesitationPolicy(animation_after_s=4.0, sound_after_s=8.0, call_after_s=12.0)


def setup(expected_s: float = 6.0, level: str = "minimal") -> tuple[StepEngine, GuidanceController]:
    ins = instruction(
        step("take", m.Sequence((m.Pick("a"), m.HandIn("p", 0.5))), expected_s=expected_s),
        step("check", m.Press("next"), expected_s=3.0),
    )
    engine = StepEngine(ins, None, utc_clock=StepClock())
    return engine, GuidanceController(level, POLICY, utc_clock=StepClock())


def run(engine: StepEngine, g: GuidanceController, t0: float, t1: float, fps: float = 10.0, **frame):
    """Frames from t0 to t1; returns the guidance events, sounds and supervisor calls on the way."""
    events: list[LogEvent] = []
    sounds: list[str] = []
    calls = 0
    n = round((t1 - t0) * fps)
    for i in range(1, n + 1):
        t = t0 + i / fps
        ev = engine.update(obs(t, **frame))
        up = g.update(t, engine.state, engine.current_step, ev)
        events += up.events
        sounds += up.sounds
        if up.call_supervisor:
            calls += 1
            help_ev = engine.handle_input(press(t, Button.HELP, source="hesitation"))
            g.update(t, engine.state, engine.current_step, help_ev)
    return events, sounds, calls


def test_stalled_step_escalates_more_animation_sound_then_supervisor() -> None:
    engine, g = setup(expected_s=6.0)
    started = engine.start(0.0)
    g.update(0.0, engine.state, engine.current_step, started)
    assert g.view().shown == "minimal" and not g.view().animate
    th = POLICY.thresholds(6.0)
    assert th == (9.0, 13.0, 17.0, 21.0)  # 1.5 x 6 s, then +4, +8, +12
    events, sounds, calls = run(engine, g, 0.0, 30.0)
    stages = [(e.get("stage"), e.get("name"), round(e.t, 1)) for e in events]
    assert stages == [(1, "more", 9.0), (2, "animation", 13.0), (3, "sound", 17.0), (4, "supervisor", 21.0)]
    assert all(e.kind == "hesitation" and e.step_uid == "take" and e.cycle == 1 for e in events)
    assert sounds == ["attention", "attention"] and calls == 1
    assert engine.state.phase is Phase.HELP  # the stack light goes yellow, the panel says help is coming
    v = g.view()
    assert (v.shown, v.animate, v.stage, v.help_hint) == ("full", True, 4, False)


def test_progress_restarts_the_clock_and_a_new_step_starts_at_nothing() -> None:
    engine, g = setup(expected_s=6.0)
    started = engine.start(0.0)
    g.update(0.0, engine.state, engine.current_step, started)
    events, _, _ = run(engine, g, 0.0, 8.0)
    assert events == []
    pick = engine.update(obs(8.1, picks=["a"]))  # a counted pick: progress
    g.update(8.1, engine.state, engine.current_step, pick)
    events, _, _ = run(engine, g, 8.1, 16.0)
    assert events == []  # 7.9 s since the pick, under 9 s
    events, _, _ = run(engine, g, 16.0, 17.5)
    assert [e.get("stage") for e in events] == [1]
    assert g.view().shown == "full"
    more, _, _ = run(engine, g, 17.5, 18.5, hands=["p"])  # dwell in p: the step is done
    assert engine.current_step is not None and engine.current_step.uid == "check"
    assert g.stage == 0 and g.view().shown == "minimal"


def test_a_pedal_press_the_step_does_not_take_is_help_at_once_and_twice_calls() -> None:
    engine, g = setup()
    started = engine.start(0.0)
    g.update(0.0, engine.state, engine.current_step, started)
    run(engine, g, 0.0, 2.0)
    up = g.on_input(press(2.0), engine.state, engine.current_step)
    assert [e.get("stage") for e in up.events] == [1, 2] and up.full_shown
    assert all(e.get("source") == "press" for e in up.events)
    assert g.view().animate and g.view().help_hint
    up = g.on_input(press(3.0), engine.state, engine.current_step)
    assert [e.get("stage") for e in up.events] == [3, 4] and up.call_supervisor
    # on a step that wants the pedal, the press is the step's, not a call for help
    engine2, g2 = setup()
    started = engine2.start(0.0)
    g2.update(0.0, engine2.state, engine2.current_step, started)
    done = engine2.update(obs(1.0, picks=["a"])) + [
        e for t in (1.1, 1.3, 1.5, 1.7) for e in engine2.update(obs(t, hands=["p"]))
    ]
    g2.update(1.7, engine2.state, engine2.current_step, done)
    assert engine2.current_step is not None and engine2.current_step.uid == "check"
    assert g2.on_input(press(3.0), engine2.state, engine2.current_step).events == []


def test_an_error_shows_full_guidance_for_the_rest_of_the_step_and_sounds() -> None:
    engine, g = setup(level="reduced")
    started = engine.start(0.0)
    g.update(0.0, engine.state, engine.current_step, started)
    ev = engine.update(obs(1.0, picks=["b"]))  # wrong bin
    up = g.update(1.0, engine.state, engine.current_step, ev)
    assert up.sounds == ["error"] and up.full_shown
    assert engine.state.phase is Phase.ERROR and g.view().shown == "full"
    ev = engine.update(obs(2.0, picks=["b"]))  # put back: cleared, still full for this step
    g.update(2.0, engine.state, engine.current_step, ev)
    assert engine.state.phase is Phase.RUNNING and g.view().shown == "full"


def test_pause_and_help_stop_the_hesitation_clock_and_help_off_goes_on_at_stage_one() -> None:
    engine, g = setup(expected_s=6.0)
    started = engine.start(0.0)
    g.update(0.0, engine.state, engine.current_step, started)
    run(engine, g, 0.0, 5.0)
    ev = engine.handle_input(press(5.0, Button.PAUSE))
    g.update(5.0, engine.state, engine.current_step, ev)
    events, _, _ = run(engine, g, 5.0, 60.0)
    assert events == []  # a break is no hesitation
    ev = engine.handle_input(press(60.0, Button.PAUSE))
    g.update(60.0, engine.state, engine.current_step, ev)
    events, _, calls = run(engine, g, 60.0, 81.0)
    assert [e.get("stage") for e in events] == [1, 2, 3, 4] and calls == 1
    events, _, _ = run(engine, g, 81.0, 200.0)
    assert events == []  # the supervisor is there: no more calls
    ev = engine.handle_input(press(200.0, Button.HELP, source="keyboard"))  # supervisor done
    g.update(200.0, engine.state, engine.current_step, ev)
    assert g.stage == 1 and g.view().shown == "full"
    events, _, calls = run(engine, g, 200.0, 213.0)
    assert [e.get("stage") for e in events] == [2, 3, 4] and calls == 1


@pytest.mark.parametrize(("expected", "t1"), [(None, 15.0), (1.0, 4.0), (20.0, 30.0)])
def test_threshold_of_more_guidance(expected: float | None, t1: float) -> None:
    assert HesitationPolicy().thresholds(expected)[0] == t1
