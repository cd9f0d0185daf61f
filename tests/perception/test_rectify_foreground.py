"""Rectification, projection cancellation and the foreground model, on the synthetic station."""

from __future__ import annotations

import numpy as np
import pytest

from oss.calibration.model import Calibration
from oss.perception.config import PerceptionConfig
from oss.perception.foreground import ForegroundModel
from oss.perception.rectify import BenchRectifier
from oss.records import OssError
from tests.perception import builders as b


@pytest.fixture(scope="module")
def rect() -> BenchRectifier:
    return BenchRectifier(b.calibration(), 2.0)


def run(fg: ForegroundModel, rect: BenchRectifier, cam: np.ndarray, pj: np.ndarray | None, t: float):
    res = fg.segment(rect.rectify(cam), rect.projection(pj))
    fg.update_background(res, np.zeros_like(res.mask), t)
    assert_fit_band_fresh(fg)
    return res


def assert_fit_band_fresh(fg: ForegroundModel) -> None:
    """The background ± fit_tol band, kept between frames and patched where the background changed,
    equals one computed afresh (the tests that absorb parts and dimmings run through here)."""
    lo, hi = fg._fit_band()
    d = np.float32(fg.cfg.fit_tol) * fg.background
    assert np.array_equal(lo, fg.background - d) and np.array_equal(hi, fg.background + d)


def test_rectified_bench_shows_bench_points_where_expected(rect: BenchRectifier) -> None:
    bench = b.SyntheticBench()
    bench.noise = 0
    bench.place([(100, 100), (200, 100), (200, 150), (100, 150)], (0.2, 0.2, 0.2))
    img = rect.rectify(bench.camera_image(None))
    assert img.shape == (350, 600, 3)
    # bench px (u, v) shows ((u + .5)·2, (v + .5)·2) mm: the dark part spans u 50..99, v 50..74
    assert img[62, 75].mean() < 0.4 * img[200, 300].mean()
    assert img[62, 45].mean() > 0.8 * img[200, 300].mean()
    assert img[80, 75].mean() > 0.8 * img[200, 300].mean()


def test_projection_warp_lands_on_the_bench_rect(rect: BenchRectifier) -> None:
    pj = b.projector_image([(300, 200, 100, 60)])
    p = rect.projection(pj)
    assert p.shape == (350, 600, 3)
    assert p[115, 175].min() > 0.99  # (351, 231) mm
    assert p[115, 140].max() < 0.01
    assert rect.projection(pj) is p  # same image object: warp reused


def test_missing_radiometry_is_an_actionable_error() -> None:
    cal = b.calibration()
    bare = Calibration(
        cal.camera_size, cal.projector_size, cal.bench_size_mm, cal.cam_from_bench, cal.proj_from_bench
    )
    with pytest.raises(OssError, match="oss calibrate"):
        BenchRectifier(bare, 2.0)


def test_changing_projection_alone_is_never_foreground(rect: BenchRectifier) -> None:
    fg = ForegroundModel(rect.black, rect.contrast, 2.0, PerceptionConfig())
    bench = b.SyntheticBench()
    rng = np.random.default_rng(3)
    for i in range(12):
        rects = [tuple(int(v) for v in rng.integers([0, 0, 40, 40], [1000, 550, 300, 200])) for _ in range(4)]
        pj = b.projector_image(rects, value=int(rng.integers(100, 256)))  # type: ignore[arg-type]
        res = run(fg, rect, bench.camera_image(pj), pj, i / 30)
        assert np.count_nonzero(res.mask) < 50, i


def test_lamp_switched_on_is_absorbed_by_the_gain(rect: BenchRectifier) -> None:
    fg = ForegroundModel(rect.black, rect.contrast, 2.0, PerceptionConfig())
    bench = b.SyntheticBench()
    pj = b.projector_image([(30, 540, 200, 140)])
    run(fg, rect, bench.camera_image(pj), pj, 0.0)
    bench.gain = 1.35
    res = run(fg, rect, bench.camera_image(pj), pj, 1 / 30)
    assert np.count_nonzero(res.mask) < 50
    assert res.gains[:, 0].min() > 1.25  # the ambient term took the lamp


def test_arm_is_foreground_under_projection_and_a_part_joins_the_background(rect: BenchRectifier) -> None:
    fg = ForegroundModel(rect.black, rect.contrast, 2.0, PerceptionConfig())
    bench = b.SyntheticBench()
    pj = b.projector_image([(30, 540, 200, 140)])
    run(fg, rect, bench.camera_image(pj), pj, 0.0)
    bench.place([(600, 300), (700, 300), (700, 380), (600, 380)], (0.4, 0.5, 0.9))  # a part is put down
    arm = b.arm(500, (130, 600))
    res = run(fg, rect, bench.camera_image(pj, arms=[arm]), pj, 0.05)
    assert res.mask[290, 65] and res.mask[150, 157]  # the arm inside the highlight and outside
    assert res.mask[170, 325]  # the new part
    t = 0.05
    for _ in range(20):
        t += 1 / 30
        res = run(fg, rect, bench.camera_image(pj), pj, t)
    assert not res.mask[170, 325]  # static and unobstructed: now part of the bench
    assert abs(float(res.ratio[170, 325, 2]) - 0.9) < 0.05


