"""Touch buttons on the virtual bench, through the sim's camera, perception and MediaPipe: a deliberate
press is detected once, a hand passing over and a hand resting across the button are not.

These runs use the synchronous tracker (MediaPipe inside each frame: the same every run); one press runs
with the asynchronous tracker the station uses, paced like a 30 fps camera."""

from __future__ import annotations

import threading

import pytest

from oss.perception.mediapipe_hands import TrackerConfig
from oss.records import Button
from tests.hands import simtouch as S

SYNC = TrackerConfig(asynchronous=False)


@pytest.fixture(scope="module")
def station() -> S.SimStation:
    return S.sim_station()


def test_deliberate_press_is_detected_once_after_the_dwell(station: S.SimStation) -> None:
    centre = station.button(Button.NEXT).center_mm
    run = S.run_motion(station, S.press(centre), tracker_config=SYNC)
    assert [(e.button, e.source) for e in run.events] == [(Button.NEXT, "touch")]
    latency = run.events[0].t - run.marks["arrive"]
    assert 0.3 <= latency <= 0.75  # the 0.4 s dwell, give or take the arrival's slowing down
    assert run.tracker is not None and run.tracker.stats.found >= 0.8 * run.tracker.stats.runs
    assert set(run.tracker.stats.latency_frames) == {0}  # synchronous: landmarks of the frame itself
    pressed = [o for o in run.observations if o.t >= run.events[0].t - 0.4 and o.t <= run.events[0].t]
    assert all(any(h.source == "mediapipe" and len(h.landmarks_mm) == 21 for h in o.hands) for o in pressed)


def test_press_with_the_asynchronous_tracker(station: S.SimStation) -> None:
    before = set(threading.enumerate())
    centre = station.button(Button.NEXT).center_mm
    run = S.run_motion(station, S.press(centre), tracker_config=TrackerConfig(), realtime=True)
    assert [(e.button, e.source) for e in run.events] == [(Button.NEXT, "touch")]
    assert 0.3 <= run.events[0].t - run.marks["arrive"] <= 0.75
    trk = run.tracker
    assert trk is not None and trk.asynchronous
    st = trk.stats
    assert st.used > 0 and min(st.latency_frames) >= 1  # results come from the thread, a frame or more late
    assert st.found >= 0.8 * st.runs and st.runs + st.dropped <= st.submitted
    pressed = [o for o in run.observations if o.t >= run.events[0].t - 0.4 and o.t <= run.events[0].t]
    assert all(any(h.source == "mediapipe" and len(h.landmarks_mm) == 21 for h in o.hands) for o in pressed)
    assert not trk.thread_alive and set(threading.enumerate()) - before == set()  # run_motion closed it


def test_hand_passing_over_does_not_press(station: S.SimStation) -> None:
    centre = station.button(Button.NEXT).center_mm
    run = S.run_motion(station, S.pass_over(centre), tracker_config=SYNC)
    assert run.events == []
    # the fingertip did cross the button
    assert any(
        any(abs(h.tip_mm[0] - centre[0]) < 40 and abs(h.tip_mm[1] - centre[1]) < 40 for h in o.hands)
        for o in run.observations
    )


def test_hand_resting_across_does_not_press(station: S.SimStation) -> None:
    b = station.button(Button.NEXT)
    run = S.run_motion(station, S.rest_across(b.center_mm), tracker_config=SYNC)
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
