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


def test_arm_joined_to_the_edge_by_shadow_like_change_is_an_arm() -> None:
    """A grey sleeve darker than the bench is an even dimming, like a shadow: not foreground. The hand and
    forearm beyond it are still an arm, entering where the sleeve crosses the edge."""
    tip = (300.0, 600.0)
    whole = mask_of([b.arm(600, tip)])
    fg = whole.copy()
    fg[: round(250 / S)] = 0  # the sleeve: only shadow-like change
    assert segment_arms(fg, S, PerceptionConfig()).hands == ()
    seg = segment_arms(fg, S, PerceptionConfig(), changed=whole)
    assert len(seg.hands) == 1
    assert np.hypot(seg.hands[0].tip_mm[0] - tip[0], seg.hands[0].tip_mm[1] - tip[1]) < 8.0
    assert seg.mask[2, round(600 / S)] and seg.mask[round(400 / S), round(300 / S)] == 0


def test_a_shadow_beside_an_arm_changes_nothing() -> None:
    arm = mask_of([b.arm(600, (300, 500))])
    shadow = mask_of(
        [[(560, 0), (700, 0), (420, 560), (330, 560)], [(300, 560), (420, 560), (420, 700), (300, 700)]]
    )
    plain = segment_arms(arm, S, PerceptionConfig())
    seg = segment_arms(arm, S, PerceptionConfig(), changed=np.maximum(arm, shadow))
    assert [h.tip_mm for h in seg.hands] == [h.tip_mm for h in plain.hands]
    assert np.array_equal(seg.mask, plain.mask)


def test_arm_across_a_stretch_that_looks_like_the_bench_keeps_its_hand() -> None:
    """A forearm over a jig of its own colour leaves no trace: the hand beyond is still that arm's."""
    tip = (300.0, 600.0)
    fg = mask_of([b.arm(600, tip)])
    fg[round(200 / S) : round(290 / S)] = 0
    cut = segment_arms(fg, S, PerceptionConfig(arm_gap_mm=0.0))
    assert len(cut.hands) == 1 and cut.hands[0].tip_mm[1] < 210
    for changed in (None, fg):
        seg = segment_arms(fg, S, PerceptionConfig(), changed=changed)
        assert len(seg.hands) == 1
        assert np.hypot(seg.hands[0].tip_mm[0] - tip[0], seg.hands[0].tip_mm[1] - tip[1]) < 8.0
        assert seg.mask[round(550 / S), round(330 / S)]
    # a wider gap than arm_gap_mm is not bridged
    fg[round(200 / S) : round(340 / S)] = 0
    assert segment_arms(fg, S, PerceptionConfig()).hands[0].tip_mm[1] < 210


def test_pieces_beside_an_arm_too_small_or_too_far_are_not_joined() -> None:
    arm = b.arm(600, (300, 400))
    plain = segment_arms(mask_of([arm]), S, PerceptionConfig())
    others = [
        [(800, 150), (900, 150), (900, 250), (800, 250)],  # beside the arm, not beyond its hand
        [(250, 440), (290, 440), (290, 480), (250, 480)],  # beyond the hand, but a speck
        [(200, 580), (300, 580), (300, 680), (200, 680)],  # beyond the hand, too far
    ]
    for other in others:
        seg = segment_arms(mask_of([arm, other]), S, PerceptionConfig())
        assert [h.tip_mm for h in seg.hands] == [h.tip_mm for h in plain.hands]
        assert np.array_equal(seg.mask, plain.mask)


def test_an_edge_region_of_shadow_like_change_with_specks_of_foreground_is_no_arm() -> None:
    shadow = mask_of([[(500, 0), (700, 0), (700, 300), (500, 300)]])
    fg = np.zeros_like(shadow)
    fg[2:8, round(600 / S) : round(600 / S) + 6] = 255
    seg = segment_arms(fg, S, PerceptionConfig(), changed=np.maximum(shadow, fg))
    assert seg.hands == () and not seg.mask.any()


def test_a_sleeve_without_foreground_continues_the_arm_of_the_frame_before() -> None:
    """Where none of the sleeve passes as foreground, its shadow-like change leads from the edge to the
    hand only for an arm that was there in the last frame: it continues an arm, it begins none."""
    tip = (300.0, 600.0)
    whole = mask_of([b.arm(600, tip)])
    fg = whole.copy()
    fg[: round(330 / S)] = 0  # the sleeve, then a stretch that looks like the bench
    fg[:10, 295:300] = 255  # a speck of the sleeve passes as foreground
    changed = whole.copy()
    changed[round(250 / S) : round(330 / S)] = 0
    assert segment_arms(fg, S, PerceptionConfig(), changed=changed).hands == ()
    seg = segment_arms(fg, S, PerceptionConfig(), changed=changed, previous=whole)
    assert len(seg.hands) == 1
    assert np.hypot(seg.hands[0].tip_mm[0] - tip[0], seg.hands[0].tip_mm[1] - tip[1]) < 8.0
    # the arm of the frame before elsewhere: nothing to continue
    away = mask_of([b.arm(1000, (1100, 300))])
    assert segment_arms(fg, S, PerceptionConfig(), changed=changed, previous=away).hands == ()


def test_specks_of_foreground_in_the_shadow_joined_to_an_arm_do_not_move_its_tip() -> None:
    """The shadow-like change joined to an arm (its shadow on a light part) holds specks of sensor noise
    that pass as foreground, some further from the edge than the hand: the tip stays at the hand."""
    tip = (300.0, 400.0)
    fg = mask_of([b.arm(600, tip)])
    fg[: round(250 / S)] = 0  # the sleeve: only shadow-like change
    shade = mask_of([b.arm(600, tip), [(200, 300), (700, 300), (700, 560), (200, 560)]])
    for x, y in ((220, 540), (680, 550), (650, 530)):
        fg[round(y / S) : round(y / S) + 2, round(x / S) : round(x / S) + 2] = 255
    seg = segment_arms(fg, S, PerceptionConfig(), changed=np.maximum(shade, fg))
    assert len(seg.hands) == 1
    assert np.hypot(seg.hands[0].tip_mm[0] - tip[0], seg.hands[0].tip_mm[1] - tip[1]) < 8.0


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
