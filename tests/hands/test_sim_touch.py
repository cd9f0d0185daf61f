"""Touch buttons on the virtual bench, through the sim's camera, perception and MediaPipe: a deliberate
press is detected once, a hand passing over and a hand resting across the button are not."""

from __future__ import annotations

import pytest

from oss.records import Button
from tests.hands import simtouch as S


@pytest.fixture(scope="module")
def station() -> S.SimStation:
    return S.sim_station()


def test_deliberate_press_is_detected_once_after_the_dwell(station: S.SimStation) -> None:
    centre = station.button(Button.NEXT).center_mm
    run = S.run_motion(station, S.press(centre))
    assert [(e.button, e.source) for e in run.events] == [(Button.NEXT, "touch")]
    latency = run.events[0].t - run.marks["arrive"]
    assert 0.3 <= latency <= 0.75  # the 0.4 s dwell, give or take the arrival's slowing down
    assert run.tracker is not None and run.tracker.stats.found >= 0.8 * run.tracker.stats.runs
    pressed = [o for o in run.observations if o.t >= run.events[0].t - 0.4 and o.t <= run.events[0].t]
    assert all(any(h.source == "mediapipe" and len(h.landmarks_mm) == 21 for h in o.hands) for o in pressed)


def test_hand_passing_over_does_not_press(station: S.SimStation) -> None:
    centre = station.button(Button.NEXT).center_mm
    run = S.run_motion(station, S.pass_over(centre))
    assert run.events == []
    # the fingertip did cross the button
    assert any(
        any(abs(h.tip_mm[0] - centre[0]) < 40 and abs(h.tip_mm[1] - centre[1]) < 40 for h in o.hands)
        for o in run.observations
    )


def test_hand_resting_across_does_not_press(station: S.SimStation) -> None:
    b = station.button(Button.NEXT)
    run = S.run_motion(station, S.rest_across(b.center_mm))
    assert run.events == []
    # the hand really covers the button: its outline holds the button centre in most resting frames
    import cv2
    import numpy as np

    late = run.observations[-30:]
    covered = sum(
        any(cv2.pointPolygonTest(np.asarray(p, np.float32), b.center_mm, False) >= 0 for p in o.hand_mask_mm)
        for o in late
    )
    assert covered >= 25
