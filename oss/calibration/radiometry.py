"""Radiometric calibration: what the camera sees of the empty bench under a black and a white projection.

The same procedure serves a real station (the projector shows black, then white, the camera captures)
and the virtual bench. Captures are averaged to beat sensor noise and stored rectified to bench
coordinates, so perception can predict the empty bench under any projected image.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from oss.calibration.model import Calibration, Radiometry
from oss.records import OssError

Capture = Callable[[np.ndarray], np.ndarray]  # projector image (BGR uint8) -> raw camera frame


def measure_radiometry(
    capture: Capture, calibration: Calibration, mm_per_px: float = 2.0, frames: int = 4
) -> Radiometry:
    """Project black then white, capture ``frames`` views of each, rectify and average them."""
    pw, ph = calibration.projector_size
    map1, map2 = calibration.rectify_maps(mm_per_px)
    views = []
    for level in (0, 255):
        pattern = np.full((ph, pw, 3), level, np.uint8)
        acc = None
        for _ in range(frames):
            raw = capture(pattern)
            if raw.shape[1::-1] != tuple(calibration.camera_size):
                raise OssError(
                    f"the camera delivers {raw.shape[1]}x{raw.shape[0]} but the calibration is for "
                    f"{calibration.camera_size[0]}x{calibration.camera_size[1]}; set the camera resolution or recalibrate"
                )
            bench = cv2.remap(raw, map1, map2, cv2.INTER_LINEAR).astype(np.float32)
            acc = bench if acc is None else acc + bench
        assert acc is not None
        views.append(acc / frames)
    black, white = views
    contrast = float(np.median(white - black))
    if contrast < 8.0:
        raise OssError(
            f"the projector adds almost no light on the bench (median white - black = {contrast:.1f} grey levels): "
            "is the projector on, aimed at the bench, and the camera exposure fixed and not saturated?"
        )
    return Radiometry(mm_per_px, black, white)
