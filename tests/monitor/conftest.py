"""Monitor tests: a small instruction and calibration with lens distortion, snapshots, the X display."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyglet
import pytest

from oss.calibration.model import Calibration
from oss.instructions import model as m
from oss.monitor import MonitorSnapshot, SupervisorConsole, SupervisorMonitor
from oss.records import Frame, LogEvent, Observation, Phase, StationState
from tests.render.conftest import make_calibration, make_instruction
from tests.xdisplay import SCREEN, x_display

pyglet.options["shadow_window"] = False

__all__ = ["SCREEN", "x_display"]

PIN = "2468"


class Clock:
    """A hand-moved monotonic clock (seconds)."""

    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


def distorted_calibration() -> Calibration:
    """The renderer tests' camera (1280×720) with a barrel-distorting lens."""
    cal = make_calibration()
    k = np.array([[900.0, 0, 640], [0, 900.0, 360], [0, 0, 1]])
    return replace(cal, camera_matrix=k, dist_coeffs=np.array([-0.25, 0.08, 0.0, 0.0, 0.0]))


def ev(kind: str, t: float, step: str = "", **data: object) -> LogEvent:
    return LogEvent(kind, t, f"2025-01-01T10:00:{int(t) % 60:02d}.000+00:00", step, 1, tuple(data.items()))  # type: ignore[arg-type]


def snapshot(
    t: float = 5.0,
    *,
    phase: Phase = Phase.RUNNING,
    step: int = 0,
    frame: np.ndarray | None = None,
    obs: Observation | None = None,
    error_bin: str = "",
    **kw: object,
) -> MonitorSnapshot:
    img = np.zeros((720, 1280, 3), np.uint8) if frame is None else frame
    st = StationState(phase, step, "place" if step == 0 else "", None, 0, error_bin=error_bin, t=t)
    base: dict[str, object] = {
        "operator": "anna",
        "signed_in": True,
        "level": "full",
        "level_mode": "auto",
        "shown": "full",
        "expected_bins": ("bin_a",),
    }
    base.update(kw)
    return MonitorSnapshot(t, st, Frame(img, t, int(t * 30)), obs, **base)  # type: ignore[arg-type]


@pytest.fixture()
def instruction() -> m.Instruction:
    return make_instruction()


@pytest.fixture()
def calibration() -> Calibration:
    return distorted_calibration()


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def monitor(instruction, calibration, clock) -> SupervisorMonitor:
    mon = SupervisorMonitor(SupervisorConsole(PIN, clock=clock), clock=clock)
    mon.attach(instruction, None, calibration, "st-7")
    return mon
