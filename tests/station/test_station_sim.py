"""The whole station on the virtual bench: real perception, engine, renderer and log, closed loop."""

from __future__ import annotations

from pathlib import Path

import pytest

from oss.log.store import EventStore
from oss.records import Phase
from oss.sim.scenario import load_scenario
from oss.station.evaluate import step_verdicts
from oss.station.loop import RunResult, Station
from oss.station.sim_link import sim_station


def run_until(
    scenario: str, tmp_path: Path, until_s: float, **kw: object
) -> tuple[Station, RunResult, object]:
    sc = load_scenario(scenario)
    ins = sc.load_instruction()
    store = EventStore(tmp_path / "log.sqlite", "test-station")
    station, bench = sim_station(sc, ins, store, max_cycles=1, **kw)
    station.start()
    result = station.run(stop_when=lambda: bench.t >= until_s or bench.finished)
    stored = store.events()
    store.close()
    return station, result, (bench, stored)


def test_first_steps_advance_correctly_and_every_event_is_stored(tmp_path: Path) -> None:
    station, result, (bench, stored) = run_until("led_basic", tmp_path, until_s=17.0)
    gt = bench.ground_truth()
    verdicts = [v for v in step_verdicts(result.events, gt) if v.t_done is not None and v.t_done < 16.0]
    assert len(verdicts) >= 3, verdicts  # housing, thermal pad, LED module
    assert all(v.verdict == "correct" for v in verdicts), verdicts
    assert not [v for v in step_verdicts(result.events, gt) if v.verdict == "false_advance"]
    # the log holds exactly what the engine emitted, in order
    assert [e.id for e in stored] and [(e.kind, e.step_uid) for e in stored] == [
        (e.kind, e.step_uid) for e in result.events
    ]
    assert result.frames == bench.index
    assert station.projector_image is not None
    assert station.projector_image.shape[:2] == (bench.projector_size[1], bench.projector_size[0])


def test_wrong_pick_is_shown_at_once_and_a_pass_over_is_not_a_pick(tmp_path: Path) -> None:
    station, result, (bench, _stored) = run_until("led_pick_errors", tmp_path, until_s=24.0)
    gt = bench.ground_truth()
    wrong = [p for p in gt.picks if p.wrong and p.kind == "take"]
    assert wrong and wrong[0].bin == "bin_led40"
    errors = [e for e in result.events if e.kind == "error" and e.get("cleared") is False]
    assert [e.get("bin") for e in errors] == ["bin_led40"]
    # raised while the hand was still on its way out of the wrong bin or right after
    assert wrong[0].t_enter <= errors[0].t <= wrong[0].t_leave + 0.5
    passes = [p for p in gt.picks if p.kind == "pass_over"]
    assert passes, "the scenario has a pass over the pad bin"
    assert not [
        e
        for e in result.events
        if e.kind == "pick" and e.get("bin") == "bin_pad" and e.t > passes[0].t_enter - 0.1
    ]
    verdicts = [v for v in step_verdicts(result.events, gt) if v.verdict == "false_advance"]
    assert not verdicts


def test_error_state_is_rendered_red(tmp_path: Path) -> None:
    """While the wrong-pick error is up, the projector image has the hint panel in red."""
    sc = load_scenario("led_pick_errors")
    ins = sc.load_instruction()
    store = EventStore(tmp_path / "log.sqlite", "test-station")
    station, bench = sim_station(sc, ins, store, max_cycles=1)
    station.start()
    seen_error = None
    while bench.t < 24.0 and seen_error is None:
        station.tick()
        if station.engine.state.phase == Phase.ERROR:
            seen_error = station.projector_image.copy()
    store.close()
    assert seen_error is not None
    b, g, r = (seen_error[..., i].astype(int) for i in range(3))
    assert ((r > 150) & (g < 80) & (b < 80)).sum() > 2000  # a red panel / bin highlight


@pytest.mark.parametrize("scenario", ["led_w60"])
def test_other_variant_uses_its_own_bins(tmp_path: Path, scenario: str) -> None:
    _station, result, (bench, _stored) = run_until(scenario, tmp_path, until_s=17.0)
    picks = [e.get("bin") for e in result.events if e.kind == "pick"]
    assert "bin_led60" in picks and "bin_led40" not in picks
    assert not [v for v in step_verdicts(result.events, bench.ground_truth()) if v.verdict == "false_advance"]
