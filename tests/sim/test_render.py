"""Rendered frames: determinism, the projection where the true geometry puts it, occlusion, disturbances."""

from __future__ import annotations

import cv2
import numpy as np

from oss.sim.bench import VirtualBench
from oss.sim.body import shoulder_for
from oss.sim.preview import step_projection
from oss.sim.scenario import load_scenario
from tests.sim.conftest import bench_of, small


def _projected(vb: VirtualBench, k: int) -> np.ndarray:
    runs = vb.operator.runs
    cal = vb.true_calibration()
    uid = vb.tracker.frames[-1].step_uid if vb.tracker.frames else runs[0].uid
    run = next((r for r in runs if r.uid == uid), runs[0])
    return step_projection(vb.ins, run, cal.proj_from_bench, vb.projector_size, vb.poses)


def test_same_scenario_and_seed_give_identical_frames(led):
    a, b = bench_of("led_basic", led), bench_of("led_basic", led)
    for k in range(90):
        fa, fb = a.next_frame(_projected(a, k)), b.next_frame(_projected(b, k))
        assert fa.t == fb.t == k / a.fps
        assert np.array_equal(fa.image, fb.image), f"frame {k} differs"
    assert a.tracker.frames[-1] == b.tracker.frames[-1]


def test_another_seed_gives_other_frames(led):
    a = bench_of("led_basic", led)
    sc = load_scenario("led_basic")
    import dataclasses as dc

    b = VirtualBench(small(dc.replace(sc, seed=99)), led, self_paced=True)
    assert not np.array_equal(a.next_frame(None).image, b.next_frame(None).image)


def test_projection_lands_where_the_true_geometry_puts_it(led):
    vb = bench_of("led_basic", led, size=(640, 360))
    cal = vb.true_calibration()
    pw, ph = vb.projector_size
    x0, y0, x1, y1 = 500, 300, 800, 500
    white = np.zeros((ph, pw, 3), np.uint8)
    white[y0:y1, x0:x1] = 255
    lit, dark = vb.capture_still(white).astype(int), vb.capture_still(None).astype(int)
    # where the projector rectangle's centre and a point well outside it fall in the camera image
    inv = np.linalg.inv(cal.proj_from_bench)
    inside_mm = cv2.perspectiveTransform(np.array([[[650.0, 400.0]]]), inv).reshape(1, 2)
    outside_mm = cv2.perspectiveTransform(np.array([[[650.0, 150.0]]]), inv).reshape(1, 2)
    (ui, vi), (uo, vo) = cal.bench_to_camera(inside_mm)[0], cal.bench_to_camera(outside_mm)[0]
    gain_in = (lit - dark)[int(vi) - 3 : int(vi) + 4, int(ui) - 3 : int(ui) + 4].mean()
    gain_out = np.abs(lit - dark)[int(vo) - 3 : int(vo) + 4, int(uo) - 3 : int(uo) + 4].mean()
    assert gain_in > 60
    assert gain_out < 2
    # the lit area's outline in the camera matches the true mapping of the rectangle's corners
    mask = ((lit - dark).mean(axis=2) > 30).astype(np.uint8)
    ys, xs = np.nonzero(mask)
    corners_mm = cv2.perspectiveTransform(
        np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float64), inv
    )
    corners_px = cal.bench_to_camera(corners_mm.reshape(4, 2))
    assert abs(xs.min() - corners_px[:, 0].min()) < 3 and abs(xs.max() - corners_px[:, 0].max()) < 3
    assert abs(ys.min() - corners_px[:, 1].min()) < 3 and abs(ys.max() - corners_px[:, 1].max()) < 3


def test_projection_is_weaker_on_dark_parts(led):
    vb = bench_of("led_basic", led, size=(640, 360))
    cal = vb.true_calibration()
    white = np.full((vb.projector_size[1], vb.projector_size[0], 3), 255, np.uint8)
    gain = vb.capture_still(white).astype(int) - vb.capture_still(None).astype(int)
    bench_px = cal.bench_to_camera(np.array([[600.0, 100.0]]))[0].astype(int)  # bare light bench
    gland_bin = cal.bench_to_camera(np.array([[95.0, 290.0]]))[0].astype(int)  # black glands
    on_bench = gain[bench_px[1] - 2 : bench_px[1] + 3, bench_px[0] - 2 : bench_px[0] + 3].mean()
    on_dark = gain[gland_bin[1] - 2 : gland_bin[1] + 3, gland_bin[0] - 2 : gland_bin[0] + 3].mean()
    assert on_bench > 2.5 * on_dark


