"""ConditionTracker: every condition type, debouncing and the combinators, from plain observations."""

from __future__ import annotations

from dataclasses import replace

import pytest

from oss.engine import ConditionTracker, EngineConfig, has_press
from oss.instructions import model as m
from oss.records import Button, Hand, Observation, OssError, PickSeen, Presence
from tests.engine.builders import obs

P, E, U = Presence.PRESENT, Presence.EMPTY, Presence.UNKNOWN
FPS = 20.0
DT = 1.0 / FPS


def zone_frames(*runs: tuple[float, Presence, bool], zone: str = "z", t0: float = 0.0):
    """Frames at 20 fps: each run is (seconds, presence of ``zone``, hand in ``zone``)."""
    t, out = t0, []
    for seconds, p, hand_in in runs:
        for _ in range(round(seconds * FPS)):
            out.append(obs(t, hands=[zone] if hand_in else [], presence={zone: p}))
            t = round(t + DT, 6)
    return out


def run_frames(cond: m.Condition, frames, cfg: EngineConfig | None = None) -> ConditionTracker:
    tr = ConditionTracker(cond, cfg)
    for f in frames:
        tr.on_frame(f, f.t)
    return tr


def pick(bin_id: str, t: float = 0.0) -> PickSeen:
    return PickSeen(bin_id, t - 0.3, t)


# ---------------------------------------------------------------------------------------------------
# pick


@pytest.mark.parametrize(
    ("count", "bins", "met", "progress"),
    [
        (1, [], False, 0.0),
        (1, ["a"], True, 1.0),
        (1, ["b"], False, 0.0),
        (2, ["a"], False, 0.5),
        (2, ["a", "b", "a"], True, 1.0),
        (3, ["a", "a"], False, 2 / 3),
    ],
)
def test_pick_counts_only_its_bin(count: int, bins: list[str], met: bool, progress: float) -> None:
    tr = ConditionTracker(m.Pick("a", count))
    counted = [tr.on_pick(pick(b, i), float(i)) for i, b in enumerate(bins)]
    assert tr.met is met
    assert tr.progress == pytest.approx(progress)
    assert counted == [b == "a" for b in bins]


def test_pick_beyond_the_count_is_not_counted() -> None:
    tr = ConditionTracker(m.Pick("a"))
    assert tr.on_pick(pick("a"), 0.0)
    assert not tr.on_pick(pick("a"), 0.1)
    assert tr.live_pick_bins() == {}


# ---------------------------------------------------------------------------------------------------
# present / absent: debouncing


@pytest.mark.parametrize(
    ("runs", "met"),
    [
        pytest.param([(0.5, E, False), (0.05, P, False), (0.5, E, False)], False, id="one-frame flicker"),
        pytest.param([(0.5, E, False), (0.1, P, False), (0.5, E, False)], False, id="two-frame flicker"),
        pytest.param([(0.45, P, False)], True, id="steady 0.45 s"),
        pytest.param([(0.25, P, False)], False, id="steady 0.25 s, under debounce"),
        pytest.param([(1.0, P, True)], False, id="hand in the zone the whole time"),
        pytest.param([(0.25, P, False), (0.05, P, True), (0.25, P, False)], False, id="hand resets the run"),
        pytest.param(
            [(0.25, P, False), (0.05, E, False), (0.25, P, False)], False, id="EMPTY resets the run"
        ),
        pytest.param(
            [(0.25, P, False), (0.3, U, False), (0.25, P, False)], True, id="short UNKNOWN only pauses"
        ),
        pytest.param([(0.2, P, False), (0.3, U, False), (0.05, P, False)], False, id="UNKNOWN adds no time"),
        pytest.param([(0.2, P, False), (1.5, U, False), (0.2, P, False)], False, id="long UNKNOWN resets"),
        pytest.param([(2.0, U, False)], False, id="UNKNOWN never confirms"),
    ],
)
def test_present_debounce(runs, met: bool) -> None:
    tr = run_frames(m.PartPresent("z"), zone_frames(*runs))
    assert tr.met is met
    assert 0.0 <= tr.progress <= 1.0
    assert (tr.progress == 1.0) is met


