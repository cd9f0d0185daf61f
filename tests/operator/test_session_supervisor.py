"""What a supervisor may do to an operator's session: set the guidance level, restart the unit."""

from __future__ import annotations

from pathlib import Path

import pytest

from oss.log.store import EventStore
from oss.operator.profile import OperatorProfile
from oss.operator.session import OperatorSession
from oss.records import OssError, Phase
from tests.engine.builders import Script, perform

from .test_session import do_unit, drive, settings


def test_a_fixed_level_set_by_the_supervisor_holds_and_is_logged(sample_instruction, tmp_path: Path) -> None:
    store = EventStore(tmp_path / "log.sqlite", "st-1")
    anna = OperatorProfile("anna", name="Anna", sound=False)  # level auto: full for someone new
    s = OperatorSession(settings(sample_instruction), anna, store)
    store.append_many(s.session_id, s.start(0.5))
    assert (s.level.level, s.level.mode) == ("full", "auto")
    ev = s.set_level("minimal", 2.0, by="supervisor")
    store.append_many(s.session_id, ev)
    (lv,) = ev
    assert lv.kind == "level" and lv.cycle == 1
    assert (lv.get("previous"), lv.get("level"), lv.get("mode"), lv.get("changed")) == (
        "full",
        "minimal",
        "fixed",
        True,
    )
    assert lv.get("reason") == "set by supervisor" and lv.get("by") == "supervisor"
    assert s.view().level == "minimal" and s.guidance.level == "minimal"
    # clean units at a fixed level change nothing any more
    script = Script(t=3.0)
    for _ in range(3):
        do_unit(s, script, store)
    assert s.level.level == "minimal"
    assert [e.get("reason") for e in store.events(kinds=("level",))] == ["from the log", "set by supervisor"]
    store.close()


def test_auto_goes_back_to_the_level_from_the_log(sample_instruction, tmp_path: Path) -> None:
    store = EventStore(tmp_path / "log.sqlite", "st-1")
    bo = OperatorProfile("bo", name="Bo", level="reduced", sound=False)
    s = OperatorSession(settings(sample_instruction), bo, store)
    store.append_many(s.session_id, s.start(0.5))
    assert (s.level.level, s.level.mode) == ("reduced", "fixed")
    (lv,) = s.set_level("auto", 1.0)
    assert (lv.get("previous"), lv.get("level"), lv.get("mode"), lv.get("changed")) == (
        "reduced",
        "full",
        "auto",
        True,
    )
    assert s.level.auto and s.guidance.level == "full"
    (same,) = s.set_level("auto", 1.5)
    assert same.get("changed") is False
    with pytest.raises(OssError, match="unknown guidance level 'most'"):
        s.set_level("most", 2.0)
    store.close()


def test_restart_starts_the_unit_over_and_the_guidance_follows(sample_instruction, tmp_path: Path) -> None:
    store = EventStore(tmp_path / "log.sqlite", "st-1")
    s = OperatorSession(settings(sample_instruction), OperatorProfile("cy", sound=False), store)
    store.append_many(s.session_id, s.start(0.5))
    script = Script(t=1.0)
    first = s.engine.run_steps[0]
    perform(script, first.done)
    drive(s, script, store)
    assert s.engine.state.step_index == 1
    script.frames(25.0)  # stalled at step 2: hesitation help, then a supervisor call
    drive(s, script, store)
    assert s.view().stage == 4 and s.engine.state.phase is Phase.HELP
    ev = s.restart_unit(script.t, "monitor", "monitor", supervisor=True)
    assert [e.kind for e in ev][:1] == ["restart"] and "cycle_start" in [e.kind for e in ev]
    assert s.engine.state.step_index == 0 and s.view().stage == 0  # a new step: no hesitation
    assert s.engine.state.phase is Phase.HELP  # the call stays on until it is answered (Help)
    refused = s.restart_unit(script.t + 1, "keyboard")
    assert refused[0].get("refused") is True and s.engine.state.step_index == 0
    store.close()
