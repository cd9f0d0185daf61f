"""A camera knocked by a few mm while the station runs: perception notices and re-aligns its view."""

from __future__ import annotations

import numpy as np
import pytest

from oss.engine.engine import StepEngine
from oss.perception.alignment import shifted_calibration
from oss.perception.foreground import ForegroundResult
from oss.perception.pipeline import Perception
from oss.records import Presence
from oss.render.renderer import Renderer
from oss.sim.bench import VirtualBench
from oss.sim.scenario import load_scenario
from tests.perception.simloop import station_calibration


def _on_bench(max_cycles: int | None = None) -> tuple[VirtualBench, Perception, Renderer, StepEngine]:
    """led_basic on the virtual bench, with a station's perception, renderer and (started) engine."""
    sc = load_scenario("led_basic")
    ins = sc.load_instruction()
    vb = VirtualBench(sc, ins)
    cal = station_calibration(vb)
    eng = StepEngine(ins, sc.variant, max_cycles=max_cycles)
    eng.start(0.0)
    return vb, Perception(ins, cal, sc.variant), Renderer(ins, cal, sc.variant), eng


def test_shifted_calibration_moves_the_view_by_the_shift() -> None:
    sc = load_scenario("led_basic")
    vb = VirtualBench(sc, sc.load_instruction())
    cal = vb.true_calibration()
    moved = shifted_calibration(cal, 2.5, -1.0)
    p = np.array([[400.0, 300.0]])
    # the old calibration's view of p + (2.5, -1) is where the new one puts p
    np.testing.assert_allclose(
        moved.bench_to_camera(p), cal.bench_to_camera(p + np.array([2.5, -1.0])), atol=1e-6
    )


@pytest.mark.parametrize("dx,dy", [(3.0, 0.0), (-2.0, 2.5)])
def test_a_bumped_camera_is_realigned_once_and_stays_in_line(dx: float, dy: float) -> None:
    vb, per, rend, eng = _on_bench()
    obs = None
    bump_at = 45
    realigned: list[tuple[int, object]] = []
    unknown_while_off = []
    for i in range(bump_at + 45):
        if i == bump_at:
            before = vb.true_calibration()
            vb.cam = vb.cam.moved(dx, dy, 0.0, 0.0)
            vb.renderer.refresh_geometry(vb.cam, vb.proj)
            after = vb.true_calibration()
        vb.show_step(eng.state.step_uid, eng.state.cycle)
        pj = rend.render(eng.state, obs)
        frame = vb.next_frame(pj)
        obs = per.process(frame, pj)
        eng.update(obs)
        realigned += [(i, r) for r in per.take_realignments()]
        if per.aligner.pending:
            unknown_while_off.append(all(p is Presence.UNKNOWN for _, p in obs.presence))
    # the true shift of the view at the middle of the bench: what the old calibration calls p is q now
    p = np.array([[600.0, 400.0]])
    q = after.camera_to_bench(before.bench_to_camera(p))
    truth = (p - q)[0]
    assert len(realigned) == 1, realigned
    i, r = realigned[0]
    assert bump_at < i <= bump_at + 3 * per.cfg.align_every * per.cfg.align_confirm
    assert r.applied and r.since_t < r.t
    assert not r.projector  # the camera alone moved: the projection stays where it was
    assert abs(r.dx_mm - truth[0]) < 0.6 and abs(r.dy_mm - truth[1]) < 0.6, (r, truth)
    # in line again: what is measured now is well within the threshold
    assert per.aligner.last_shift_mm is not None
    assert float(np.hypot(*per.aligner.last_shift_mm)) < 0.5
    assert all(unknown_while_off)  # no zone judged while the view may be off