@pytest.mark.parametrize(
    ("runs", "met"),
    [
        pytest.param([(0.5, P, False), (0.05, E, False), (0.5, P, False)], False, id="one-frame flicker"),
        pytest.param([(0.45, E, False)], True, id="steady"),
        pytest.param([(1.0, E, True)], False, id="hand still in the zone"),
        pytest.param([(0.25, E, False), (0.3, U, False), (0.25, E, False)], True, id="short UNKNOWN pauses"),
    ],
)
def test_absent_debounce(runs, met: bool) -> None:
    assert run_frames(m.PartAbsent("z"), zone_frames(*runs)).met is met


def test_present_latches_once_met() -> None:
    tr = run_frames(m.PartPresent("z"), zone_frames((0.5, P, False), (0.5, E, True)))
    assert tr.met
    assert tr.pending_presence_zones() == ()


def test_present_needs_enough_frames_at_a_low_frame_rate() -> None:
    frames = [obs(0.0, presence={"z": P}), obs(0.4, presence={"z": P})]
    assert not run_frames(m.PartPresent("z"), frames).met
    assert run_frames(m.PartPresent("z"), [*frames, obs(0.8, presence={"z": P})]).met


def test_present_gap_between_frames_adds_little_time() -> None:
    cfg = EngineConfig(present_s=1.0, max_frame_gap_s=0.5)
    frames = [obs(t, presence={"z": P}) for t in (0.0, 0.05, 2.0, 2.05)]  # a 2 s camera stall
    assert not run_frames(m.PartPresent("z"), frames, cfg).met
    assert run_frames(m.PartPresent("z"), [*frames, obs(2.5, presence={"z": P})], cfg).met


@pytest.mark.parametrize("fps", [2.0, 4.0, 10.0, 60.0])
def test_a_slow_camera_still_confirms(fps: float) -> None:
    frames = [obs(i / fps, presence={"z": P}) for i in range(round(2 * fps))]
    assert run_frames(m.PartPresent("z"), frames).met


def test_config_rejects_negative_timings() -> None:
    with pytest.raises(OssError, match="present_s, hand_dropout_frames"):
        EngineConfig(present_s=-1.0, hand_dropout_frames=-1)


def test_camera_lost_counts_as_unknown() -> None:
    lost = [obs(0.2 + i * DT, presence={"z": P}, camera_ok=False) for i in range(40)]
    assert not run_frames(m.PartPresent("z"), [*zone_frames((0.2, P, False)), *lost]).met


def test_present_debounce_is_configurable() -> None:
    frames = zone_frames((0.45, P, False))
    assert not run_frames(m.PartPresent("z"), frames, EngineConfig(present_s=0.6)).met
    assert run_frames(m.PartPresent("z"), zone_frames((0.7, P, False)), EngineConfig(present_s=0.6)).met


def test_reset_transients_forgets_a_run_in_progress() -> None:
    tr = run_frames(m.PartPresent("z"), zone_frames((0.25, P, False)))
    tr.reset_transients()
    for f in zone_frames((0.15, P, False), t0=0.25):
        tr.on_frame(f, f.t)
    assert not tr.met


# ---------------------------------------------------------------------------------------------------
# hand_in


def hand_frames(*runs: tuple[float, bool], zone: str = "z"):
    t, out = 0.0, []
    for seconds, inside in runs:
        for _ in range(round(seconds * FPS)):
            out.append(obs(t, hands=[zone] if inside else ["elsewhere"]))
            t = round(t + DT, 6)
    return out


@pytest.mark.parametrize(
    ("runs", "met"),
    [
        pytest.param([(1.2, True)], True, id="dwell 1.2 s"),
        pytest.param([(0.4, True), (1.0, False)], False, id="hand passing over"),
        pytest.param([(0.5, True), (0.05, False), (0.6, True)], True, id="one-frame dropout tolerated"),
        pytest.param([(0.5, True), (0.1, False), (0.6, True)], True, id="two-frame dropout tolerated"),
        pytest.param([(0.5, True), (0.5, False), (0.6, True)], False, id="hand left: dwell restarts"),
    ],
)
def test_hand_in_dwell(runs, met: bool) -> None:
    assert run_frames(m.HandIn("z", dwell_s=1.0), hand_frames(*runs)).met is met


