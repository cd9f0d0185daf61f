"""The station's side of the monitor: actions reach the operator's session and every one is logged."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from oss.log.store import EventStore
from oss.monitor import SupervisorConsole, SupervisorMonitor
from oss.monitor.link import MonitorLink
from oss.operator.profile import OperatorProfile
from oss.operator.session import OperatorSession
from oss.perception.alignment import shifted_calibration
from oss.records import Button, InputEvent, LogEvent, Phase
from oss.sim.scenario import Deviation, load_scenario
from oss.station.sim_link import sim_station
from tests.operator.test_session import settings

from .conftest import PIN, Clock, distorted_calibration


@pytest.fixture()
def rig(sample_instruction, tmp_path: Path):
    clock = Clock()
    store = EventStore(tmp_path / "log.sqlite", "st-1")
    session = OperatorSession(settings(sample_instruction), OperatorProfile("anna", sound=False), store)
    session.start(0.5)
    mon = SupervisorMonitor(SupervisorConsole(PIN, clock=clock), clock=clock)
    link = MonitorLink(mon, sample_instruction, "w40", distorted_calibration(), "st-1")
    yield link, mon, session, clock
    store.close()


def kinds(events) -> list[str]:
    return [e.kind for e in events]


def test_pin_then_skip_logs_who_and_what_and_the_engine_moves_on(rig) -> None:
    link, mon, session, _ = rig
    mon.press("S")  # locked
    ev = link.act(session, 2.0)
    assert kinds(ev) == ["supervisor"]
    assert (ev[0].get("action"), ev[0].get("accepted")) == ("skip", False)
    assert ev[0].get("reason") == "locked: type the PIN and press Enter"
    assert session.engine.state.step_index == 0
    mon.type_keys("_2", "_4", "_6", "_8", "ENTER", "S")
    ev = link.act(session, 3.0)
    assert kinds(ev) == ["supervisor", "supervisor", "skip", "step_end", "step_start"]
    unlock, sup, skip = ev[0], ev[1], ev[2]
    assert (unlock.get("action"), unlock.get("accepted"), unlock.get("who")) == ("unlock", True, "supervisor")
    assert (sup.get("action"), sup.get("accepted"), sup.get("source")) == ("skip", True, "monitor")
    assert (skip.get("refused"), skip.get("source"), skip.get("device")) == (False, "monitor", "monitor")
    assert ev[3].get("result") == "skip" and session.engine.state.step_index == 1
    assert sup.step_uid == session.engine.run_steps[0].uid and sup.cycle == 1
    assert mon.console.status().message == "Step skipped."


def test_a_skip_the_station_refuses_is_shown_as_refused(rig) -> None:
    link, mon, session, _ = rig
    session.handle_input(InputEvent(Button.PAUSE, "pedal", 1.0))
    mon.type_keys("_2", "_4", "_6", "_8", "ENTER", "S")
    ev = link.act(session, 2.0)
    assert kinds(ev) == ["supervisor", "supervisor", "skip"] and ev[2].get("refused") is True
    st = mon.console.status()
    assert st.warning and st.message == "Refused by the station: paused."


def test_level_keys_restart_and_answering_a_call(rig) -> None:
    link, mon, session, _ = rig
    mon.type_keys("_2", "_4", "_6", "_8", "ENTER", "L")  # auto (at full) → the next setting: full, fixed
    ev = link.act(session, 2.0)
    assert kinds(ev) == ["supervisor", "supervisor", "level"]
    assert ev[1].get("level") == "full" and (ev[2].get("level"), ev[2].get("mode")) == ("full", "fixed")
    assert ev[2].get("changed") is False and ev[2].get("by") == "supervisor"
    mon.press("L")
    ev = link.act(session, 2.2)
    assert (ev[-1].get("previous"), ev[-1].get("level"), ev[-1].get("changed")) == ("full", "reduced", True)
    mon.press("MINUS")
    ev = link.act(session, 2.5)
    assert ev[-1].get("level") == "minimal" and session.view().level == "minimal"
    mon.press("MINUS")  # minimal already: logged, nothing changes
    ev = link.act(session, 3.0)
    assert kinds(ev) == ["supervisor"] and mon.console.status().message == "The level is minimal already."
    mon.press("H")  # no call: nothing to answer
    assert kinds(link.act(session, 3.5)) == ["supervisor"] and mon.console.status().warning
    session.handle_input(InputEvent(Button.HELP, "buttonbox", 4.0))
    assert session.engine.state.phase is Phase.HELP
    mon.press("H")
    ev = link.act(session, 5.0)
    assert (
        kinds(ev) == ["supervisor", "help"] and ev[1].get("on") is False and ev[1].get("source") == "monitor"
    )
    assert session.engine.state.phase is Phase.RUNNING
    mon.press("R")
    ev = link.act(session, 6.0)
    assert kinds(ev)[:2] == ["supervisor", "restart"] and "cycle_start" in kinds(ev)


def test_with_nobody_signed_in_actions_are_refused_and_nothing_is_logged(rig) -> None:
    link, mon, _, _ = rig
    mon.type_keys("_2", "_4", "_6", "_8", "ENTER", "S")
    assert link.act(None, 1.0) == []
    assert mon.console.status().message == "Refused: nobody is signed in."


def test_feed_hands_the_events_on_once_and_measures_its_cost(rig) -> None:
    link, mon, session, clock = rig
    link.logged([LogEvent("pick", 1.0, "2025-01-01T00:00:01.000+00:00", "x", 1)])
    link.feed(None, None, session.engine.state, session, 1.0)
    clock.advance(1.0)
    link.feed(None, None, session.engine.state, session, 1.1)
    assert [e.kind for e in mon.model.events] == ["pick"]
    snap = mon.model.snap
    assert snap is not None and snap.signed_in and snap.operator == "anna" and snap.level == "full"
    assert snap.expected_bins == session.engine.expected_bins()
    assert len(link.tick_ms) == 2 and mon.draws == 2


def test_follow_draws_with_the_realigned_calibration(rig) -> None:
    """After the camera's view moved and perception re-aligned it, the monitor draws the bench where the
    camera sees it now."""
    link, mon, _session, _clock = rig
    assert mon.view is not None
    before = mon.view.bench_to_view([(300.0, 200.0)])
    moved = shifted_calibration(mon.view.calibration, 4.0, 2.0)
    link.follow(moved)
    assert mon.view.calibration is moved
    after = mon.view.bench_to_view([(300.0, 200.0)])
    assert not np.allclose(before, after, atol=0.5)
    assert np.allclose(after, mon.view.camera_to_view(moved.bench_to_camera(np.array([(300.0, 200.0)]))))


def test_a_knocked_bench_at_the_station_is_followed_by_the_monitor_too(tmp_path: Path) -> None:
    """End to end on the virtual bench: the bench knocked 4 mm under camera and projector; once the station
    has re-aligned, the monitor's calibration is perception's (it used to keep the old one)."""
    sc = load_scenario("led_basic")
    bump = Deviation("bump_bench", at_s=1.0, params=(("dx_mm", 4.0), ("dy_mm", 2.0), ("angle_deg", 0.0)))
    sc = replace(sc, deviations=(bump,))
    clock = Clock()
    mon = SupervisorMonitor(SupervisorConsole(PIN, clock=clock), clock=clock)
    with EventStore(tmp_path / "log.sqlite", "sim") as store:
        station, bench = sim_station(
            sc, sc.load_instruction(), store, max_cycles=1, operator="sam",
            profile=OperatorProfile("sam", sound=False), monitor=mon,
        )
        station.start()
        start = station.perception.calibration
        while not station.perception.aligner.total.any() and bench.t < 4.0:
            station.tick()
        assert np.hypot(*station.perception.aligner.total) > 3.0  # re-aligned
        assert mon.view is not None and mon.view.calibration is station.perception.calibration
        assert mon.view.calibration is not start
