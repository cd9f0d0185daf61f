"""Pick detection over tip tracks, and presence against step/unit references."""

from __future__ import annotations

import math

import numpy as np

from oss.perception.config import PerceptionConfig
from oss.perception.picks import PickDetector
from oss.perception.presence import PresenceDetector, condition_zones
from oss.perception.zones import ZoneMap
from oss.records import Hand, PickSeen, Presence
from tests.perception import builders as b

FPS = 30.0


def min_jerk(p0, p1, dur):  # type: ignore[no-untyped-def]
    n = max(1, round(dur * FPS))
    for i in range(1, n + 1):
        u = i / n
        s = u**3 * (10 - 15 * u + 6 * u * u)
        yield (p0[0] + (p1[0] - p0[0]) * s, p0[1] + (p1[1] - p0[1]) * s)


def hold(p, dur):  # type: ignore[no-untyped-def]
    for _ in range(round(dur * FPS)):
        yield p


def run(path, noise_mm: float = 1.5, seed: int = 0) -> list[PickSeen]:  # type: ignore[no-untyped-def]
    zm = ZoneMap(b.instruction(), 2.0, PerceptionConfig())
    det = PickDetector(["bin_a", "bin_b", "bin_side"], PerceptionConfig())
    rng = np.random.default_rng(seed)
    picks: list[PickSeen] = []
    for i, p in enumerate(path):
        hands = () if p is None else (Hand((p[0] + rng.normal(0, noise_mm), p[1] + rng.normal(0, noise_mm))),)
        picks += det.update(hands, zm.depth_mm, i / FPS)
    return picks


def seq(*parts):  # type: ignore[no-untyped-def]
    out: list = []
    for p in parts:
        out += list(p)
    return out


READY = (600.0, 20.0)
BIN_A = (130.0, 610.0)
SIDE = (95.0, 290.0)


def test_reach_in_grasp_and_out_is_one_pick() -> None:
    picks = run(
        seq(min_jerk(READY, BIN_A, 0.9), hold(BIN_A, 0.5), min_jerk(BIN_A, (500, 300), 0.8), [None] * 5)
    )
    assert [p.bin for p in picks] == ["bin_a"]
    assert picks[0].t_leave > picks[0].t_enter


def test_quick_grab_is_a_pick() -> None:
    # a fast reach, the fingers close on the part (a short stop), straight back out
    picks = run(seq(min_jerk(READY, BIN_A, 0.6), hold(BIN_A, 0.15), min_jerk(BIN_A, READY, 0.6)))
    assert [p.bin for p in picks] == ["bin_a"]


def test_sweeping_across_a_bin_is_not_a_pick() -> None:
    # from the front, over the side bin, on to bin_a: a curved path through the side bin without stopping
    path = seq(
        min_jerk(READY, (95.0, 180.0), 0.5),
        min_jerk((95.0, 180.0), (95.0, 420.0), 0.35),
        min_jerk((95.0, 420.0), BIN_A, 0.35),
        hold(BIN_A, 0.5),
        min_jerk(BIN_A, READY, 0.8),
    )
    assert [p.bin for p in run(path)] == ["bin_a"]


def test_a_curve_through_a_bin_without_stopping_is_not_a_pick() -> None:
    # in over the side bin, turning inside it towards bin_a (a pass over on the way to another bin)
    side_in, turn = (95.0, 250.0), (120.0, 330.0)
    path = seq(
        min_jerk(READY, side_in, 0.5),
        min_jerk(side_in, turn, 0.15),
        min_jerk(turn, BIN_A, 0.45),
        hold(BIN_A, 0.5),
    )
    assert [p.bin for p in run(seq(path, min_jerk(BIN_A, READY, 0.8)))] == ["bin_a"]


def test_a_tip_that_leaps_into_a_bin_did_not_enter_it() -> None:
    # a part lifted with the hand sticks out into the next bin: the tip jumps there, stays, jumps back
    lifted = (130.0, 560.0)
    path = seq(min_jerk(READY, SIDE, 0.9), hold(SIDE, 0.4), [lifted] * 10, min_jerk(SIDE, READY, 0.8))
    assert [p.bin for p in run(path)] == ["bin_side"]


def test_hand_gone_inside_a_bin_is_no_pick() -> None:
    assert run(seq(min_jerk(READY, BIN_A, 0.9), hold(BIN_A, 0.5), [None] * 10)) == []


def test_suspended_frames_drop_open_visits() -> None:
    zm = ZoneMap(b.instruction(), 2.0, PerceptionConfig())
    det = PickDetector(["bin_a"], PerceptionConfig())
    path = seq(min_jerk(READY, BIN_A, 0.9), hold(BIN_A, 0.5), min_jerk(BIN_A, READY, 0.8))
    got: list[PickSeen] = []
    for i, p in enumerate(path):
        got += det.update((Hand(p),), zm.depth_mm, i / FPS, suspended=30 <= i < 40)
    assert got == []


