"""Touch button logic on built hands: presses, passes, resting arms, fists, the back of the hand."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from oss.instructions.model import Press, Step, Text
from oss.perception.touch import (
    TouchButton,
    TouchButtons,
    TouchConfig,
    default_layout,
    draw_touch_buttons,
    uses_confirm,
)
from oss.records import Button, Hand, InputEvent, Observation, OssError
from tests.hands.builders import foreground_hand, hand

FPS = 30.0
NEXT = TouchButton(Button.NEXT, (600.0, 250.0), 32.0)
BACK = TouchButton(Button.BACK, (500.0, 250.0), 32.0)


def feed(buttons: TouchButtons, frames: list[tuple[Hand, ...]], t0: float = 0.0) -> list[InputEvent]:
    out: list[InputEvent] = []
    for i, hands in enumerate(frames):
        out += buttons.update(hands, t0 + i / FPS)
    return out


def still(h: Hand, seconds: float) -> list[tuple[Hand, ...]]:
    return [(h,)] * round(seconds * FPS)


def path(a: tuple[float, float], b: tuple[float, float], speed: float, **kw: Any) -> list[tuple[Hand, ...]]:
    n = max(2, round(float(np.hypot(b[0] - a[0], b[1] - a[1])) / speed * FPS))
    return [
        (hand((a[0] + (b[0] - a[0]) * k / (n - 1), a[1] + (b[1] - a[1]) * k / (n - 1)), **kw),)
        for k in range(n)
    ]


def test_hand_held_above_the_bench_does_not_press() -> None:
    tb = TouchButtons([NEXT])
    hover = replace(hand((600, 250), with_landmarks=False), raised=True)
    assert feed(tb, still(hover, 1.5)) == []
    assert [e.button for e in feed(tb, still(replace(hover, raised=False), 1.0), 1.5)] == [Button.NEXT]


def test_fingertip_resting_presses_after_the_dwell() -> None:
    tb = TouchButtons([NEXT, BACK])
    frames = path((600, 60), (600, 250), 800.0) + still(hand((600, 250)), 1.0)
    arrive = len(path((600, 60), (600, 250), 800.0)) - 1
    events = []
    prog = []
    for i, hs in enumerate(frames):
        events += tb.update(hs, i / FPS)
        prog.append(tb.progress()[Button.NEXT])
    assert [e.button for e in events] == [Button.NEXT]
    assert events[0].source == "touch"
    latency = events[0].t - arrive / FPS
    # the dwell, plus the speed window over which the arriving fingertip still counts as moving
    assert 0.4 - 1e-9 <= latency <= 0.4 + 0.1 + 1 / FPS + 1e-9
    assert prog == sorted(prog) and prog[-1] == 1.0
    assert tb.progress()[Button.BACK] == 0.0


def test_holding_does_not_repeat_but_pressing_again_does() -> None:
    tb = TouchButtons([NEXT])
    frames = still(hand((600, 250)), 2.0) + [()] * 6 + still(hand((605, 245)), 0.6)
    events = feed(tb, frames)
    assert [e.button for e in events] == [Button.NEXT, Button.NEXT]


@pytest.mark.parametrize("speed", [900.0, 300.0])
def test_passing_over_does_not_press(speed: float) -> None:
    tb = TouchButtons([NEXT])
    assert feed(tb, path((450, 250), (750, 250), speed, direction_deg=0.0)) == []
    assert feed(tb, path((600, 100), (600, 420), speed), t0=10.0) == []


@pytest.mark.parametrize(
    ("case", "kw"),
    [
        ("palm on the button, fingers beyond", {"landmark": 9, "pose": "flat"}),
        ("wrist and forearm across", {"landmark": 0, "pose": "flat"}),
        ("fingers' middle joints on it, tips beyond", {"landmark": 10, "pose": "flat"}),
        ("knuckles of a fist", {"landmark": 6, "pose": "fist"}),
        ("across sideways, fingers beyond", {"landmark": 9, "pose": "flat", "direction_deg": 0.0}),
    ],
)
def test_resting_hand_or_arm_across_does_not_press(case: str, kw: dict[str, object]) -> None:
    tb = TouchButtons([NEXT])
    assert feed(tb, still(hand((600, 250), **kw), 2.0)) == [], case  # type: ignore[arg-type]


def test_flat_hand_pressing_with_its_longest_finger_presses() -> None:
    tb = TouchButtons([NEXT])
    assert len(feed(tb, still(hand((600, 250), landmark=12, pose="flat"), 0.6))) == 1


def test_back_of_the_hand_is_rejected_when_asked() -> None:
    turned = hand((600, 250), palm_up=True)
    assert len(feed(TouchButtons([NEXT]), still(turned, 0.6))) == 1  # geometry alone cannot tell
    strict = TouchButtons([NEXT], TouchConfig(palm_down_only=True))
    assert feed(strict, still(turned, 0.6)) == []
    for handed in ("Right", "Left"):
        strict = TouchButtons([NEXT], TouchConfig(palm_down_only=True))
        assert len(feed(strict, still(hand((600, 250), handedness=handed), 0.6))) == 1


def test_foreground_tip_presses_without_landmarks_unless_disabled() -> None:
    assert len(feed(TouchButtons([NEXT]), still(foreground_hand((610, 240)), 0.6))) == 1
    off = TouchButtons([NEXT], TouchConfig(allow_foreground_tip=False))
    assert feed(off, still(foreground_hand((610, 240)), 0.6)) == []


def test_a_missed_frame_does_not_restart_the_dwell_but_a_gap_does() -> None:
    h = hand((600, 250))
    one_gap = [*still(h, 0.2), (), *still(h, 0.25)]
    assert len(feed(TouchButtons([NEXT]), one_gap)) == 1
    long_gap = still(h, 0.2) + [()] * 6 + still(h, 0.25)
    assert feed(TouchButtons([NEXT]), long_gap) == []


def test_update_takes_an_observation() -> None:
    tb = TouchButtons([NEXT])
    ev: list[InputEvent] = []
    for i in range(20):
        ev += tb.update(Observation(t=i / FPS, frame_index=i, hands=(hand((600, 250)),)), i / FPS)
    assert [e.button for e in ev] == [Button.NEXT]


def test_duplicate_buttons_are_refused() -> None:
    with pytest.raises(OssError, match="once"):
        TouchButtons([NEXT, NEXT])


def test_default_layout_keeps_clear_of_zones(sample_instruction) -> None:  # type: ignore[no-untyped-def]
    from oss.perception.touch import _zone_polygons

    layout = default_layout(sample_instruction)
    assert [b.id for b in layout] == [Button.NEXT, Button.BACK, Button.HELP]
    bw, bd = sample_instruction.bench.width_mm, sample_instruction.bench.depth_mm
    import cv2

    for b in layout:
        x, y = b.center_mm
        assert b.radius_mm <= x <= bw - b.radius_mm and y <= bd / 2
        for poly in _zone_polygons(sample_instruction):
            assert cv2.pointPolygonTest(poly, (x, y), True) < -b.radius_mm
    assert layout[0].center_mm[0] > layout[1].center_mm[0] > layout[2].center_mm[0]


def test_confirm_button_only_for_instructions_with_check_steps(sample_instruction) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    assert not uses_confirm(sample_instruction)
    check = Step("check", Text.of(en="check"), Press("confirm"))
    ins = replace(sample_instruction, steps=(*sample_instruction.steps, check))
    assert uses_confirm(ins)
    assert Button.CONFIRM in [b.id for b in default_layout(ins)]


def test_no_room_is_an_error_a_person_can_act_on(sample_instruction) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OssError, match="no room"):
        default_layout(sample_instruction, radius_mm=400.0)


def test_ring_fills_with_progress() -> None:
    to_img = np.array([[1.0, 0, -400], [0, -1.0, 400], [0, 0, 1]])  # bench mm → px, y up
    green = []
    for p in (0.0, 0.25, 0.75, 1.0):
        img = np.zeros((300, 400, 3), np.uint8)
        draw_touch_buttons(img, [NEXT, BACK], {Button.NEXT: p}, to_img)
        green.append(int(np.count_nonzero((img[..., 1] > 150) & (img[..., 0] < 100))))
        assert np.count_nonzero(img) > 0
    assert green[0] == 0 and green[0] < green[1] < green[2] < green[3]
