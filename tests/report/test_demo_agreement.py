"""The supervisor report of a station run on the virtual bench agrees with the run's own summary."""

from __future__ import annotations

from pathlib import Path

from oss.log.store import EventStore
from oss.report import build_report
from oss.sim.scenario import load_scenario
from oss.station.sim_link import sim_station


def test_report_of_a_simulated_run_agrees_with_its_summary(tmp_path: Path) -> None:
    sc = load_scenario("led_pick_errors")
    db = tmp_path / "station.sqlite"
    with EventStore(db, "sim-report") as store:
        station, bench = sim_station(sc, sc.load_instruction(), store, max_cycles=1, operator="ann")
        station.start()
        result = station.run(stop_when=lambda: bench.t >= 24.0)
    events = result.events
    summary = build_report([db]).table("summary").as_dict()
    steps_done = sum(1 for e in events if e.kind == "step_end" and e.get("result") == "done")
    errors = sum(1 for e in events if e.kind == "error" and e.get("cleared") is False)
    assert steps_done >= 3 and errors >= 1  # the run got somewhere and made its scripted mistake
    assert summary["units"] == result.cycles_completed
    assert summary["steps_done"] == steps_done
    assert summary["errors"] == errors
    assert summary["picks"] == sum(1 for e in events if e.kind == "pick")
    assert summary["events"] == len(events)