@pytest.mark.parametrize("fps", [4.0, 5.0, 15.0, 30.0, 60.0])
def test_hand_in_tolerates_two_missed_frames_at_any_frame_rate(fps: float) -> None:
    seen = [i not in (5, 6) for i in range(round(1.5 * fps) + 8)]  # frames 5 and 6 lose the hand
    frames = [obs(i / fps, hands=["z"] if v else []) for i, v in enumerate(seen)]
    assert run_frames(m.HandIn("z", dwell_s=1.0), frames).met


@pytest.mark.parametrize("fps", [4.0, 15.0, 60.0])
def test_hand_in_breaks_on_a_real_absence_at_any_frame_rate(fps: float) -> None:
    n_in, n_out = round(0.8 * fps), max(3, round(0.5 * fps))  # three frames or half a second
    frames = [
        obs(i / fps, hands=["z"] if not n_in <= i < n_in + n_out else []) for i in range(n_in * 2 + n_out)
    ]
    assert not run_frames(m.HandIn("z", dwell_s=1.0), frames).met


def test_hand_in_a_tip_grazing_the_zone_on_its_way_in_does_not_start_the_dwell() -> None:
    # one frame in (the tip's edge), one out, then in for good: the dwell counts from the real entry
    frames = hand_frames((DT, True), (DT, False), (1.0 - DT / 2, True))
    assert not run_frames(m.HandIn("z", dwell_s=1.0), frames).met
    frames = hand_frames((2 * DT, True), (DT, False), (1.0 - 2 * DT, True))
    assert run_frames(m.HandIn("z", dwell_s=1.0), frames).met  # two frames in a row: entered, bridged


def test_hand_in_counts_only_a_tip_that_is_still_there() -> None:
    def frame(t: float, speed: float | None) -> Observation:
        return replace(obs(t, hands=["z"]), hands=(Hand((0.0, 0.0), ("z",), speed_mm_s=speed),))

    moving = [frame(i * DT, 600.0) for i in range(30)]  # 1.5 s sweeping about inside the zone
    assert not run_frames(m.HandIn("z", dwell_s=1.0), moving).met
    arriving = [frame(i * DT, 600.0 if i < 4 else 80.0) for i in range(24)]  # comes to rest at frame 4
    tr = run_frames(m.HandIn("z", dwell_s=1.0), arriving)
    assert not tr.met  # 19 still frames: 0.95 s
    assert run_frames(m.HandIn("z", dwell_s=1.0), [*arriving, frame(24 * DT, 80.0)]).met
    unknown = [frame(i * DT, None) for i in range(21)]  # a detector that knows no speed
    assert run_frames(m.HandIn("z", dwell_s=1.0), unknown).met


def test_hand_in_progress_rises_with_the_dwell() -> None:
    tr = run_frames(m.HandIn("z", dwell_s=1.0), hand_frames((0.55, True)))
    assert tr.progress == pytest.approx(0.5, abs=0.06)


def test_hand_in_counts_a_tip_in_several_zones() -> None:
    frames = [obs(i * DT, hands=[("z", "bin_a")]) for i in range(12)]
    assert run_frames(m.HandIn("z", dwell_s=0.5), frames).met


# ---------------------------------------------------------------------------------------------------
# press, timer


@pytest.mark.parametrize(
    ("wanted", "pressed", "met"),
    [
        ("next", Button.NEXT, True),
        ("next", Button.CONFIRM, False),
        ("confirm", Button.CONFIRM, True),
        ("confirm", Button.NEXT, False),
        ("help", Button.HELP, True),
    ],
)
def test_press_takes_exactly_its_button(wanted: str, pressed: Button, met: bool) -> None:
    tr = ConditionTracker(m.Press(wanted))
    assert tr.wants_press(pressed) is met
    assert tr.on_press(pressed, 1.0) is met
    assert tr.met is met


@pytest.mark.parametrize(("s", "met"), [(0.0, False), (2.9, False), (3.0, True), (10.0, True)])
def test_timer(s: float, met: bool) -> None:
    tr = ConditionTracker(m.Timer(3.0))
    tr.on_time(s)
    assert tr.met is met


