from __future__ import annotations

import cv2
import numpy as np
import pytest

from oss.display import VideoRecorder
from oss.records import OssError


def read_all(path):
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_recorder_writes_side_by_side_frames(tmp_path, suffix):
    path = tmp_path / f"run{suffix}"
    proj = np.zeros((800, 1280, 3), np.uint8)
    proj[:, :640] = (0, 200, 0)
    cam = np.full((720, 1280, 3), 255, np.uint8)
    with VideoRecorder(path, fps=10, height=360, labels=False) as rec:
        for i in range(12):
            rec.write(proj, cam if i % 3 else None)  # a missing camera frame keeps the size
    assert rec.frames_written == 12
    frames = read_all(path)
    assert len(frames) == 12
    h, w = frames[0].shape[:2]
    assert h == 360 and w == 576 + 640  # projector 1280x800 -> 576x360, camera 16:9 -> 640x360
    f = frames[1].astype(int)
    assert f[180, 100, 1] > 150 and f[180, 100, 2] < 60  # projector's green half on the left
    assert f[180, 400].max() < 40  # its dark half
    assert f[180, 900].min() > 200  # the camera view on the right
    assert frames[0][180, 900].max() < 40  # no camera frame: a dark panel


def test_recorder_refuses_a_missing_folder_or_unknown_type(tmp_path):
    with pytest.raises(OssError, match="does not exist"):
        VideoRecorder(tmp_path / "nope" / "a.mp4")
    with pytest.raises(OssError, match=r"\.mp4 or \.avi"):
        VideoRecorder(tmp_path / "a.gif")
