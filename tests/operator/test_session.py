"""An operator's session on the LED fixture, driven by synthetic observations, with the real event log.

Several clean units lower the guidance level, a unit with a mistake raises it again, a stalled step
gets escalating help and a supervisor call; every change is in the log.
"""

from __future__ import annotations

from pathlib import Path

from oss.engine.guidance import HesitationPolicy
from oss.log.store import EventStore
from oss.operator.adaptive import LevelPolicy
from oss.operator.profile import OperatorProfile
from oss.operator.session import OperatorSession, SessionSettings
from oss.records import Button, LogEvent
from tests.engine.builders import Script, StepClock, perform
from tests.render.conftest import make_calibration


def settings(sample_instruction, **kw) -> SessionSettings:
    return SessionSettings(
        instruction=sample_instruction,
        variant="w40",
        calibration=make_calibration(),
        station_id="st-1",
        utc_clock=StepClock(),
        level_policy=LevelPolicy(clean_units=3),
        hesitation=HesitationPolicy(animation_after_s=2.0, sound_after_s=4.0, call_after_s=6.0),
        **kw,
    )


def drive(session: OperatorSession, script: Script, store: EventStore) -> list[LogEvent]:
    out: list[LogEvent] = []
    for it in script.items:
        if isinstance(it, Button):
            continue
        events = session.update(it) if hasattr(it, "frame_index") else session.handle_input(it)
        store.append_many(session.session_id, events)
        out += events
    script.items.clear()
    return out


def do_unit(
    session: OperatorSession, script: Script, store: EventStore, *, wrong_at: str = "", stall_at: str = ""
) -> list[LogEvent]:
    events: list[LogEvent] = []
    for rs in session.engine.run_steps:
        if rs.uid == wrong_at:
            script.pick("bin_lens").frames(0.5).pick("bin_lens").frames(0.5)  # wrong, then put back
        if rs.uid == stall_at:
            script.frames(20.0)  # nothing happens: the operator is stuck
            events += drive(session, script, store)
            help_off = session.handle_input(Script(t=script.t).press(Button.HELP).items[0])  # supervisor
            store.append_many(session.session_id, help_off)
            events += help_off
        perform(script, rs.done)
        events += drive(session, script, store)
    script.frames(2.0)  # the DONE phase
    return events + drive(session, script, store)


def levels(store: EventStore) -> list[tuple[str | None, str, bool, str]]:
    return [
        (e.get("previous"), str(e.get("level")), bool(e.get("changed")), str(e.get("reason")))
        for e in store.events(kinds=("level",))
    ]


def test_clean_units_lower_the_level_an_error_raises_it_and_the_next_session_continues(
    sample_instruction, tmp_path: Path, player
) -> None:
    store = EventStore(tmp_path / "log.sqlite", "st-1")
    anna = OperatorProfile("anna", name="Anna", volume=0.4)
    s = OperatorSession(settings(sample_instruction), anna, store, sounds=player)
    store.append_many(s.session_id, s.start(0.5))
    script = Script(t=1.0)
    for _ in range(3):
        do_unit(s, script, store)
    assert s.guidance.level == "reduced"
    store.append_many(s.session_id, s.stop(script.t))
    store.close_session(s.session_id)
    first, change = levels(store)
    assert first == (None, "full", False, "from the log")
    prev, lvl, changed, reason = change
    assert (prev, lvl, changed) == ("full", "reduced", True)
    assert reason.startswith("3 clean units in a row, at ") and reason.endswith("% of the expected time")
    # the next day: the level comes from the log; a mistake sends it back to full
    s2 = OperatorSession(settings(sample_instruction), anna, store, sounds=player)
    store.append_many(s2.session_id, s2.start(0.5))
    assert s2.view().level == "reduced" and s2.view().shown == "reduced"
    script = Script(t=1.0)
    do_unit(s2, script, store, wrong_at="thermal_pad")
    assert levels(store)[2:] == [
        (None, "reduced", False, "from the log"),
        ("reduced", "full", True, "unit 1: 1 error"),
    ]
    rows = store.events(kinds=("level",))
    assert {r.operator for r in rows} == {"anna"} and rows[-1].cycle == 1
    names = [n for n, _ in player.played]
    assert {"step", "done", "error"} <= set(names) and all(v == 0.4 for _, v in player.played)
    store.close()


def test_a_stalled_step_gets_help_then_a_supervisor_and_the_level_goes_back(
    sample_instruction, tmp_path: Path, player
) -> None:
    store = EventStore(tmp_path / "log.sqlite", "st-1")
    bo = OperatorProfile("bo", name="Bo", level="auto")
    s = OperatorSession(settings(sample_instruction), bo, store, sounds=player)
    s.level.level = "reduced"  # as if the log said so
    s.guidance.set_level("reduced")
    store.append_many(s.session_id, s.start(0.5))
    script = Script(t=1.0)
    events = do_unit(s, script, store, stall_at="connect_module")
    hes = [(e.get("stage"), e.get("name"), e.step_uid) for e in events if e.kind == "hesitation"]
    assert hes == [
        (1, "more", "connect_module"),
        (2, "animation", "connect_module"),
        (3, "sound", "connect_module"),
        (4, "supervisor", "connect_module"),
    ]
    helps = [(e.get("on"), e.get("source")) for e in events if e.kind == "help"]
    assert helps == [(True, "hesitation"), (False, "pedal")]
    assert s.supervisor_calls and s.supervisor_calls[0][1] == "connect_module"
    change = [e for e in events if e.kind == "level" and e.get("changed")]
    assert len(change) == 1 and change[0].get("level") == "full"
    assert "hesitated at connect_module" in str(change[0].get("reason"))
    assert "called for help" in str(change[0].get("reason"))
    stored = [e.kind for e in store.events(s.session_id)]
    assert stored.count("hesitation") == 4 and "level" in stored
    store.close()