def test_has_press() -> None:
    assert has_press(m.Sequence((m.Pick("a"), m.Press())))
    assert not has_press(m.Sequence((m.Pick("a"), m.HandIn("z"))))


# ---------------------------------------------------------------------------------------------------
# all / any / sequence


def test_all_latches_each_child() -> None:
    cond = m.AllOf((m.PartPresent("p"), m.PartPresent("q")))
    tr = ConditionTracker(cond)
    t = 0.0
    for _ in range(10):  # p confirmed, q still empty
        tr.on_frame(obs(t, presence={"p": P, "q": E}), t)
        t += DT
    assert not tr.met and tr.progress == pytest.approx(0.5)
    for _ in range(10):  # a hand now covers p while q is placed and confirmed
        tr.on_frame(obs(t, hands=["p"], presence={"p": U, "q": P}), t)
        t += DT
    assert tr.met


def test_all_gives_one_pick_to_one_child() -> None:
    tr = ConditionTracker(m.AllOf((m.Pick("a"), m.Pick("a"))))
    tr.on_pick(pick("a"), 0.0)
    assert not tr.met
    tr.on_pick(pick("a"), 0.1)
    assert tr.met


def test_any_is_met_by_one_child() -> None:
    tr = ConditionTracker(m.AnyOf((m.Pick("a"), m.Press())))
    assert tr.live_pick_bins() == {"a": 1}
    tr.on_press(Button.NEXT, 1.0)
    assert tr.met and tr.progress == 1.0


def test_sequence_counts_each_element_only_after_the_one_before() -> None:
    tr = ConditionTracker(m.Sequence((m.HandIn("z", dwell_s=0.2), m.Pick("a"))))
    assert tr.live_pick_bins() == {}
    assert tr.pending_pick_bins() == ("a",)
    assert not tr.on_pick(pick("a"), 0.0)  # too early: the hand has not been in z yet
    for i in range(6):
        tr.on_frame(obs(i * DT, hands=["z"]), i * DT)
    assert tr.progress == pytest.approx(0.5)
    assert tr.live_pick_bins() == {"a": 1}
    assert tr.on_pick(pick("a"), 1.0)
    assert tr.met


def test_sequence_first_element_counts_from_step_start() -> None:
    tr = ConditionTracker(m.Sequence((m.Pick("a"), m.PartPresent("p"))))
    assert tr.on_pick(pick("a"), 0.0)
    assert tr.pending_presence_zones() == ("p",)
    for f in zone_frames((0.5, P, False), zone="p", t0=0.1):
        tr.on_frame(f, f.t)
    assert tr.met


def test_sequence_presence_must_be_seen_after_the_pick() -> None:
    """A part already lying in the place before the pick confirms only after the pick, anew."""
    tr = ConditionTracker(m.Sequence((m.Pick("a"), m.PartPresent("p"))))
    for f in zone_frames((1.0, P, False), zone="p"):
        tr.on_frame(f, f.t)
    assert not tr.met
    tr.on_pick(pick("a"), 1.0)
    tr.on_frame(obs(1.0, presence={"p": P}), 1.0)
    assert not tr.met


def test_sequence_timer_starts_when_the_element_before_is_met() -> None:
    tr = ConditionTracker(m.Sequence((m.Pick("a"), m.Timer(2.0))))
    tr.on_time(5.0)
    tr.on_pick(pick("a"), 5.0)
    tr.on_time(6.5)
    assert not tr.met
    tr.on_time(7.0)
    assert tr.met


def test_nested_combinators() -> None:
    cond = m.Sequence((m.AllOf((m.Pick("a"), m.Pick("b"))), m.AnyOf((m.Press(), m.Timer(5.0)))))
    tr = ConditionTracker(cond)
    assert tr.live_pick_bins() == {"a": 1, "b": 1}
    tr.on_pick(pick("b"), 0.1)
    assert tr.live_pick_bins() == {"a": 1}
    tr.on_pick(pick("a"), 0.2)
    assert not tr.met and tr.wants_press(Button.NEXT)
    tr.on_time(5.3)
    assert tr.met
