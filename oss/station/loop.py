"""The station loop: the one place that wires the stages together, in order.

Per tick::

    inputs (keyboard, devices, the simulated pedal) ─▶ engine.handle_input
    camera frame ─▶ perception.process ─▶ engine.update        (or engine.tick without a new frame)
    log events ─▶ EventStore (synced to disk)                  ← before anything shows their consequence
    step changes ─▶ perception.begin_unit / begin_run_step, simulated operator reads the projection
    engine.state ─▶ renderer.render ─▶ display.show, recorder.write, devices.follow

The camera runs on its own thread (``FrameSource.read_latest`` never blocks longer than asked); a
tick without a new frame still serves inputs and timers. The virtual bench is driven in lock-step
(one simulated frame per tick, with the projector image of the previous tick as its light).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from oss.calibration.model import Calibration
from oss.display.base import Display, QuitRequest
from oss.display.recorder import VideoRecorder
from oss.engine.config import EngineConfig
from oss.engine.engine import StepEngine
from oss.instructions.model import Instruction
from oss.log.store import EventStore, LogStorageError, utc_now
from oss.perception.pipeline import Perception
from oss.records import CameraStatus, Frame, InputEvent, LogEvent, Observation, Phase, StationState
from oss.render.renderer import Renderer

log = logging.getLogger("oss.station")


class Camera(Protocol):
    """What the loop needs of a frame source (``oss.camera.FrameSource`` or the simulator link)."""

    def read_latest(self, timeout: float = 0.0) -> Frame | None: ...

    def status_events(self) -> list[CameraStatus]: ...

    @property
    def exhausted(self) -> bool: ...


class InputSource(Protocol):
    def poll_inputs(self) -> list[InputEvent]: ...


class StatusReport(Protocol):
    @property
    def ok(self) -> bool: ...

    @property
    def message(self) -> str: ...

    def log_data(self) -> dict[str, str | int | float | bool | None]: ...


class StatusSource(Protocol):
    """Devices that report being lost and back (serial devices)."""

    def status_events(self) -> Sequence[StatusReport]: ...


class Follower(Protocol):
    """Something that mirrors the station state (stack light, pick-to-light, the simulated operator)."""

    def follow(self, state: StationState, bins_to_light: Sequence[str], error_bin: str) -> None: ...


@dataclass
class RunResult:
    frames: int = 0
    frame_ms: list[float] = field(default_factory=list)  # perception + engine + render, per camera frame
    events: list[LogEvent] = field(default_factory=list)
    session_id: str = ""
    cycles_completed: int = 0
    stopped_by: str = ""
    wall_s: float = 0.0


@dataclass
class StationParts:
    instruction: Instruction
    variant: str | None
    calibration: Calibration
    camera: Camera
    display: Display
    store: EventStore
    operator: str = ""
    station_id: str = "station-1"
    language: str | None = None
    max_cycles: int | None = None
    recorder: VideoRecorder | None = None
    inputs: Sequence[InputSource] = ()
    followers: Sequence[Follower] = ()
    status_sources: Sequence[StatusSource] = ()
    engine_config: EngineConfig | None = None
    mm_per_px: float = 2.0
    plain_perception: bool = False  # the reference 'plain approach' (no caching), for benchmarks
    clock: Callable[[], float] = time.monotonic
    sim_time: bool = False  # times come from the frames (virtual bench), not from the clock
    realtime_fps: float | None = None  # pace the loop (a demo in a window)
    on_step: Callable[[str | None, int], None] | None = None  # tells the simulated operator what is shown


class Station:
    def __init__(self, parts: StationParts):
        self.p = parts
        self.engine = StepEngine(
            parts.instruction,
            parts.variant,
            station_id=parts.station_id,
            operator=parts.operator,
            debounce=parts.engine_config,
            language=parts.language,
            max_cycles=parts.max_cycles,
        )
        self.perception = Perception(
            parts.instruction, parts.calibration, parts.variant, mm_per_px=parts.mm_per_px
        )
        self.renderer = Renderer(
            parts.instruction, parts.calibration, parts.variant, language=parts.language or "en"
        )
        self.session_id = parts.store.open_session(parts.operator, parts.instruction, parts.variant)
        self.result = RunResult(session_id=self.session_id)
        self._shown: np.ndarray | None = None
        self._now = 0.0
        self._message = ""
        self._device_message = ""
        self._obs: Observation | None = None
        self._log_failed = False

    # --- logging --------------------------------------------------------------------------------
    def _log(self, events: list[LogEvent]) -> None:
        if not events:
            return
        self.result.events.extend(events)
        try:
            self.p.store.append_many(self.session_id, events)
            if self._log_failed:
                self._log_failed = False
                self._message = ""
        except LogStorageError as e:  # kept in memory by the store and retried with the next append
            self._log_failed = True
            self._message = "LOG FULL: call the supervisor"
            log.error("%s", e)

    def _note(self, kind: str, **data: str | int | float | bool | None) -> None:
        st = self.engine.state
        self._log([LogEvent(kind, self._now, utc_now(), st.step_uid, st.cycle, tuple(sorted(data.items())))])

    # --- the loop -------------------------------------------------------------------------------
    def start(self, resume: tuple[int, int] | None = None) -> None:
        t = self._time(None)
        events = self.engine.start(t) if resume is None else self.engine.resume(resume[0], resume[1], t)
        self._after_events(events)
        self._log(events)

    def _time(self, frame: Frame | None) -> float:
        if self.p.sim_time:
            if frame is not None:
                self._now = frame.t
        else:
            self._now = self.p.clock()
        return self._now

    def _after_events(self, events: list[LogEvent]) -> None:
        """Hooks on unit and step changes, in event order (begin_unit before the unit's first step)."""
        for ev in events:
            if ev.kind == "cycle_start":
                self.perception.begin_unit()
            elif ev.kind == "step_start":
                step = self.engine.current_step
                if step is not None:
                    self.perception.begin_run_step(step)
        if any(ev.kind in ("step_start", "cycle_end", "session_end") for ev in events) and self.p.on_step:
            st = self.engine.state
            shown = (
                st.step_uid if st.phase in (Phase.RUNNING, Phase.ERROR, Phase.PAUSED, Phase.HELP) else None
            )
            self.p.on_step(shown, st.cycle)

    def tick(self) -> bool:
        """One pass of the loop; False when the session is over."""
        frame = self.p.camera.read_latest(timeout=0.0 if self.p.sim_time else 0.01)
        t = self._time(frame)
        events: list[LogEvent] = []
        for st in self.p.camera.status_events():
            self._message = "" if st.ok else f"CAMERA: {st.message}"
            self._note("camera", ok=st.ok, message=st.message)
        for status_src in self.p.status_sources:
            for ds in status_src.status_events():
                self._device_message = "" if ds.ok else f"DEVICE: {ds.message}"
                self._note("device", **ds.log_data())
        quit_reason = ""
        inputs: list[InputEvent] = []
        for k in self.p.display.poll_keys():
            if isinstance(k, QuitRequest):
                quit_reason = k.reason or "quit"
            else:
                inputs.append(k)
        for src in self.p.inputs:
            inputs.extend(src.poll_inputs())
        for ev in inputs:
            events += self.engine.handle_input(replace(ev, t=t) if self.p.sim_time else ev)
        t0 = time.perf_counter()
        if frame is not None:
            obs = self.perception.process(frame, self._shown)
            self._obs = obs
            events += self.engine.update(obs)
        else:
            events += self.engine.tick(t)
        self._after_events(events)
        self._log(events)  # durable before anything shows the consequence
        state = self.engine.state
        message = self._message or self._device_message
        if message and not state.message:
            state = replace(state, message=message)
        image = self.renderer.render(state, self._obs)
        if frame is not None:
            self.result.frame_ms.append((time.perf_counter() - t0) * 1000.0)
            self.result.frames += 1
        self._shown = image
        self.p.display.show(image)
        for f in self.p.followers:
            f.follow(state, self.engine.expected_bins(), state.error_bin)
        if self.p.recorder is not None and frame is not None:
            self.p.recorder.write(image, frame.image)
        if quit_reason:
            self.result.stopped_by = quit_reason
            return False
        if state.phase == Phase.FINISHED:
            self.result.stopped_by = "max cycles"
            return False
        if self.p.camera.exhausted:
            self.result.stopped_by = "camera input ended"
            return False
        return True

    @property
    def projector_image(self) -> np.ndarray | None:
        """What the projector shows now (the virtual bench lights the scene with it)."""
        return self._shown

    def stop(self) -> RunResult:
        events = self.engine.stop(self._now)
        self._after_events(events)
        self._log(events)
        self.result.cycles_completed = sum(1 for e in self.result.events if e.kind == "cycle_end")
        self.p.store.close_session(self.session_id)
        return self.result

    def run(self, max_frames: int | None = None, stop_when: Callable[[], bool] | None = None) -> RunResult:
        wall0 = time.perf_counter()
        period = 1.0 / self.p.realtime_fps if self.p.realtime_fps else 0.0
        next_t = time.perf_counter()
        try:
            while self.tick():
                if max_frames is not None and self.result.frames >= max_frames:
                    self.result.stopped_by = "frame limit"
                    break
                if stop_when is not None and stop_when():
                    self.result.stopped_by = "scenario finished"
                    break
                if period:
                    next_t += period
                    delay = next_t - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    else:
                        next_t = time.perf_counter()
        except KeyboardInterrupt:
            self.result.stopped_by = "interrupted"
        finally:
            self.result.wall_s = time.perf_counter() - wall0
            self.stop()
        return self.result
