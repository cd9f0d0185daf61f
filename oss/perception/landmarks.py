"""The MediaPipe boundary: the hand landmarker model, and its results as plain OSS records.

The model is MediaPipe's own: the palm detector and the hand landmark model that ship inside the
installed ``mediapipe`` package (``modules/palm_detection/palm_detection_full.tflite`` and
``modules/hand_landmark/hand_landmark_full.tflite``), zipped in memory into the bundle the Tasks API
``HandLandmarker`` reads. Nothing is downloaded; a ``hand_landmarker.task`` file may be named instead.
No MediaPipe type leaves this module: results become ``HandLandmarks`` (image px).
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from oss.records import OssError, Point

# MediaPipe's 21 hand landmarks
WRIST = 0
THUMB_TIP = 4
INDEX_MCP, INDEX_PIP, INDEX_TIP = 5, 6, 8
MIDDLE_MCP, MIDDLE_TIP = 9, 12
RING_TIP, PINKY_MCP, PINKY_TIP = 16, 17, 20
FINGERTIPS = (THUMB_TIP, INDEX_TIP, MIDDLE_TIP, RING_TIP, PINKY_TIP)
PALM = (WRIST, 1, INDEX_MCP, MIDDLE_MCP, 13, PINKY_MCP)
HAND_CONNECTIONS = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11), (11, 12),
    (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (17, 18), (18, 19), (19, 20), (0, 17),
)  # fmt: skip

_BUNDLE_MEMBERS = {
    "hand_detector.tflite": "palm_detection/palm_detection_full.tflite",
    "hand_landmarks_detector.tflite": "hand_landmark/hand_landmark_full.tflite",
}


@dataclass(frozen=True)
class HandLandmarks:
    """One hand found in an image: 21 landmarks in that image's px (x right, y down)."""

    landmarks_px: tuple[Point, ...]
    handedness: str  # "Left" / "Right" as MediaPipe's Tasks API reports it for an unmirrored image
    score: float  # handedness confidence, 0..1

    def array(self) -> np.ndarray:
        return np.asarray(self.landmarks_px, np.float64).reshape(-1, 2)


@dataclass(frozen=True)
class LandmarkerOptions:
    """How the landmarker runs. ``task_file``: a ``hand_landmarker.task`` to use instead of the models
    in the mediapipe package."""

    task_file: str | None = None
    max_hands: int = 2
    min_detection: float = 0.5  # palm detector confidence
    min_presence: float = 0.5  # landmark model 'a hand is there' confidence
    min_tracking: float = 0.5  # video mode: below this the palm detector runs again


def _quiet_mediapipe() -> None:
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@lru_cache(maxsize=2)
def model_bundle(task_file: str | None = None) -> bytes:
    """The hand landmarker model as bytes: ``task_file`` if given, else assembled in memory from the
    models inside the installed mediapipe package."""
    if task_file is not None:
        path = Path(task_file)
        if not path.is_file():
            raise OssError(
                f"hand landmarker model {path} not found. Name an existing hand_landmarker.task file in the "
                "station configuration, or leave it out to use the model that comes with mediapipe."
            )
        return path.read_bytes()
    _quiet_mediapipe()
    try:
        import mediapipe
    except ImportError as e:  # pragma: no cover - mediapipe is a dependency
        raise OssError(
            "mediapipe is not installed: install OSS with its dependencies (pip install -e .)"
        ) from e
    root = Path(mediapipe.__file__).parent / "modules"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, rel in _BUNDLE_MEMBERS.items():
            src = root / rel
            if not src.is_file():
                raise OssError(
                    f"the mediapipe package at {root.parent} lacks {rel}; reinstall mediapipe==0.10.21 "
                    "or name a hand_landmarker.task file in the station configuration."
                )
            z.write(src, name)
    return buf.getvalue()


def create_landmarker(options: LandmarkerOptions, video: bool) -> Any:
    """A MediaPipe ``HandLandmarker`` (IMAGE or VIDEO running mode). Stays inside the adapters."""
    _quiet_mediapipe()
    from mediapipe.tasks.python import BaseOptions, vision

    mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
    opts = vision.HandLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=model_bundle(options.task_file)),
        running_mode=mode,
        num_hands=options.max_hands,
        min_hand_detection_confidence=options.min_detection,
        min_hand_presence_confidence=options.min_presence,
        min_tracking_confidence=options.min_tracking,
    )
    try:
        return vision.HandLandmarker.create_from_options(opts)
    except (RuntimeError, ValueError) as e:
        src = options.task_file or "the models in the mediapipe package"
        raise OssError(
            f"MediaPipe could not load the hand landmarker from {src} ({e}). "
            "Use a hand_landmarker.task from MediaPipe's model page or the package's own models."
        ) from e


def to_mp_image(bgr: np.ndarray) -> Any:
    import mediapipe as mp

    rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)


def from_mediapipe(result: Any, width: int, height: int) -> tuple[HandLandmarks, ...]:
    """A ``HandLandmarkerResult`` → hands in px of the ``width``×``height`` image it was computed on."""
    out = []
    for lms, hd in zip(result.hand_landmarks, result.handedness, strict=True):
        pts = tuple((float(p.x * width), float(p.y * height)) for p in lms)
        cat = hd[0] if hd else None
        out.append(
            HandLandmarks(pts, str(cat.category_name) if cat else "", float(cat.score) if cat else 0.0)
        )
    return tuple(out)


class StillImageHands:
    """MediaPipe's hand landmarker on still images (IMAGE mode): for ``oss hands`` and tests."""

    def __init__(self, options: LandmarkerOptions | None = None) -> None:
        self.options = options or LandmarkerOptions()
        self._lm = create_landmarker(self.options, video=False)

    def detect(self, bgr: np.ndarray) -> tuple[HandLandmarks, ...]:
        h, w = bgr.shape[:2]
        return from_mediapipe(self._lm.detect(to_mp_image(bgr)), w, h)

    def close(self) -> None:
        self._lm.close()

    def __enter__(self) -> StillImageHands:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def draw_landmarks(
    img: np.ndarray, hands: Sequence[HandLandmarks], color: tuple[int, int, int] = (0, 220, 0)
) -> None:
    """Draw the hands' skeletons into ``img`` (in place), for previews and reports."""
    for hand in hands:
        pts = np.round(hand.array() * 4).astype(np.int32)
        for a, b in HAND_CONNECTIONS:
            cv2.line(img, tuple(pts[a]), tuple(pts[b]), color, 1, cv2.LINE_AA, shift=2)
        for p in pts:
            cv2.circle(img, tuple(p), 8, (0, 0, 255), -1, cv2.LINE_AA, shift=2)
