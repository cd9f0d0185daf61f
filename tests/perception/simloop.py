"""A minimal station loop on the virtual bench for perception tests and the benchmark.

Camera → Perception → StepEngine → Renderer → projector, as the station wires them, plus the
radiometric capture (bench under black and white) the station makes at calibration time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from oss.calibration.model import Calibration
from oss.engine.engine import StepEngine
from oss.perception.pipeline import Perception
from oss.perception.rectify import measure_radiometry
from oss.records import Frame, LogEvent, Observation, Phase
from oss.render.renderer import Renderer
from oss.sim.bench import VirtualBench
from oss.sim.scenario import Scenario, load_scenario


def station_calibration(vb: VirtualBench) -> Calibration:
    cal = vb.true_calibration()
    pw, ph = cal.projector_size
    black = vb.capture_still(np.zeros((ph, pw, 3), np.uint8))
    white = vb.capture_still(np.full((ph, pw, 3), 255, np.uint8))
    return cal.with_radiometry(measure_radiometry(cal, black, white, 4.0))


@dataclass
class Run:
    scenario: Scenario
    bench: VirtualBench
    perception: Perception
    engine: StepEngine
    observations: list[Observation] = field(default_factory=list)
    events: list[LogEvent] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)  # perception wall time per frame
    cpu_ms: list[float] = field(default_factory=list)  # perception CPU time of this thread per frame
    process_cpu_ms: list[float] = field(default_factory=list)  # ... of all the process's threads (the worker's too)
    step_starts: list[tuple[float, str, int]] = field(default_factory=list)  # t, uid, cycle
    last_frame: Frame | None = None
    last_projector: np.ndarray | None = None


def run_station(
    name: str,
    seconds: float | None = None,
    *,
    plain: bool = False,
    scenario: Scenario | None = None,
    on_frame: Callable[[Run, int], None] | None = None,
) -> Run:
    sc = scenario or load_scenario(name)
    ins = sc.load_instruction()
    vb = VirtualBench(sc, ins)
    cal = station_calibration(vb)
    per = Perception(ins, cal, sc.variant, plain=plain)
    eng = StepEngine(ins, sc.variant, max_cycles=sc.cycles)
    rend = Renderer(ins, cal, sc.variant)
    run = Run(sc, vb, per, eng)
    obs: Observation | None = None

    def handle(evs: list[LogEvent]) -> None:
        for ev in evs:
            run.events.append(ev)
            if ev.kind == "cycle_start":
                per.begin_unit()
            elif ev.kind == "step_start" and eng.current_step is not None:
                per.begin_run_step(eng.current_step)
                run.step_starts.append((ev.t, ev.step_uid, ev.cycle))

    handle(eng.start(0.0))
    limit = seconds if seconds is not None else sc.time_limit_s
    i = 0
    while not vb.finished and vb.t < limit:
        state = eng.state
        if state.phase is Phase.FINISHED:
            break
        vb.show_step(state.step_uid if state.phase is not Phase.DONE else None, state.cycle)
        pj = rend.render(state, obs)
        frame = vb.next_frame(pj)
        t0, c0, p0 = time.perf_counter(), time.thread_time(), time.process_time()
        obs = per.process(frame, pj)
        run.ms.append((time.perf_counter() - t0) * 1000.0)
        run.cpu_ms.append((time.thread_time() - c0) * 1000.0)
        run.process_cpu_ms.append((time.process_time() - p0) * 1000.0)
        run.observations.append(obs)
        run.last_frame, run.last_projector = frame, pj
        handle(eng.update(obs))
        for ev in vb.inputs():
            handle(eng.handle_input(ev))
        if on_frame is not None:
            on_frame(run, i)
        i += 1
    return run
