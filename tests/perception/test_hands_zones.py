"""Arms and tips from foreground masks; zones that follow their fixture."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from oss.perception.config import PerceptionConfig
from oss.perception.hands import RaisedHands, fuse_hands, segment_arms
from oss.perception.zones import ZoneMap
from oss.records import FixturePose, Hand
from tests.perception import builders as b

S = 2.0  # mm per bench px


def mask_of(polys: list[list[tuple[float, float]]]) -> np.ndarray:
    m = np.zeros((350, 600), np.uint8)
    for p in polys:
        cv2.fillPoly(m, [np.round(np.asarray(p) / S).astype(np.int32)], (255,))
    return m


@pytest.mark.parametrize("tip", [(130.0, 600.0), (95.0, 440.0), (1100.0, 300.0), (600.0, 650.0)])
def test_tip_is_the_fingertip_in_any_direction(tip: tuple[float, float]) -> None:
    seg = segment_arms(mask_of([b.arm(600, tip)]), S, PerceptionConfig())
    assert len(seg.hands) == 1
    assert np.hypot(seg.hands[0].tip_mm[0] - tip[0], seg.hands[0].tip_mm[1] - tip[1]) < 8.0
    assert not seg.leaning


@pytest.mark.parametrize("thickness", [1, 2])  # cv2.line: 1 and 3 px wide (2 and 6 mm)
def test_a_thin_strand_joined_to_the_hand_does_not_pull_the_tip(thickness: int) -> None:
    """The foreground can join a seam along a projected edge to the hand resting beside it (seen at the
    `connector` zone of led_hand_errors: the tip jumped 34 mm to the seam's end on every other frame).
    The strand stays in the arm mask; the tip stays at the fingers."""
    tip = (600.0, 500.0)
    m = mask_of([b.arm(700, tip)])
    cv2.line(m, (round(585 / S), round(480 / S)), (round(585 / S), round(540 / S)), (255,), thickness)
    seg = segment_arms(m, S, PerceptionConfig())
    (hand,) = seg.hands
    assert np.hypot(hand.tip_mm[0] - tip[0], hand.tip_mm[1] - tip[1]) < 8.0
    assert seg.mask[round(530 / S), round(585 / S)] == 255


def test_two_arms_touching_give_two_tips_and_one_outline() -> None:
    m = mask_of([b.arm(400, (590, 400)), b.arm(800, (610, 400))])
    seg = segment_arms(m, S, PerceptionConfig())
    tips = sorted(h.tip_mm for h in seg.hands)
    assert len(tips) == 2
    assert tips[0][0] < 600 < tips[1][0]
    assert len(seg.outlines_mm) == 1


def test_blob_away_from_the_operator_edge_is_not_a_hand() -> None:
    m = mask_of([[(500, 300), (600, 300), (600, 400), (500, 400)]])
    seg = segment_arms(m, S, PerceptionConfig())
    assert seg.hands == () and not seg.mask.any()


def test_outline_covers_the_arm_with_margin() -> None:
    arm = b.arm(600, (300, 500))
    seg = segment_arms(mask_of([arm]), S, PerceptionConfig())
    (outline,) = seg.outlines_mm
    poly = np.asarray(outline, np.float32)
    for x, y in [(300, 500), (450, 250), (600, 10)]:
        assert cv2.pointPolygonTest(poly, (x, y), True) >= 0
    assert cv2.pointPolygonTest(poly, (300, 530), True) < 0


def test_someone_leaning_over_the_bench_is_flagged() -> None:
    seg = segment_arms(mask_of([[(200, 0), (1000, 0), (1000, 500), (200, 500)]]), S, PerceptionConfig())
    assert seg.leaning


def test_fuse_hands_takes_tracker_tip_and_landmarks() -> None:
    fg = (Hand((100.0, 100.0), area_mm2=5000.0), Hand((500.0, 300.0)))
    mp = (
        Hand((510.0, 310.0), handedness="Right", landmarks_mm=((1.0, 2.0),) * 21, source="mediapipe"),
        Hand((900.0, 600.0), source="mediapipe"),
    )
    out = fuse_hands(fg, mp)
    assert out[0] == fg[0]
    assert out[1].tip_mm == (510.0, 310.0) and out[1].handedness == "Right" and len(out[1].landmarks_mm) == 21
    assert out[2].tip_mm == (900.0, 600.0)


def test_fixture_zones_follow_the_pose_beyond_tolerance_only() -> None:
    zm = ZoneMap(b.instruction(), S, PerceptionConfig())
    before = zm.polygon_mm("seat").copy()
    assert zm.zones_at((700.0, 300.0)) == ("seat", "pad")
    assert zm.zones_at((820.0, 300.0)) == ("seat",)
    assert not zm.update_poses([FixturePose("jig", 600.5, 250.3, 0.2)])  # within tolerance
    assert zm.update_poses([FixturePose("jig", 650.0, 230.0, 90.0)])
    after = zm.polygon_mm("seat")
    # seat corner (40, -10) in the jig frame → (650 + 10, 230 + 40) at 90°
    assert np.allclose(after[0], (660.0, 270.0), atol=1e-3)
    assert not np.allclose(before, after)
    assert np.allclose(zm.polygon_mm("bin_a"), b.rect(30, 540, 200, 140))


def test_zone_sampler_reads_the_zone_in_its_own_frame() -> None:
    zm = ZoneMap(b.instruction(), S, PerceptionConfig())
    img = np.zeros((350, 600, 3), np.float32)
    pad = zm.polygon_mm("pad")  # fill the pad zone as it stands now
    cv2.fillPoly(img, [np.round(pad / S - 0.5).astype(np.int32)], (1.0, 1.0, 1.0))
    look = zm.sampler("pad").sample(img)
    zm.update_poses([FixturePose("jig", 640.0, 280.0, 30.0)])
    img2 = np.zeros_like(img)
    cv2.fillPoly(img2, [np.round(zm.polygon_mm("pad") / S - 0.5).astype(np.int32)], (1.0, 1.0, 1.0))
    look2 = zm.sampler("pad").sample(img2)
    m = zm.sampler("pad").mask
    assert look.shape == look2.shape
    assert look[m].mean() > 0.95 and look2[m].mean() > 0.9


def test_a_hand_raised_towards_the_camera_looks_wider_and_is_marked_raised() -> None:
    cfg = PerceptionConfig()
    on_bench = segment_arms(mask_of([b.arm(600, (600, 450), width=80.0)]), S, cfg).hands[0]
    # the same arm 200 mm nearer a camera 1.4 m up: 1400 / 1200 times as wide on the bench plane
    above = segment_arms(mask_of([b.arm(600, (600, 450), width=80.0 * 1400 / 1200)]), S, cfg).hands[0]
    assert 0 < on_bench.width_mm < above.width_mm
    raised = RaisedHands(replace(cfg, bench_hand_width_mm=200.0))  # until learnt: this width
    resting = replace(on_bench, zones=("bin_a",), speed_mm_s=0.0)
    for _ in range(cfg.hand_width_min_samples):
        assert not raised.update([resting])[0].raised
    assert raised.bench_width() == pytest.approx(on_bench.width_mm)
    moving = replace(above, speed_mm_s=400.0)
    assert raised.update([moving])[0].raised and not raised.update([on_bench])[0].raised
