"""FileSource and FolderSource over real files written here, and open_source's parsing."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from oss.camera import CameraError, FileSource, FolderSource, OpenCVCameraSource, open_source
from oss.records import Frame


def write_video(path: Path, n: int, fourcc: str = "mp4v", fps: float = 25.0, size=(64, 48)) -> Path:
    w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, size)
    assert w.isOpened(), f"this OpenCV cannot write {fourcc}"
    for i in range(n):
        w.write(np.full((size[1], size[0], 3), (i * 8) % 256, np.uint8))
    w.release()
    return path


def read_all(src, timeout: float = 5.0) -> list[Frame]:
    frames = []
    deadline = time.monotonic() + timeout
    while not src.exhausted and time.monotonic() < deadline:
        f = src.read_latest(timeout=0.5)
        if f is not None:
            frames.append(f)
    assert src.exhausted, "the source never reported its end"
    return frames


@pytest.mark.parametrize(("suffix", "fourcc"), [(".mp4", "mp4v"), (".avi", "MJPG")])
def test_file_source_offline_delivers_every_frame_in_order(tmp_path: Path, suffix: str, fourcc: str) -> None:
    path = write_video(tmp_path / f"run{suffix}", 30, fourcc, fps=25.0)
    with FileSource(path) as src:
        assert (src.size, src.fps) == ((64, 48), 25.0)
        frames = read_all(src)
        assert src.read_latest() is None
    assert [f.index for f in frames] == list(range(30))
    assert np.allclose(np.diff([f.t for f in frames]), 1 / 25.0)
    means = [float(f.image.mean()) for f in frames]
    assert np.allclose(means, [i * 8 for i in range(30)], atol=4)  # lossy codecs: close, not equal
    assert all(f.image.shape == (48, 64, 3) and f.image.dtype == np.uint8 for f in frames)
    assert frames[0].source == f"video {path}"


def test_file_source_loops_until_closed(tmp_path: Path) -> None:
    path = write_video(tmp_path / "run.mp4", 10)
    with FileSource(path, loop=True, fps=1000.0) as src:
        frames = [f for _ in range(25) if (f := src.read_latest(timeout=2.0)) is not None]
        assert not src.exhausted
    assert [f.index for f in frames] == list(range(25))
    assert abs(frames[12].image.mean() - frames[2].image.mean()) < 4  # the 13th frame is the 3rd again
    assert not src.running


def test_realtime_file_source_keeps_only_the_newest_frame(tmp_path: Path) -> None:
    path = write_video(tmp_path / "run.mp4", 12)
    src = FileSource(path, realtime=True, fps=200.0)
    src.open()
    deadline = time.monotonic() + 5
    while src.running and time.monotonic() < deadline:  # nobody reads while it plays
        time.sleep(0.01)
    last = src.read_latest()
    assert last is not None and last.index == 11
    assert src.read_latest() is None and src.exhausted
    assert src.dropped == 11
    src.close()


def _image(path: Path, value: int, size=(40, 30)) -> None:
    assert cv2.imwrite(str(path), np.full((size[1], size[0], 3), value, np.uint8))


def test_folder_source_reads_in_name_order_and_skips_bad_images(tmp_path: Path) -> None:
    for name, value in [("img10.png", 10), ("img2.png", 2), ("img1.png", 1), ("img3.jpg", 3)]:
        _image(tmp_path / name, value)
    (tmp_path / "img4.png").write_bytes(b"not a png")
    _image(tmp_path / "img5.png", 5, size=(80, 60))
    (tmp_path / "notes.txt").write_text("ignored")
    with FolderSource(tmp_path, fps=4.0) as src:
        frames = read_all(src)
        statuses = src.status_events()
    assert [int(f.image.mean().round()) for f in frames] == [1, 2, 3, 10]
    assert np.array_equal(frames[0].image, np.full((30, 40, 3), 1, np.uint8))  # png: lossless
    assert np.allclose(np.diff([f.t for f in frames]), 0.25)
    assert [s.ok for s in statuses] == [True, True]
    assert "skipped img4.png" in statuses[0].message and "skipped img5.png: 80x60" in statuses[1].message


def _garbage_video(folder: Path) -> Path:
    (folder / "bad.mp4").write_bytes(b"\0" * 1000)
    return folder / "bad.mp4"


@pytest.mark.parametrize(
    ("make", "cls", "expected"),
    [
        (lambda p: p / "missing.mp4", FileSource, "video file .*missing.mp4 not found"),
        (_garbage_video, FileSource, "cannot read video .*bad.mp4: not a video"),
        (lambda p: p / "nodir", FolderSource, "image folder .*nodir not found"),
        (lambda p: p, FolderSource, "holds no images"),
    ],
)
def test_recordings_that_cannot_work_fail_at_open(tmp_path: Path, make, cls, expected: str) -> None:
    src = cls(make(tmp_path))
    with pytest.raises(CameraError, match=expected):
        src.open()
    assert not src.running


def test_reading_a_source_that_is_not_open_says_so(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="is not open"):
        FileSource(write_video(tmp_path / "a.mp4", 2)).read_latest()


def test_open_source_picks_the_source_for_each_spec(tmp_path: Path) -> None:
    video = write_video(tmp_path / "run.mp4", 2)
    cases = {
        "0": (OpenCVCameraSource, "camera 0"),
        "/dev/video2": (OpenCVCameraSource, "camera /dev/video2"),
        "rtsp://admin:secret@10.0.0.5:554/stream": (
            OpenCVCameraSource,
            "camera rtsp://admin:***@10.0.0.5:554/stream",
        ),
        str(video): (FileSource, f"video {video}"),
        f"file://{video}": (FileSource, f"video {video}"),
        str(tmp_path): (FolderSource, f"folder {tmp_path}"),
        "shots/": (FolderSource, "folder shots"),
    }
    for spec, (cls, name) in cases.items():
        src = open_source(spec)
        assert type(src) is cls and src.name == name, spec
    cam = open_source("1", size=(640, 480), fps=15, exposure=200, white_balance=4500)
    assert isinstance(cam, OpenCVCameraSource) and cam.target == 1
    assert (cam.requested_size, cam.requested_fps) == ((640, 480), 15)
    assert (cam.exposure, cam.white_balance) == (200, 4500)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("sim:led_fixture", "virtual bench: the station wires"),
        ("photo.png", "single image: put it in a folder"),
        ("nonsense", "not a frame source: 'nonsense'. Give a camera index"),
    ],
)
def test_open_source_rejects_what_it_cannot_open(spec: str, expected: str) -> None:
    with pytest.raises(CameraError, match=expected):
        open_source(spec)
