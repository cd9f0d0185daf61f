"""The scripted operator and the ground truth: clean runs, deviations, following the station."""

from __future__ import annotations

import json

import numpy as np

from oss.records import Button
from oss.sim.bench import VirtualBench
from oss.sim.scenario import load_scenario
from tests.sim.conftest import bench_of, small

TINY = (160, 90)


def _run(vb: VirtualBench, until=None, limit: int = 20000) -> None:
    for _ in range(limit):
        if vb.finished or (until is not None and until(vb)):
            return
        vb.next_frame(None)
    raise AssertionError("the run did not end")


def test_a_clean_unit_has_every_step_done_in_order(led, tmp_path):
    vb = bench_of("led_w60", led, TINY, fps=15)
    _run(vb)
    gt = vb.ground_truth()
    runs = led.run_steps("w60")
    assert [s.uid for s in gt.steps] == [r.uid for r in runs]
    assert all(s.status == "done" for s in gt.steps)
    done = [s.t_done for s in gt.steps]
    starts = [s.t_start for s in gt.steps]
    assert all(a is not None and b is not None and a < b for a, b in zip(starts, done, strict=True))
    assert done == sorted(done)
    assert gt.errors == () and gt.stuck == ()
    takes = [p for p in gt.picks if p.kind == "take"]
    assert [p.bin for p in takes] == [b for r in runs for b in r.picked_bins()]
    assert not any(p.wrong for p in gt.picks)
    assert len(gt.pedal) == 1  # final_check
    # per frame: the true step advances through the run in order, then None when all is done
    seen = list(dict.fromkeys(f.step_uid for f in gt.frames))
    assert seen == [r.uid for r in runs] + [None]
    # a unit takes a human time
    assert 60 < gt.steps[-1].t_done < 200
    # parts appear on the jig, and the finished product is taken away at the end
    most = max(gt.frames, key=lambda f: len(f.parts))
    assert {p.part for p in most.parts} >= {"housing", "pad", "led60", "driver60", "lens", "label", "screw"}
    assert gt.frames[-1].parts == ()
    out = tmp_path / "truth.json"
    gt.to_json(out)
    doc = json.loads(out.read_text())
    assert doc["steps"][0]["uid"] == "housing" and len(doc["frames"]) == len(gt.frames)


def test_deviations_show_in_the_ground_truth(led):
    vb = bench_of("led_pick_errors", led, TINY, fps=15)
    _run(
        vb,
        until=lambda v: (
            "driver_screw#1" in {f.step_uid for f in v.tracker.frames[-1:]}
            and v.tracker.done.get((0, 9)) is not None
        ),
    )
    gt = vb.ground_truth()
    errors = [(e.kind, e.step_uid, e.detail) for e in gt.errors]
    assert ("wrong_pick", "thermal_pad", "took from bin_led40") in errors
    assert ("wrong_pick", "driver_screw#1", "took from bin_gland") in errors
    pad = [p for p in gt.picks if p.step_uid == "thermal_pad"]
    assert [(p.bin, p.kind) for p in pad if p.kind != "pass_over"] == [
        ("bin_led40", "take"),
        ("bin_led40", "return"),
        ("bin_pad", "take"),
    ]
    assert any(
        p.bin == "bin_pad" and p.kind == "pass_over" and p.step_uid == "led_module_40" for p in gt.picks
    )
    hes = next(e for e in gt.events if e.kind == "hesitate")
    assert hes.step_uid == "driver_40" and "seconds=3" in hes.detail
    step = gt.step("driver_40")
    assert step.t_done is not None and step.t_done - step.t_start > 3.0 + 2.0


def test_a_put_back_part_delays_the_true_done_time(led):
    vb = bench_of("led_hand_errors", led, TINY, fps=15)
    _run(vb, until=lambda v: v.tracker.done.get((0, 13)) is not None)  # lens
    gt = vb.ground_truth()
    ev = next(e for e in gt.events if e.kind == "put_back")
    lens = gt.step("lens")
    assert lens.t_done is not None and lens.t_done > ev.t_start + 2.0
    # the lens lay in its place for a while before the true done time, covered by the hand
    times = [f.t for f in gt.frames if any(p.part == "lens" for p in f.parts) and f.t < ev.t_start + 1.0]
    assert times, "the lens was never put down before being taken back"
    assert any(e.kind == "rest_in_zone" and "led_hole_3" in e.detail for e in gt.events)


def test_the_operator_waits_for_the_station_and_presses_next_when_stuck(led):
    sc = small(load_scenario("led_basic"), TINY)
    vb = VirtualBench(sc, led)
    for _ in range(int(9.0 * vb.fps)):  # the station shows nothing: after 8 s the operator presses NEXT
        vb.next_frame(None)
    assert vb.tracker.frames[-1].hands[0].tip_mm[1] < 0  # never reached onto the bench
    presses = vb.inputs()
    assert [(p.button, p.source) for p in presses] == [(Button.NEXT, "pedal")]
    assert 8.0 <= presses[0].t < 8.1 and vb.inputs() == []
    vb.show_step("housing", 0)
    _run(vb, until=lambda v: v.tracker.done.get((0, 0)) is not None)
    # the station does not move on: the operator waits, then presses NEXT, recorded as stuck
    _run(vb, until=lambda v: len(v.operator.stuck) == 2)
    gt = vb.ground_truth()
    assert gt.stuck[-1].step_uid == "housing" and "thermal_pad" in gt.stuck[-1].detail
    assert gt.step("housing").t_shown is not None
    # the station jumps ahead: the skipped step is recorded as missed
    vb.show_step("led_module_40", 0)
    _run(vb, until=lambda v: v.operator.acting is not None and v.operator.acting[1] == 2)
    assert vb.ground_truth().step("thermal_pad").status == "missed"


def test_press_steps_give_pedal_inputs(led):
    vb = bench_of("led_basic", led, TINY, fps=15)
    found = []
    _run(vb, until=lambda v: bool(found.extend(v.inputs()) or found))
    assert found[0].button is Button.NEXT and found[0].source == "pedal"
    assert vb.tracker.frames[-1].step_uid in ("final_check", "unload")


def test_hand_positions_are_in_bench_mm(led):
    vb = bench_of("led_basic", led, TINY)
    _run(vb, until=lambda v: v.tracker.frames and "bin_housing" in v.tracker.frames[-1].hands[0].zones)
    x, y = vb.tracker.frames[-1].hands[0].tip_mm
    x0, y0, x1, y1 = led.zones["bin_housing"].bounds()
    assert x0 <= x <= x1 and y0 <= y <= y1
    assert np.isfinite([x, y]).all()