def _green(rects: list[tuple[int, int, int, int]]) -> np.ndarray:
    pj = b.projector_image(rects, value=230)
    pj[..., 0] = pj[..., 2] = 0
    return pj


@pytest.mark.parametrize("fit_tol", [PerceptionConfig().fit_tol, 1e9])
def test_a_light_part_taken_off_does_not_throw_the_gain_fit_under_a_flashing_projection(
    rect: BenchRectifier, fit_tol: float
) -> None:
    """A light part sat on the bench long enough to join the background; taken off, the bench there is
    darker than the model says, evenly (like a shadow, so not foreground). A 'done' flash lighting that
    spot every other frame must not pull the projector's gain off: the view there stays the bench's
    in every frame. (fit_tol = 1e9 is the old fit, which kept the spot: it must fail the check.)"""
    fg = ForegroundModel(rect.black, rect.contrast, 2.0, PerceptionConfig(fit_tol=fit_tol))
    bench = b.SyntheticBench()
    seat = [(560, 280), (760, 280), (760, 440), (560, 440)]
    t = 0.0
    run(fg, rect, bench.camera_image(None), None, t)
    bench.place(seat, (2.2, 2.2, 2.0))  # a light housing on the (darker) seat
    for _ in range(25):
        t += 1 / 30
        run(fg, rect, bench.camera_image(None), None, t)
    assert fg.background[180, 330, 0] > 2.0  # absorbed
    bench.place(seat, (1.0, 1.0, 1.0))  # taken off
    flash = _green([(540, 260, 240, 200), (20, 600, 1100, 90)])
    looks, gains = [], []
    for i in range(12):
        t += 1 / 30
        pj = flash if i % 2 else None
        res = run(fg, rect, bench.camera_image(pj), pj, t)
        looks.append(float(res.ratio[180, 330, 1]))
        if i % 2:
            gains.append(float(res.gains[1, 6]))
    spread = max(looks[4:]) - min(looks[4:])
    ok = spread < 0.1 and min(gains[2:]) > 0.85
    assert ok == (fit_tol < 1e8), (looks, gains)