def test_an_arm_occludes_the_bin_under_it(led):
    vb = bench_of("led_basic", led, size=(640, 360))
    empty = vb.capture_still(None).astype(int)
    for _ in range(300):
        frame = vb.next_frame(None)
        hand = vb.tracker.frames[-1].hands[0]
        if "bin_housing" in hand.zones and hand.z_mm < 40:
            break
    else:
        raise AssertionError("the operator never reached into bin_housing")
    cal = vb.true_calibration()
    tip = np.array(hand.tip_mm)
    shoulder = shoulder_for(hand.side, vb.operator.x)[:2]
    palm = tip - 70.0 * (tip - shoulder) / np.linalg.norm(tip - shoulder)
    under = cal.bench_to_camera(palm[None, :])[0].astype(int)  # the bin beneath the palm
    far = cal.bench_to_camera(np.array([[1000.0, 100.0]]))[0].astype(int)
    img = frame.image.astype(int)
    diff_under = np.abs(img - empty)[under[1] - 3 : under[1] + 4, under[0] - 3 : under[0] + 4].mean()
    diff_far = np.abs(img - empty)[far[1] - 3 : far[1] + 4, far[0] - 3 : far[0] + 4].mean()
    assert diff_under > 10
    assert diff_far < 6
    # what the camera sees there is the skin of the hand, not the blue-grey housing in the bin below
    win = (slice(under[1] - 2, under[1] + 3), slice(under[0] - 2, under[0] + 3))
    red_minus_blue_frame = (img[win][..., 2] - img[win][..., 0]).mean()
    red_minus_blue_empty = (empty[win][..., 2] - empty[win][..., 0]).mean()
    assert red_minus_blue_empty < 0 < red_minus_blue_frame - 15


def _marker_centre(img: np.ndarray) -> np.ndarray:
    det = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50))
    corners, ids, _ = det.detectMarkers(img)
    assert ids is not None and 7 in ids.ravel(), "marker 7 not detected"
    return corners[list(ids.ravel()).index(7)].reshape(4, 2).mean(axis=0)


def test_bump_camera_moves_the_marker_by_the_scripted_amount(led, write_scenario):
    path = write_scenario(
        "operator: {reaction_s: 9}\ncamera: {noise_sigma: 1.0}\n"
        "deviations:\n  - bump_camera: {at_s: 0.2, dx_mm: 3, dy_mm: 0}\n"
    )
    vb = VirtualBench(load_scenario(path), led)
    vb.show_step("housing", 0)
    before_cal = vb.true_calibration()
    before = _marker_centre(vb.next_frame(None).image)
    for _ in range(8):
        frame = vb.next_frame(None)
    after = _marker_centre(frame.image)
    f = led.fixtures["jig"]
    centre = np.array([[f.x_mm, f.y_mm]])
    expected = vb.true_calibration().bench_to_camera(centre)[0] - before_cal.bench_to_camera(centre)[0]
    moved = after - before
    step = (
        before_cal.bench_to_camera(centre + np.array([[10.0, 0]]))[0] - before_cal.bench_to_camera(centre)[0]
    )
    px_per_mm = np.linalg.norm(step) / 10.0
    # a camera moved 3 mm to the right sees the bench slide 3 mm to the left
    assert abs(expected[0] + 3 * px_per_mm) < 0.1
    assert np.linalg.norm(moved - expected) < 0.4
    assert abs(-moved[0] / px_per_mm - 3.0) < 0.5
    assert [e.kind for e in vb.ground_truth().events] == ["bump_camera"]


def test_moving_the_jig_moves_its_marker_and_zones(led, write_scenario):
    path = write_scenario(
        "operator: {reaction_s: 9}\ndeviations:\n  - move_jig: {at_s: 0.2, dx_mm: 12, dy_mm: -6}\n"
    )
    vb = VirtualBench(load_scenario(path), led)
    vb.show_step("housing", 0)
    cal = vb.true_calibration()
    before = _marker_centre(vb.next_frame(None).image)
    for _ in range(8):
        frame = vb.next_frame(None)
    f = led.fixtures["jig"]
    expected = cal.bench_to_camera(np.array([[f.x_mm + 12, f.y_mm - 6]]))[0]
    assert np.linalg.norm(_marker_centre(frame.image) - expected) < 0.6
    assert np.linalg.norm(before - expected) > 8
    assert vb.tracker.frames[-1].fixtures == (("jig", f.x_mm + 12, f.y_mm - 6, 0.0),)


def test_a_lamp_switched_on_brightens_the_bench(led, write_scenario):
    path = write_scenario(
        "operator: {reaction_s: 9}\ncamera: {size: [320, 180]}\nlighting: {drift_amplitude: 0}\n"
        "deviations:\n  - light_on: {at_s: 0.5, level: 0.3, x_mm: 1000, y_mm: 800}\n"
    )
    vb = VirtualBench(load_scenario(path), led)
    vb.show_step("housing", 0)
    frames = [vb.next_frame(None).image.astype(float) for _ in range(30)]
    early, late = frames[5], frames[25]
    assert late.mean() > early.mean() + 10
    # brighter near the lamp (the back right) than at the front left
    h, w = early.shape[:2]
    gain = late - early
    assert gain[: h // 3, 2 * w // 3 :].mean() > gain[2 * h // 3 :, : w // 3].mean() + 5


def test_someone_leaning_over_covers_the_bench(led, write_scenario):
    path = write_scenario(
        "operator: {reaction_s: 9}\ncamera: {size: [320, 180]}\n"
        "deviations:\n  - lean_over: {at_s: 0.1, seconds: 3, x_mm: 600, reach_mm: 330}\n"
    )
    vb = VirtualBench(load_scenario(path), led)
    vb.show_step("housing", 0)
    empty = vb.capture_still(None).astype(float)
    for _ in range(45):
        frame = vb.next_frame(None)
    assert vb.tracker.frames[-1].people == 1
    cal = vb.true_calibration()
    u, v = cal.bench_to_camera(np.array([[600.0, 60.0]]))[0].astype(int)  # under the shoulders
    assert np.abs(frame.image.astype(float) - empty)[v - 2 : v + 3, u - 2 : u + 3].mean() > 30
