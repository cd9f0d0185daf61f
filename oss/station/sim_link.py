"""The virtual bench as the station's camera, pedal and operator.

The station drives the simulator in lock-step: each ``read_latest`` renders the next simulated frame
lit by the projector image the station showed last, so the station's own output changes what it
sees; ``follow``/``show`` tell the scripted operator which step the projection shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from oss.calibration.model import Calibration
from oss.calibration.radiometry import measure_radiometry
from oss.display.base import Display, NullDisplay
from oss.instructions.model import Instruction
from oss.log.store import EventStore
from oss.records import CameraStatus, Frame, InputEvent
from oss.sim.bench import VirtualBench
from oss.sim.scenario import Scenario
from oss.station.loop import Station, StationParts


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


def calibrate_sim(bench: VirtualBench, mm_per_px: float = 2.0) -> Calibration:
    """What 'oss calibrate' would give on this bench: its geometry, and radiometry measured through the
    simulated camera exactly as on a real station (project black, then white, capture, rectify)."""
    cal = bench.true_calibration()
    return cal.with_radiometry(measure_radiometry(bench.capture_still, cal, mm_per_px))


def sim_station(
    scenario: Scenario,
    instruction: Instruction,
    store: EventStore,
    *,
    variant: str | None = None,
    max_cycles: int | None = None,
    display: Display | None = None,
    **parts: Any,
) -> tuple[Station, VirtualBench]:
    """A station whose camera, pedal and operator are the virtual bench of ``scenario``.

    ``max_cycles`` also shortens the scenario to that many units (without the deviations of the units
    left out); ``parts`` are further :class:`StationParts` fields (recorder, operator, language,
    inputs, followers, ...).
    """
    if max_cycles is not None:  # the deviations of the units left out go with them
        cycles = min(scenario.cycles, max_cycles)
        kept = tuple(d for d in scenario.deviations if d.cycle < cycles)
        scenario = replace(scenario, cycles=cycles, deviations=kept)
    variant = variant or scenario.variant or instruction.default_variant()
    if variant != scenario.variant:
        scenario = replace(scenario, variant=variant)
    bench = VirtualBench(scenario, instruction)
    holder: list[Station] = []
    camera = SimCamera(bench, lambda: holder[0].projector_image if holder else None)
    station = Station(
        StationParts(
            instruction=instruction,
            variant=variant,
            calibration=calibrate_sim(bench),
            camera=camera,
            display=display if display is not None else NullDisplay(),
            store=store,
            max_cycles=max_cycles,
            inputs=(camera, *parts.pop("inputs", ())),
            sim_time=True,
            on_step=camera.show,
            station_id=parts.pop("station_id", f"sim-{scenario.name}"),
            **parts,
        )
    )
    holder.append(station)
    return station, bench
