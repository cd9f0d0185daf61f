"""A plain projector image for a step: the sim's own stand-in for the station's renderer.

Used by the simulator's benchmark, tests and documentation images so that they do not depend on the
station; it outlines the step's bins and zones in the true projector geometry.
"""

from __future__ import annotations

import cv2
import numpy as np

from oss.instructions.model import Instruction, RunStep, iter_conditions
from oss.sim.scene import Pose, zone_polygon


def step_projection(
    instruction: Instruction,
    run: RunStep,
    proj_from_bench: np.ndarray,
    size: tuple[int, int],
    poses: dict[str, Pose],
) -> np.ndarray:
    """Green filled bins to pick from, white outlines of the step's zones, a text panel at the front."""
    img = np.zeros((size[1], size[0], 3), np.uint8)
    zones = [getattr(c, "zone", None) for c in iter_conditions(run.done)]
    bins = run.picked_bins()

    def px(pts: np.ndarray) -> np.ndarray:
        p = cv2.perspectiveTransform(np.asarray(pts, np.float64).reshape(-1, 1, 2), proj_from_bench)
        return np.round(p.reshape(-1, 2) * 8).astype(np.int32)

    for b in bins:
        poly = px(zone_polygon(instruction.zones[b], poses))
        cv2.fillPoly(img, [poly], (0, 110, 0), cv2.LINE_AA, shift=3)
        cv2.polylines(img, [poly], True, (0, 230, 0), 6, cv2.LINE_AA, shift=3)
    for z in zones:
        if z and z in instruction.zones:
            cv2.polylines(
                img,
                [px(zone_polygon(instruction.zones[z], poses))],
                True,
                (255, 255, 255),
                5,
                cv2.LINE_AA,
                shift=3,
            )
    w = instruction.bench.width_mm
    panel = px(np.array([[w * 0.3, 20], [w * 0.7, 20], [w * 0.7, 120], [w * 0.3, 120]]))
    cv2.fillPoly(img, [panel], (60, 60, 60), cv2.LINE_AA, shift=3)
    lo, hi = panel.min(axis=0) / 8, panel.max(axis=0) / 8
    org = (int(lo[0] + 20), int((lo[1] + hi[1]) / 2 + 10))
    cv2.putText(
        img,
        f"{run.index + 1}/{run.total}  {run.step.text.get('en')}",
        org,
        cv2.FONT_HERSHEY_SIMPLEX,
        1.0,
        (220, 220, 220),
        2,
        cv2.LINE_AA,
    )
    return img
