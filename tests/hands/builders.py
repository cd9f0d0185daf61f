"""Builders for touch tests: hands with MediaPipe-like landmarks in bench mm, in a few poses.

Landmarks are laid out for a right hand seen from above, palm down: local (v, u) mm with u along the
hand from the wrist and v to the hand's right (the thumb on the left, negative v).
"""

from __future__ import annotations

import math

import numpy as np

from oss.records import Hand, Point

_FLAT = [
    (0, 0),
    (-20, 15), (-35, 35), (-45, 55), (-52, 72),
    (-22, 90), (-24, 125), (-25, 148), (-26, 170),
    (-3, 92), (-3, 130), (-3, 155), (-3, 180),
    (15, 88), (17, 120), (18, 142), (19, 162),
    (30, 80), (34, 105), (36, 120), (38, 135),
]  # fmt: skip
_CURLED = {  # landmark -> (v, u) when that finger is curled (tip back under the knuckle)
    6: (-24, 112), 7: (-25, 100), 8: (-26, 88),
    10: (-3, 115), 11: (-3, 102), 12: (-3, 90),
    14: (17, 108), 15: (18, 97), 16: (19, 86),
    18: (34, 96), 19: (36, 88), 20: (38, 78),
    3: (-35, 50), 4: (-20, 60),
}  # fmt: skip


def local_landmarks(pose: str) -> np.ndarray:
    """21×2 (v, u) for ``flat`` (all fingers out), ``point`` (index out, the rest curled), ``fist``."""
    pts = [list(p) for p in _FLAT]
    curled = {"flat": (), "point": (3, 4, 10, 11, 12, 14, 15, 16, 18, 19, 20), "fist": tuple(_CURLED)}[pose]
    for i in curled:
        pts[i] = list(_CURLED[i])
    return np.asarray(pts, np.float64)


def hand(
    at: Point,
    *,
    landmark: int = 8,
    pose: str = "point",
    direction_deg: float = 90.0,
    handedness: str = "Right",
    palm_up: bool = False,
    with_landmarks: bool = True,
) -> Hand:
    """A hand whose ``landmark`` lies at ``at`` (bench mm), pointing ``direction_deg`` (90: away from the
    operator). ``palm_up`` mirrors the layout (what a hand turned over looks like from above)."""
    loc = local_landmarks(pose)
    if (handedness == "Left") != palm_up:
        loc[:, 0] = -loc[:, 0]
    a = math.radians(direction_deg)
    d = np.array([math.cos(a), math.sin(a)])
    right = np.array([d[1], -d[0]])
    rel = loc[:, 1:2] * d + loc[:, 0:1] * right
    lm = rel - rel[landmark] + np.asarray(at, np.float64)
    tips = lm[[4, 8, 12, 16, 20]]
    far = tips[int(np.argmax(tips @ d))]
    if not with_landmarks:
        return Hand(tip_mm=(float(far[0]), float(far[1])), source="foreground")
    return Hand(
        tip_mm=(float(far[0]), float(far[1])),
        handedness=handedness,
        score=0.95,
        landmarks_mm=tuple((float(x), float(y)) for x, y in lm),
        source="mediapipe",
    )


def foreground_hand(tip: Point) -> Hand:
    return Hand(tip_mm=(float(tip[0]), float(tip[1])), source="foreground")
