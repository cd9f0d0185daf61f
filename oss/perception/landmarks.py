"""The MediaPipe boundary: the hand landmarker model, and its results as plain OSS records.

The model is MediaPipe's own: the palm detector and the hand landmark model that mediapipe 0.10.21
shipped inside its package (``palm_detection_full.tflite`` and ``hand_landmark_full.tflite``), zipped
once into the bundle the Tasks API ``HandLandmarker`` reads and shipped with OSS as package data
(``oss/perception/models/hand_landmarker.task``, Apache-2.0, built by ``tools/build_hand_model.py``).
Later mediapipe releases no longer carry models, so any current mediapipe runs it. Nothing is
downloaded; a ``hand_landmarker.task`` file may be named instead.
No MediaPipe type leaves this module: results become ``HandLandmarks`` (image px).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
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

BUNDLED_MODEL = "models/hand_landmarker.task"  # inside the oss.perception package


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
    """How the landmarker runs. ``task_file``: a ``hand_landmarker.task`` to use instead of the one
    shipped with OSS."""

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
    """The hand landmarker model as bytes: ``task_file`` if given, else the bundle shipped with OSS."""
    if task_file is not None:
        path = Path(task_file)
        if not path.is_file():
            raise OssError(
                f"hand landmarker model {path} not found. Name an existing hand_landmarker.task file in the "
                "station configuration, or leave it out to use the model that comes with OSS."
            )
        return path.read_bytes()
    bundled = resources.files("oss.perception").joinpath(BUNDLED_MODEL)
    if not bundled.is_file():
        raise OssError(
            f"the OSS package lacks its hand model {BUNDLED_MODEL} (a broken install): reinstall OSS, "
            "or name a hand_landmarker.task file in the station configuration."
        )
    return bundled.read_bytes()


def create_landmarker(options: LandmarkerOptions, video: bool) -> Any:
    """A MediaPipe ``HandLandmarker`` (IMAGE or VIDEO running mode). Stays inside the adapters."""
    _quiet_mediapipe()
    try:
        from mediapipe.tasks.python import BaseOptions, vision
    except ImportError as e:  # pragma: no cover - mediapipe is a dependency
        raise OssError(
            f"mediapipe is not installed or broken ({e}): install OSS with its dependencies (pip install .)"
        ) from e

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
        src = options.task_file or f"the hand model shipped with OSS ({BUNDLED_MODEL})"
        raise OssError(
            f"MediaPipe could not load the hand landmarker from {src} ({e}). "
            "Use a hand_landmarker.task from MediaPipe's model page, or leave it out for the one shipped with OSS."
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
