"""The virtual bench as the station's camera, pedal and operator.

The station drives the simulator in lock-step: each ``read_latest`` renders the next simulated frame
lit by the projector image the station showed last, so the station's own output changes what it
sees; ``follow``/``show`` tell the scripted operator which step the projection shows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from oss.calibration.model import Calibration
from oss.calibration.radiometry import measure_radiometry
from oss.instructions.model import Instruction
from oss.records import CameraStatus, Frame, InputEvent
from oss.sim.bench import VirtualBench
from oss.sim.scenario import load_scenario


class SimCamera:
    def __init__(self, bench: VirtualBench, projector_image: Callable[[], np.ndarray | None]):
        self.bench = bench
        self._projector_image = projector_image

    @property
    def size(self) -> tuple[int, int]:
        return self.bench.camera_size

    @property
    def fps(self) -> float:
        return self.bench.fps

    def read_latest(self, timeout: float = 0.0) -> Frame | None:
        return self.bench.next_frame(self._projector_image())

    def status_events(self) -> list[CameraStatus]:
        return []

    @property
    def exhausted(self) -> bool:
        return self.bench.finished

    def poll_inputs(self) -> list[InputEvent]:
        return self.bench.inputs()

    def show(self, step_uid: str | None, cycle: int) -> None:
        self.bench.show_step(step_uid, cycle)


def open_sim(spec: str, instruction: Instruction, variant: str | None) -> VirtualBench:
    """``sim:NAME`` or ``sim:path/to/scenario.yaml`` → a virtual bench for ``instruction``."""
    scenario = load_scenario(spec.removeprefix("sim:"))
    if variant is not None and scenario.variant not in (None, variant):
        from dataclasses import replace

        scenario = replace(scenario, variant=variant)
    return VirtualBench(scenario, instruction)


def calibrate_sim(bench: VirtualBench, mm_per_px: float = 2.0) -> Calibration:
    """What 'oss calibrate' would give on this bench: its geometry, and radiometry measured through the
    simulated camera exactly as on a real station (project black, then white, capture, rectify)."""
    cal = bench.true_calibration()
    return cal.with_radiometry(measure_radiometry(bench.capture_still, cal, mm_per_px))