def test_the_kept_light_envelope_matches_one_computed_afresh(rect: BenchRectifier) -> None:
    """The projected light's min/max envelope is kept between frames and redone only inside the box the
    projection changed in: after many changes (boxes at the borders too) it equals the full computation,
    and so do the foreground and the view."""
    kept = ForegroundModel(rect.black, rect.contrast, 2.0, PerceptionConfig())
    fresh = ForegroundModel(rect.black, rect.contrast, 2.0, PerceptionConfig())
    bench = b.SyntheticBench()
    bench.place([(300, 300), (380, 300), (380, 360), (300, 360)], (0.3, 0.3, 0.3))
    rng = np.random.default_rng(5)
    boxes = [(0, 0, 120, 90), (1080, 620, 120, 80), (500, 300, 200, 150), (0, 600, 1200, 100)]
    rects: list[tuple[int, int, int, int]] = []
    for i in range(12):
        x, y, w, h = boxes[i % len(boxes)]
        rects = [*rects[-3:], (x + int(rng.integers(0, 40)), y + int(rng.integers(0, 20)), w // 2, h // 2)]
        pj = b.projector_image(rects)
        cam = bench.camera_image(pj)
        img, proj = rect.rectify(cam), rect.projection(pj)
        a = kept.segment(img, proj, rect.changed_box)
        f = fresh.segment(img, proj)  # no box: everything recomputed
        assert kept._dp_lo is not None and fresh._dp_lo is not None and kept._dp_hi is not None
        assert np.array_equal(kept._dp_lo, fresh._dp_lo) and np.array_equal(kept._dp_hi, fresh._dp_hi)
        assert np.array_equal(a.mask, f.mask)
        assert np.array_equal(a.ratio, f.ratio)


@pytest.mark.parametrize("dim_after", [PerceptionConfig().dim_absorb_after_s, 0.0])
def test_a_lasting_dimming_joins_the_background_and_leaves_it_when_it_goes(
    rect: BenchRectifier, dim_after: float
) -> None:
    """A light part absorbed, then taken off: the bench there looks evenly darker than the model, like a
    shadow, so it is never foreground and was never absorbed either. Where it lasts (a strip of seat left
    uncovered when the next part is set down a few mm off) it joined the fingers' shadow into foreground
    beyond the fingertips. A lasting dimming now joins the background; when it goes (a shadow moving
    off, the part put back) the model from before it is back at once, with no foreground ghost.
    (dim_after = 0 is the old model, which never absorbed it: it must fail the first check.)"""
    fg = ForegroundModel(rect.black, rect.contrast, 2.0, PerceptionConfig(dim_absorb_after_s=dim_after))
    bench = b.SyntheticBench()
    seat = [(560, 280), (760, 280), (760, 440), (560, 440)]
    pj = b.projector_image([(30, 540, 200, 140)])
    t = 0.0
    run(fg, rect, bench.camera_image(pj), pj, t)
    bench.place(seat, (2.2, 2.2, 2.0))  # a light housing on the (darker) seat
    for _ in range(25):
        t += 1 / 30
        run(fg, rect, bench.camera_image(pj), pj, t)
    assert fg.background[180, 330, 0] > 2.0  # absorbed
    bench.place(seat, (1.0, 1.0, 1.0))  # taken off: a lasting dimming of the model
    for _ in range(75):
        t += 1 / 30
        res = run(fg, rect, bench.camera_image(pj), pj, t)
        assert not res.mask[180, 330]
    absorbed = abs(float(fg.background[180, 330, 0]) - 1.0) < 0.1
    assert absorbed == (dim_after > 0), fg.background[180, 330]
    bench.place(seat, (2.2, 2.2, 2.0))  # a housing back: the model from before is back, at once
    res = run(fg, rect, bench.camera_image(pj), pj, t + 1 / 30)
    assert np.count_nonzero(res.mask[150:210, 290:370]) == 0
    assert fg.background[180, 330, 0] > 2.0


def test_an_absorbed_shadow_that_moves_off_leaves_no_ghost(rect: BenchRectifier) -> None:
    fg = ForegroundModel(rect.black, rect.contrast, 2.0, PerceptionConfig())
    bench = b.SyntheticBench()
    spot = [(300, 300), (420, 300), (420, 400), (300, 400)]
    pj = b.projector_image([(30, 540, 200, 140)])
    t = 0.0
    run(fg, rect, bench.camera_image(pj), pj, t)
    bench.place(spot, (0.55, 0.55, 0.55))  # a shadow resting there
    for _ in range(90):
        t += 1 / 30
        res = run(fg, rect, bench.camera_image(pj), pj, t)
        assert not res.mask[175, 180]
    assert float(fg.background[175, 180, 1]) < 0.7  # it joined the background
    bench.place(spot, (1.0, 1.0, 1.0))  # gone: evenly brighter than the model
    pj2 = b.projector_image([(250, 250, 250, 200)])  # under another projection, too
    res = run(fg, rect, bench.camera_image(pj2), pj2, t + 1 / 30)
    assert np.count_nonzero(res.mask[150:200, 150:210]) == 0
    assert abs(float(fg.background[175, 180, 1]) - 1.0) < 0.1


def test_the_projection_warped_in_part_matches_one_warped_afresh() -> None:
    """Only the bench px a change of the projector image reaches are warped again: after many small
    changes (at the borders too, one off the bench), a large one and none, the result equals warping the
    whole image afresh, and ``changed_box`` holds every px that changed."""
    cal = b.calibration()
    kept = BenchRectifier(cal, 2.0)
    rng = np.random.default_rng(7)
    pw, ph = cal.projector_size
    pj = (rng.random((ph, pw, 3)) * 255).astype(np.uint8)
    previous = kept.projection(pj.copy())
    redone = 0
    for i in range(16):
        pj = pj.copy()
        if i == 5:
            pj[:, : pw * 3 // 4] = 40  # most of it: warped whole
        elif i == 9:
            pass  # nothing changed (a new image all the same)
        else:
            w, h = int(rng.integers(1, 160)), int(rng.integers(1, 120))
            x = 0 if i % 4 == 0 else pw - w if i % 4 == 1 else int(rng.integers(0, pw - w))
            y = int(rng.integers(0, ph - h)) if i % 4 != 3 else ph - h
            pj[y : y + h, x : x + w] = rng.integers(0, 256, 3, dtype=np.uint8)
        got = kept.projection(pj)
        want = BenchRectifier(cal, 2.0).projection(pj)
        assert np.array_equal(got, want), i
        assert kept.changed_box is not None
        x, y, w, h = kept.changed_box
        diff = np.argwhere(np.any(got != previous, axis=2))
        if diff.size:
            redone += 1
            assert diff[:, 1].min() >= x and diff[:, 1].max() < x + w, (i, kept.changed_box)
            assert diff[:, 0].min() >= y and diff[:, 0].max() < y + h, (i, kept.changed_box)
        else:
            assert w == 0 or h == 0, i
        assert got is not previous or not diff.size  # a changed result is a new array (callers keep the last)
        previous = got
    assert redone >= 10
