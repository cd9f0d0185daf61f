"""Live sources: a camera that is missing, lost and back; the reader thread stops on close."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from oss.camera import OpenCVCameraSource
from oss.camera.threaded import Grab, ThreadedSource
from oss.records import CameraStatus
from tests.camera.test_recorded import write_video


def wait_for(src, ok: Callable[[list[CameraStatus]], bool], timeout: float = 10.0) -> list[CameraStatus]:
    """Collect status events until ``ok(seen)`` holds (fails after ``timeout``)."""
    seen: list[CameraStatus] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen += src.status_events()
        if ok(seen):
            return seen
        src.read_latest(timeout=0.02)
    raise AssertionError(f"status never reached the expected state: {seen}")


def test_missing_camera_is_reported_once_and_retried_until_close() -> None:
    cam = OpenCVCameraSource(99, retry_s=0.05)
    with cam:
        seen = wait_for(cam, lambda s: len(s) >= 1)
        time.sleep(0.3)  # several more attempts, all failing the same way
        seen += cam.status_events()
        assert cam.running and cam.read_latest() is None
    assert not cam.running
    assert len(seen) == 1 and not seen[0].ok
    assert seen[0].message.startswith("camera 99 not found: is it plugged in")
    assert "v4l2-ctl --list-devices" in seen[0].message


def test_camera_that_appears_later_is_picked_up(tmp_path: Path) -> None:
    stream = tmp_path / "late.mp4"
    with OpenCVCameraSource(str(stream), size=(64, 48), retry_s=0.05) as cam:
        missing = wait_for(cam, lambda s: any(not x.ok and "cannot open" in x.message for x in s))
        write_video(tmp_path / "tmp.mp4", 200).rename(stream)
        seen = wait_for(cam, lambda s: any(x.ok and "is back" in x.message for x in s))
        frame = cam.read_latest(timeout=5.0)
        assert frame is not None and frame.image.shape == (48, 64, 3)
        assert cam.size == (64, 48)
    assert [x.ok for x in missing] == [False] and seen[0].ok and not cam.running


def test_camera_lost_then_back_and_the_frames_go_on(tmp_path: Path) -> None:
    stream = write_video(tmp_path / "cam.mp4", 120)
    aside = tmp_path / "unplugged.mp4"
    with OpenCVCameraSource(str(stream), size=(64, 48), retry_s=0.05) as cam:
        first = cam.read_latest(timeout=5.0)
        assert first is not None
        stream.rename(aside)  # the stream ends and cannot be reopened: the camera is gone
        lost = wait_for(cam, lambda s: any("cannot open" in x.message for x in s))
        assert not lost[0].ok and "stopped delivering frames" in lost[0].message
        before = cam.read_latest()
        aside.rename(stream)
        back = wait_for(cam, lambda s: any(x.ok for x in s))
        assert back[-1].message.startswith(f"camera {stream} is back after")
        later = cam.read_latest(timeout=5.0)
        assert later is not None and later.index > (before or first).index
        assert cam.running
    assert not cam.running


class GatedSource(ThreadedSource):
    """A live source whose frames arrive only while ``gate`` is set: a camera that hangs in its driver."""

    def __init__(self) -> None:
        super().__init__("gated", drop_stale=True, retry_s=0.05, lost_after_s=0.2)
        self.gate = threading.Event()
        self.gate.set()

    def _connect(self) -> None:
        pass

    def _grab(self) -> Grab:
        while not self.gate.wait(0.05):
            if self._stop.is_set():
                return None
        time.sleep(0.005)
        return np.zeros((4, 4, 3), np.uint8), time.monotonic()

    def _disconnect(self) -> None:
        pass


def test_a_hanging_camera_is_reported_lost_by_the_watchdog_and_back_when_frames_resume() -> None:
    with GatedSource() as src:
        assert src.read_latest(timeout=2.0) is not None
        src.gate.clear()
        lost = wait_for(src, lambda s: len(s) >= 1)
        assert not lost[0].ok and "gated delivered no frame for" in lost[0].message
        src.gate.set()
        back = wait_for(src, lambda s: len(s) >= 1)
        assert back[0].ok and "gated is back" in back[0].message
        assert src.read_latest(timeout=2.0) is not None
    assert not src.running
