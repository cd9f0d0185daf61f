"""The asynchronous MediaPipe tracker: its worker thread never queues (a request it has not started is
dropped for the newer one), the newest landmarks are fused moved by how far the foreground tip moved since
their crop's frame, VIDEO-mode timestamps stay increasing, and ``close`` stops the thread.

MediaPipe is replaced by a fake landmarker whose runs are held on a gate, so the order of events is set by
the test, not by timing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest

import oss.perception.mediapipe_hands as mph
from oss.calibration.model import Calibration
from oss.perception.foreground import BenchView
from oss.perception.hands import ArmSegmentation, ForegroundHandDetector
from oss.perception.latest_worker import LatestWorker
from oss.records import Hand

MM_PER_PX = 2.0
BENCH = (1200.0, 800.0)
CAL = Calibration((1280, 800), (1280, 800), BENCH, np.eye(3), np.eye(3), source="test")  # camera px = mm
GATE_S = 10.0  # a safety limit only: every wait below is released by the test itself


# --- the worker on its own -----------------------------------------------------------------------------


class Gated:
    """A worker function that records its items and waits for the test to let each run finish."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)
        self.seen: list[int] = []

    def __call__(self, item: int) -> int:
        self.seen.append(item)
        self.started.release()
        assert self.gate.wait(GATE_S)
        return item * 10


def test_worker_drops_requests_it_has_not_started_and_runs_the_newest() -> None:
    fn = Gated()
    w: LatestWorker[int, int] = LatestWorker(fn)
    try:
        assert w.submit(1) is None
        assert fn.started.acquire(timeout=GATE_S)  # 1 is running, held at the gate
        assert w.submit(2) is None  # waits
        assert w.submit(3) == 2  # 2 never started: dropped
        assert w.submit(4) == 3
        assert not w.idle
        fn.gate.set()
        assert w.wait_idle(GATE_S)
        assert fn.seen == [1, 4]
        assert w.take() == [10, 40]
        assert w.take() == []
        assert (w.submitted, w.dropped) == (4, 2)
    finally:
        fn.gate.set()
        w.close()


def test_worker_close_finishes_the_running_item_drops_the_waiting_one_and_stops() -> None:
    fn = Gated()
    w: LatestWorker[int, int] = LatestWorker(fn, name="test-worker")
    w.submit(1)
    assert fn.started.acquire(timeout=GATE_S)
    w.submit(2)
    closer = threading.Thread(target=w.close)
    closer.start()
    for _ in range(10_000):  # close takes the waiting item away before the running one may finish
        if w.dropped == 1:
            break
        threading.Event().wait(0.001)
    assert w.dropped == 1
    fn.gate.set()
    closer.join(GATE_S)
    assert not closer.is_alive() and not w.alive
    assert fn.seen == [1]
    assert w.take() == [10]
    assert "test-worker" not in [t.name for t in threading.enumerate()]
    with pytest.raises(RuntimeError, match="closed"):
        w.submit(3)


def test_worker_error_is_raised_by_take_in_the_callers_thread() -> None:
    def fail(item: int) -> int:
        raise ValueError(f"bad item {item}")

    w: LatestWorker[int, int] = LatestWorker(fail)
    try:
        w.submit(7)
        assert w.wait_idle(GATE_S)
        with pytest.raises(RuntimeError, match="failed") as err:
            w.take()
        assert isinstance(err.value.__cause__, ValueError)
        assert w.take() == []  # raised once
    finally:
        w.close()


# --- the tracker with a fake landmarker ----------------------------------------------------------------


class FakeLandmarker:
    """Stands in for MediaPipe's HandLandmarker: one hand whose crop position depends on the timestamp
    (so each run's landmarks can be told apart), optionally held at a gate."""

    def __init__(self, gated: bool) -> None:
        self.at = (0.5, 0.7)  # where the hand's wrist lies in the crop (0..1)
        self.gate = threading.Event()
        if not gated:
            self.gate.set()
        self.started = threading.Semaphore(0)
        self.timestamps: list[int] = []
        self.closed = False

    def detect_for_video(self, image: Any, ts: int) -> SimpleNamespace:
        self.timestamps.append(ts)
        self.started.release()
        assert self.gate.wait(GATE_S)
        shift = (ts % 97) / 2000.0
        x0, y0 = self.at
        pts = [SimpleNamespace(x=x0 + 0.01 * (i % 5) + shift, y=y0 - 0.02 * i + shift / 2) for i in range(21)]
        return SimpleNamespace(
            hand_landmarks=[pts], handedness=[[SimpleNamespace(category_name="Right", score=0.9)]]
        )

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakeLandmarker]]:
    """Every landmarker a tracker creates is a fake, appended here."""
    made: list[FakeLandmarker] = []

    def create(options: Any, video: bool) -> FakeLandmarker:
        assert video
        made.append(FakeLandmarker(gated=False))
        return made[-1]

    monkeypatch.setattr(mph, "create_landmarker", create)
    monkeypatch.setattr(mph, "to_mp_image", lambda crop: crop)
    yield made
    for f in made:
        f.gate.set()


