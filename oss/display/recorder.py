"""``--record FILE``: a video of the projector image and the camera view side by side.

Both views are scaled to the same height; the camera view is letterboxed into a fixed-width panel, so
frames of any size (or a missing camera frame) keep the video's size constant.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from oss.records import OssError

CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".avi": "MJPG", ".mkv": "mp4v"}


def _fit(img: np.ndarray, w: int, h: int) -> np.ndarray:
    """``img`` scaled to fit a w×h black panel, centred."""
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    ih, iw = img.shape[:2]
    k = min(w / iw, h / ih)
    nw, nh = max(1, round(iw * k)), max(1, round(ih * k))
    out = np.zeros((h, w, 3), np.uint8)
    x0, y0 = (w - nw) // 2, (h - nh) // 2
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
    out[y0 : y0 + nh, x0 : x0 + nw] = cv2.resize(img, (nw, nh), interpolation=interp)
    return out


class VideoRecorder:
    """Writes ``projector | camera`` frames to ``path`` (mp4v in .mp4, MJPG in .avi) at ``fps``.

    ``height`` is the video's height (default: the first projector image's, at most 720);
    ``camera_aspect`` sets the camera panel's width until the first camera frame arrives.
    """

    def __init__(
        self,
        path: str | Path,
        fps: float = 15.0,
        *,
        height: int | None = None,
        camera_aspect: float = 16 / 9,
        labels: bool = True,
    ) -> None:
        self.path = Path(path)
        self.fps = float(fps)
        self.height = height
        self.camera_aspect = camera_aspect
        self.labels = labels
        self.frames_written = 0
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int, int] | None = None  # projector panel w, camera panel w, h
        if not self.path.parent.is_dir():
            raise OssError(
                f"{self.path}: folder {self.path.parent} does not exist. Create it or record elsewhere."
            )
        if self.path.suffix.lower() not in CODECS:
            raise OssError(f"{self.path}: unknown video type; use a .mp4 or .avi file name.")

    def _open(self, projector: np.ndarray, camera: np.ndarray | None) -> None:
        ph, pw = projector.shape[:2]
        h = self.height or min(ph, 720)
        h -= h % 2
        proj_w = round(pw * h / ph)
        aspect = camera.shape[1] / camera.shape[0] if camera is not None else self.camera_aspect
        cam_w = round(h * aspect)
        proj_w += proj_w % 2
        cam_w += cam_w % 2
        self._size = (proj_w, cam_w, h)
        fourcc = cv2.VideoWriter.fourcc(*CODECS[self.path.suffix.lower()])
        self._writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, (proj_w + cam_w, h))
        if not self._writer.isOpened():
            raise OssError(
                f"{self.path}: OpenCV cannot write this video (codec "
                f"{CODECS[self.path.suffix.lower()]}). Try an .avi file name."
            )

    def compose(self, projector: np.ndarray, camera: np.ndarray | None = None) -> np.ndarray:
        """The side-by-side frame that ``write`` would store."""
        if self._size is None:
            self._open(projector, camera)
        assert self._size is not None
        proj_w, cam_w, h = self._size
        left = _fit(projector, proj_w, h)
        right = _fit(camera, cam_w, h) if camera is not None else np.zeros((h, cam_w, 3), np.uint8)
        if self.labels:
            for img, text in ((left, "projector"), (right, "camera" if camera is not None else "no camera")):
                cv2.putText(
                    img, text, (8, h - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 200, 255), 1, cv2.LINE_AA
                )
        frame = np.hstack([left, right])
        cv2.line(frame, (proj_w, 0), (proj_w, h), (90, 90, 90), 1)
        return frame

    def write(self, projector: np.ndarray, camera: np.ndarray | None = None) -> None:
        frame = self.compose(projector, camera)
        assert self._writer is not None
        self._writer.write(frame)
        self.frames_written += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> VideoRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