def test_a_knocked_bench_moves_the_projection_too_and_both_are_followed() -> None:
    """Camera and projector hang on one frame: knock the bench under them and the projection lands off
    its place as much as the view does. Following the camera alone left our own light off its
    prediction along every projected edge: seams taken for foreground, a zone's look changed."""
    vb, per, rend, eng = _on_bench()
    obs = None
    bump_at = 45
    realigned = []
    realigned_at: list[int] = []
    stray: list[int] = []  # foreground px away from arms, per frame
    segment = per.foreground.segment

    def counted(*a: object, **k: object) -> ForegroundResult:
        res = segment(*a, **k)  # type: ignore[arg-type]
        stray.append(-1 if res is None else int(np.count_nonzero(res.mask)))
        return res

    per.foreground.segment = counted  # type: ignore[method-assign]
    for i in range(bump_at + 60):
        if i == bump_at:  # as the scenario deviation bump_bench does
            before = vb.true_calibration()
            vb.cam = vb.cam.rigid(4.0, 2.0, 0.0)
            vb.proj = vb.proj.rigid(4.0, 2.0, 0.0)
            vb.renderer.refresh_geometry(vb.cam, vb.proj)
            after = vb.true_calibration()
        vb.show_step(eng.state.step_uid, eng.state.cycle)
        pj = rend.render(eng.state, obs)
        frame = vb.next_frame(pj)
        obs = per.process(frame, pj)
        assert per.last_segmentation is not None
        stray[-1] -= int(np.count_nonzero(per.last_segmentation.mask))
        eng.update(obs)
        for r in per.take_realignments():
            realigned.append(r)
            realigned_at.append(i)
            if r.projector:
                rend.follow_projector(per.calibration)
    p = np.array([[600.0, 400.0]])
    view = (p - after.camera_to_bench(before.bench_to_camera(p)))[0]
    assert len(realigned) == 1, realigned  # one correction, whole: nothing left off to correct again
    r = realigned[0]
    assert r.applied and r.projector, r
    assert abs(r.dx_mm - view[0]) < 0.6 and abs(r.dy_mm - view[1]) < 0.6, (r, view)
    # the projection is predicted where it lands: bench point q is lit by the projector pixel the
    # station now assigns to q (as the true calibration after the knock says)
    q = np.array([[300.0, 200.0], [900.0, 450.0]])
    np.testing.assert_allclose(per.calibration.bench_to_projector(q), after.bench_to_projector(q), atol=1.5)
    np.testing.assert_allclose(rend.calibration.bench_to_projector(q), after.bench_to_projector(q), atol=1.5)
    # and our own light is not foreground: no more stray foreground than before the knock
    # and our own light is not foreground: right after the correction (before anything left could be
    # taken into the background), no more stray foreground than before the knock
    k = realigned_at[0]
    assert max(stray[k + 1 : k + 11]) <= max(stray[bump_at - 20 : bump_at]) + 100, stray[bump_at - 20 :]


def test_hands_moving_over_the_bench_are_not_a_camera_shift() -> None:
    vb, per, rend, eng = _on_bench(max_cycles=1)
    obs = None
    hands_seen = 0
    while vb.t < 12.0:  # the operator takes the housing, puts it in the jig, takes the pad ...
        vb.show_step(eng.state.step_uid, eng.state.cycle)
        pj = rend.render(eng.state, obs)
        frame = vb.next_frame(pj)
        obs = per.process(frame, pj)
        hands_seen += bool(obs.hands)
        eng.update(obs)
        for ev in vb.inputs():
            eng.handle_input(ev)
        assert per.take_realignments() == []
    assert hands_seen > 100


def test_a_jig_pushed_aside_is_not_a_camera_shift() -> None:
    vb, per, rend, eng = _on_bench()
    obs = None
    fid = next(iter(per.instruction.fixtures))
    for i in range(100):
        if i == 30:  # as the scenario deviation move_jig does
            x, y, a = vb.poses[fid]
            vb.poses[fid] = (x + 12.0, y - 6.0, a + 2.5)
            vb._dirty = True
        vb.show_step(eng.state.step_uid, eng.state.cycle)
        pj = rend.render(eng.state, obs)
        frame = vb.next_frame(pj)
        obs = per.process(frame, pj)
        eng.update(obs)
        assert per.take_realignments() == [], i
    pose = next(p for p in obs.fixtures if p.fixture == fid)
    assert abs(pose.x_mm - vb.poses[fid][0]) < 2.0  # the jig was followed, the camera left alone