def tracker(fakes: list[FakeLandmarker], asynchronous: bool, gated: bool) -> mph.MediaPipeHandTracker:
    """A one-slot tracker on a fake landmarker (the last of ``fakes``); ``gated``: its runs wait for
    ``gate.set()``."""
    cfg = mph.TrackerConfig(asynchronous=asynchronous, max_hands=1)
    trk = mph.MediaPipeHandTracker(CAL, cfg, foreground=ForegroundHandDetector())
    if gated:
        fakes[-1].gate.clear()
    trk.set_focus((((600.0, 300.0), 40.0),))  # every tip below is near it: a crop every frame
    return trk


def no_hands(trk: mph.MediaPipeHandTracker, t: float) -> tuple[Hand, ...]:
    """A frame without arms."""
    h, w = round(BENCH[1] / MM_PER_PX), round(BENCH[0] / MM_PER_PX)
    mask = np.zeros((h, w), np.uint8)
    assert trk.foreground is not None
    trk.foreground.last = ArmSegmentation((), mask, (), 0.0, False)
    view = BenchView(np.zeros((h, w, 3), np.uint8), np.ones((h, w), np.float32), MM_PER_PX, t, CAMERA)
    return trk.detect(view, mask, t)


CAMERA = np.random.default_rng(3).integers(0, 255, (800, 1280, 3), np.uint8)


def frame(trk: mph.MediaPipeHandTracker, tip: tuple[float, float], t: float) -> tuple[Hand, ...]:
    """One frame with one arm from the operator's edge to ``tip``."""
    h, w = round(BENCH[1] / MM_PER_PX), round(BENCH[0] / MM_PER_PX)
    mask = np.zeros((h, w), np.uint8)
    a = (round(tip[0] / MM_PER_PX), 0)
    b = (round(tip[0] / MM_PER_PX), round(tip[1] / MM_PER_PX))
    cv2.line(mask, a, b, (255,), 20)
    assert trk.foreground is not None
    trk.foreground.last = ArmSegmentation((Hand(tip_mm=tip),), mask, (), 0.0, False)
    bench = cv2.resize(CAMERA, (w, h))
    view = BenchView(bench, np.ones((h, w), np.float32), MM_PER_PX, t, CAMERA)
    return trk.detect(view, mask, t)


TIPS = [(600.0, 300.0), (606.0, 310.0), (612.0, 322.0), (620.0, 330.0), (631.0, 341.0)]


def carried(
    moved: tuple[float, float], deadband: float = mph.TrackerConfig().carry_deadband_mm
) -> np.ndarray:
    """How far landmarks move when the foreground tip moved by ``moved`` since their crop's frame."""
    d = np.asarray(moved, np.float64)
    n = float(np.hypot(*d))
    return d * (1 - deadband / n) if n > deadband else np.zeros(2)


def test_async_tracker_drops_stale_crops_and_fuses_the_newest_moved_with_the_tip(
    fakes: list[FakeLandmarker],
) -> None:
    # what each frame's crop gives, run synchronously (landmarks of that frame, not moved)
    sync = tracker(fakes, asynchronous=False, gated=False)
    expected = [frame(sync, tip, i / 30) for i, tip in enumerate(TIPS[:4])]
    sync.close()
    assert all(len(h) == 1 and len(h[0].landmarks_mm) == 21 for h in expected)
    fake_sync = fakes[0]

    trk = tracker(fakes, asynchronous=True, gated=True)
    fake = fakes[1]
    try:
        assert trk.asynchronous and trk.thread_alive
        assert frame(trk, TIPS[0], 0 / 30) == ()  # frame 1's crop runs, held at the gate
        assert fake.started.acquire(timeout=GATE_S)
        for i in (1, 2, 3):  # frames 2..4: each crop replaces the one waiting
            assert frame(trk, TIPS[i], i / 30) == ()
        assert trk.stats.submitted == 4 and trk.stats.dropped == 2
        fake.gate.set()
        assert trk.wait_idle(GATE_S)
        # frame 1's and frame 4's crops ran, with the timestamps given to them, in order
        assert fake.timestamps == [fake_sync.timestamps[0], fake_sync.timestamps[3]]
        assert fake.timestamps == sorted(set(fake.timestamps))
        fake.gate.clear()  # from here on, crops wait at the gate
        hands = frame(trk, TIPS[4], 4 / 30)  # frame 5 takes both results, uses frame 4's
        assert trk.stats.runs == 2 and trk.stats.used == 1 and trk.stats.stale == 1
        assert trk.stats.latency_frames == [1]
        assert len(hands) == 1 and hands[0].source == "mediapipe"
        seen = np.asarray(expected[3][0].landmarks_mm)  # frame 4's landmarks, where MediaPipe saw them
        want = seen + carried(np.subtract(TIPS[4], TIPS[3]))
        assert float(np.hypot(*carried(np.subtract(TIPS[4], TIPS[3])))) > 5.0  # really moved
        np.testing.assert_allclose(np.asarray(hands[0].landmarks_mm), want, atol=1e-6)
        other = np.asarray(expected[0][0].landmarks_mm) + carried(np.subtract(TIPS[4], TIPS[0]))
        assert not np.allclose(other, want)
        assert hands[0].handedness in ("Left", "Right")
        # no new result (frame 5's crop waits at the gate): the same landmarks move on with the tip
        hands6 = frame(trk, (640.0, 350.0), 5 / 30)
        np.testing.assert_allclose(
            np.asarray(hands6[0].landmarks_mm),
            seen + carried(np.subtract((640.0, 350.0), TIPS[3])),
            atol=1e-6,
        )
        fake.gate.set()
    finally:
        trk.close()