def test_condition_zones_splits_present_and_absent() -> None:
    ins = b.instruction()
    assert condition_zones(ins.steps[0].done) == (("seat",), ())
    assert condition_zones(ins.steps[2].done) == ((), ("seat",))


HOUSING = (0.8, 0.6, 0.5)  # normalised look of a part: unlike a shadow, not an even dimming


class Looks:
    """Normalised views of the synthetic bench with things on the jig."""

    def __init__(self) -> None:
        self.zm = ZoneMap(b.instruction(), 2.0, PerceptionConfig())
        self.ratio = np.ones((350, 600, 3), np.float32)
        self.none = np.zeros((350, 600), np.uint8)

    def put(self, x0: float, y0: float, x1: float, y1: float, value: tuple[float, float, float]) -> None:
        self.ratio[int(y0 / 2) : int(y1 / 2), int(x0 / 2) : int(x1 / 2)] = value

    def cover(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        m = self.none.copy()
        m[int(y0 / 2) : int(y1 / 2), int(x0 / 2) : int(x1 / 2)] = 255
        return m


def test_presence_against_the_step_start_and_the_unit_start() -> None:
    lk = Looks()
    pd = PresenceDetector(lk.zm, ["seat", "pad"], PerceptionConfig())
    pd.update(lk.ratio, lk.none)
    pd.begin_unit()
    pd.begin_step(["seat"])
    pd.update(lk.ratio, lk.none)
    assert pd.presence() == (("seat", Presence.EMPTY),)
    lk.put(640, 240, 840, 360, HOUSING)  # the housing lands on the seat, under a hand
    pd.update(lk.ratio, lk.cover(600, 0, 900, 400))
    assert pd.presence() == (("seat", Presence.UNKNOWN),)
    pd.update(lk.ratio, lk.none)
    assert pd.presence() == (("seat", Presence.PRESENT),)
    pd.begin_step(["pad"])  # the pad zone lies inside the seat: the housing alone is not the pad
    pd.update(lk.ratio, lk.none)
    assert pd.presence() == (("pad", Presence.EMPTY),)
    lk.put(680, 270, 760, 330, (1.1, 1.2, 1.3))
    pd.update(lk.ratio, lk.none)
    assert pd.presence() == (("pad", Presence.PRESENT),)
    pd.begin_step([], ["seat"])  # unload: empty again means like at the unit start
    pd.update(lk.ratio, lk.none)
    assert pd.presence() == (("seat", Presence.PRESENT),)
    lk.put(600, 200, 900, 400, (1.0, 1.0, 1.0))
    pd.update(lk.ratio, lk.none)
    assert pd.presence() == (("seat", Presence.EMPTY),)


def test_a_shadow_over_the_zone_is_no_part() -> None:
    lk = Looks()
    pd = PresenceDetector(lk.zm, ["seat"], PerceptionConfig())
    pd.update(lk.ratio, lk.none)
    pd.begin_step(["seat"])
    lk.put(640, 240, 840, 360, (0.6, 0.6, 0.6))  # an arm's shadow dims it evenly
    pd.update(lk.ratio, lk.none)
    assert pd.presence() == (("seat", Presence.EMPTY),)
    lk.put(640, 240, 840, 360, (0.2, 0.2, 0.2))  # much darker than a shadow: a dark part
    pd.update(lk.ratio, lk.none)
    assert pd.presence() == (("seat", Presence.PRESENT),)


def test_reference_of_a_zone_covered_at_step_start_is_its_next_clear_look() -> None:
    lk = Looks()
    pd = PresenceDetector(lk.zm, ["seat"], PerceptionConfig())
    pd.update(lk.ratio, lk.cover(0, 0, 1200, 700))
    pd.begin_step(["seat"])
    pd.update(lk.ratio, lk.cover(0, 0, 1200, 700))
    assert pd.presence() == (("seat", Presence.UNKNOWN),)
    pd.update(lk.ratio, lk.none)
    assert pd.presence() == (("seat", Presence.EMPTY),)


def test_taught_done_look_must_match() -> None:
    lk = Looks()
    pd = PresenceDetector(lk.zm, ["pad"], PerceptionConfig())
    pd.update(lk.ratio, lk.none)
    done = lk.ratio.copy()
    done[135:165, 340:380] = (0.4, 0.8, 0.9)
    pd.teach("pad", done=lk.zm.sampler("pad").sample(done))
    pd.begin_step(["pad"])
    lk.put(680, 270, 760, 330, (1.4, 1.3, 1.2))  # something else than the taught result
    pd.update(lk.ratio, lk.none)
    assert pd.presence() == (("pad", Presence.UNKNOWN),)
    lk.ratio = done
    pd.update(lk.ratio, lk.none)
    assert pd.presence() == (("pad", Presence.PRESENT),)


def test_presence_follows_a_moved_jig() -> None:
    from oss.records import FixturePose

    lk = Looks()
    pd = PresenceDetector(lk.zm, ["seat"], PerceptionConfig())
    lk.put(640, 240, 840, 360, HOUSING)  # a housing is on the seat
    pd.update(lk.ratio, lk.none)
    pd.begin_step(["seat"])
    lk.zm.update_poses([FixturePose("jig", 650.0, 260.0, 0.0)])  # jig and housing slide by (50, 10)
    lk.ratio[:] = 1.0
    lk.put(690, 250, 890, 370, HOUSING)
    pd.update(lk.ratio, lk.none)
    assert pd.presence() == (("seat", Presence.EMPTY),)
    assert math.isclose(lk.zm.polygon_mm("seat")[0][0], 690.0)


# Tips of a hand taking an LED module from bin_led40 of the LED fixture, one a frame, as perception found
# them on the virtual bench (led_learning): in, a grasp near one side of the bin, then the hand lifts the
# module (120 mm wide, held across the hand) and the tip found jumps to the module's far corner, just over
# the rim of the next bin (20 mm away), where it stays while the hand lifts.
# Unit 1 from t = 12.1 s: grasped 35 mm from the left side; the corner over bin_pad.
LIFT_NEAR_LEFT_RIM = [
    (767, 30), (719, 57), (740, 90), (745, 146), (732, 185), (728, 229), (723, 270), (716, 311), (710, 353),
    (702, 394), (701, 427), (697, 461), (695, 491), (693, 519), (688, 545), (685, 565), (684, 581),
    (682, 593), (681, 601), (679, 607), (679, 611), (680, 611), (680, 611), (680, 611), (679, 609),
    (679, 607), (676, 603), (678, 599), (675, 597), (676, 595), (675, 595), (675, 595), (675, 595),
    (675, 595), (676, 595), (676, 595), (676, 597), (675, 595), (675, 595), (675, 595), (672, 596),
    (676, 595), (675, 595), (637, 607), (637, 609), (641, 611), (609, 599), (611, 607), (615, 615),
    (617, 621), (618, 624), (618, 626), (619, 627), (619, 627), (617, 623), (612, 618), (601, 600),
    (595, 583), (586, 562), (590, 558), (585, 528), (573, 498), (536, 441),
]  # fmt: skip
# Unit 7 from t = 740.33 s (the deliberate wrong pick): grasped 34 mm from the right side; over bin_led60.
LIFT_NEAR_RIGHT_RIM = [
    (522, 77), (529, 121), (554, 159), (574, 207), (588, 247), (606, 288), (625, 328), (647, 369),
    (658, 406), (671, 442), (686, 477), (698, 506), (709, 532), (717, 558), (726, 578), (733, 590),
    (736, 601), (739, 608), (742, 613), (741, 615), (743, 615), (743, 615), (742, 615), (740, 614),
    (740, 610), (739, 607), (738, 604), (736, 602), (735, 600), (736, 600), (736, 600), (735, 599),
    (736, 600), (737, 599), (735, 599), (735, 599), (735, 599), (736, 600), (735, 599), (736, 600),
    (737, 600), (736, 600), (735, 599), (737, 600), (734, 599), (735, 599), (735, 599), (736, 600),
    (737, 600), (753, 609), (755, 609), (792, 600), (795, 605), (794, 611), (791, 617), (806, 609),
    (806, 612), (806, 612), (805, 610), (802, 605), (795, 587), (779, 569), (750, 560), (730, 532),
    (712, 505), (707, 484), (700, 466), (700, 451),
]  # fmt: skip


def _led_fixture_run(path) -> list[PickSeen]:  # type: ignore[no-untyped-def]
    from oss.instructions.loader import load_instruction
    from tests.conftest import SAMPLE

    ins = load_instruction(SAMPLE)
    zm = ZoneMap(ins, 2.0, PerceptionConfig())
    det = PickDetector(tuple(ins.bins), PerceptionConfig())
    picks: list[PickSeen] = []
    for i, p in enumerate(path):
        picks += det.update(() if p is None else (Hand((float(p[0]), float(p[1]))),), zm.depth_mm, i / FPS)
    return picks


def test_a_lifted_part_sticking_out_over_the_next_bins_rim_is_no_pick_there() -> None:
    for track in (LIFT_NEAR_LEFT_RIM, LIFT_NEAR_RIGHT_RIM):
        out = list(min_jerk(track[-1], (500.0, 20.0), 0.5))
        assert [p.bin for p in _led_fixture_run(seq(track, out, [None] * 5))] == ["bin_led40"]


def test_from_one_bin_straight_into_the_next_and_a_grasp_there_is_a_pick_in_both() -> None:
    # put a part back in bin_led40, then straight over into bin_pad next to it and a quick grab there
    led, pad = (700.0, 610.0), (555.0, 610.0)
    path = seq(
        min_jerk((700.0, 20.0), led, 0.9),
        hold(led, 0.3),
        min_jerk(led, pad, 0.3),
        hold(pad, 0.15),
        min_jerk(pad, (500.0, 20.0), 0.8),
        [None] * 5,
    )
    assert [p.bin for p in _led_fixture_run(path)] == ["bin_led40", "bin_pad"]