def test_result_for_a_hand_that_left_is_not_given_to_the_next_one(fakes: list[FakeLandmarker]) -> None:
    trk = tracker(fakes, asynchronous=True, gated=True)
    fake = fakes[0]
    try:
        frame(trk, (600.0, 300.0), 0.0)
        assert fake.started.acquire(timeout=GATE_S)
        assert no_hands(trk, 1 / 30) == ()  # the hand left
        fake.gate.set()
        assert trk.wait_idle(GATE_S)
        fake.gate.clear()
        hands = frame(trk, (900.0, 300.0), 2 / 30)  # another hand, far away, in the same slot
        assert hands == () and trk.stats.stale == 1 and trk.stats.used == 0
        fake.gate.set()
    finally:
        trk.close()


def test_close_stops_the_tracker_thread(fakes: list[FakeLandmarker]) -> None:
    before = set(threading.enumerate())
    trk = tracker(fakes, asynchronous=True, gated=False)
    assert trk.thread_alive
    assert any(t.name == "mediapipe-hands" for t in set(threading.enumerate()) - before)
    frame(trk, (600.0, 300.0), 0.0)
    trk.close()
    assert not trk.thread_alive
    assert set(threading.enumerate()) - before == set()
    assert all(f.closed for f in fakes)
    trk.close()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        frame(trk, (600.0, 300.0), 1 / 30)


def test_synchronous_tracker_has_no_thread(fakes: list[FakeLandmarker]) -> None:
    before = set(threading.enumerate())
    trk = tracker(fakes, asynchronous=False, gated=False)
    hands = frame(trk, (600.0, 300.0), 0.0)
    assert set(threading.enumerate()) == before and not trk.thread_alive
    assert len(hands) == 1 and trk.stats.latency_frames == [0]
    trk.close()


def test_landmarks_far_from_the_foreground_tip_are_not_given(fakes: list[FakeLandmarker]) -> None:
    trk = tracker(fakes, asynchronous=False, gated=False)
    fake = fakes[-1]
    tip = (600.0, 300.0)
    hands = frame(trk, tip, 0.0)
    assert len(hands) == 1
    lm = np.asarray(hands[0].landmarks_mm)
    fingertips = lm[list(mph.FINGERTIPS)]
    nearest = fingertips[int(np.argmin(np.hypot(*(fingertips - tip).T)))]
    assert hands[0].tip_mm == pytest.approx(tuple(nearest))
    assert float(np.hypot(*(nearest - tip))) <= trk.cfg.max_tip_gap_mm
    fake.at = (0.1, 0.95)  # MediaPipe puts the hand in the crop's corner: ~250 mm from the tip
    assert frame(trk, tip, 1 / 30) == ()
    assert trk.stats.unfit == 1 and trk.stats.used == 2
    trk.close()


def test_a_flickering_tip_does_not_move_carried_landmarks(fakes: list[FakeLandmarker]) -> None:
    """A resting fingertip's foreground tip flickers by a pixel or two: landmarks carried from an earlier
    frame stay where they were (a touch dwell is not restarted), a real move carries them along."""
    trk = tracker(fakes, asynchronous=False, gated=False)
    trk.set_focus(())  # away from focus areas: a crop every idle_every-th frame, carried between
    first = np.asarray(frame(trk, (600.0, 300.0), 0.0)[0].landmarks_mm)
    for i, tip in enumerate([(602.0, 304.0), (598.0, 297.0), (603.0, 301.0)], 1):  # flicker, < 8 mm
        np.testing.assert_allclose(np.asarray(frame(trk, tip, i / 30)[0].landmarks_mm), first, atol=1e-9)
    moved = np.asarray(frame(trk, (600.0, 330.0), 4 / 30)[0].landmarks_mm)  # 30 mm
    np.testing.assert_allclose(moved - first, np.broadcast_to(carried((0.0, 30.0)), first.shape), atol=1e-9)
    assert trk.stats.runs == 1 and trk.stats.carried == 4
    trk.close()
