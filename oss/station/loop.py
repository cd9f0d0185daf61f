"""The station loop: the one place that wires the stages together, in order.

Per tick::

    inputs (keyboard, devices, the simulated pedal) ─▶ engine.handle_input
    camera frame ─▶ perception.process ─▶ engine.update        (or engine.tick without a new frame)
    log events ─▶ EventStore (synced to disk)                  ← before anything shows their consequence
    step changes ─▶ perception.begin_unit / begin_run_step, simulated operator reads the projection
    engine.state ─▶ renderer.render ─▶ display.show, recorder.write, devices.follow
    supervisor monitor (``oss.monitor``): its PIN-gated actions ─▶ the session, right after the inputs;
    a snapshot of the tick ─▶ monitor.feed after display.show (it redraws at most 10 times a second)

The camera runs on its own thread (``FrameSource.read_latest`` never blocks longer than asked); a
tick without a new frame still serves inputs and timers. The virtual bench is driven in lock-step
(one simulated frame per tick, with the projector image of the previous tick as its light).

Operators (``oss.operator``): each signed-in operator has an ``OperatorSession`` (engine, guidance,
level, sounds, in their profile's settings) and a session in the log. With ``profiles`` and no
``operator`` the station starts on the sign-in screen (``oss.operator.desk``); sign-out ends the
session and shows it again; the unit in progress is resumed by whoever signs in next.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from oss.calibration.model import Calibration
from oss.display.base import Display, QuitRequest, TextLine
from oss.display.recorder import VideoRecorder
from oss.engine.config import EngineConfig
from oss.engine.engine import StepEngine
from oss.engine.guidance import HesitationPolicy
from oss.instructions.model import Instruction
from oss.log.store import EventStore, LogStorageError, utc_now
from oss.monitor.link import MonitorLink
from oss.monitor.model import Monitor
from oss.operator.adaptive import LevelPolicy
from oss.operator.desk import Desk
from oss.operator.profile import OperatorProfile, ProfileBook, anonymous_profile
from oss.operator.session import OperatorSession, SessionSettings
from oss.operator.sound import SoundPlayer, Speaker
from oss.perception.mediapipe_hands import MediaPipeHandTracker, TrackerConfig
from oss.perception.pipeline import Perception
from oss.perception.touch import TouchButtons, default_layout, draw_touch_buttons
from oss.records import CameraStatus, Frame, InputEvent, LogEvent, Observation, Phase, StationState
from oss.render.renderer import Renderer
from oss.station.stopping import PIN_PROMPT_S, EscapeGate, GateAnswer

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

    def log_data(self) -> Sequence[tuple[str, str | int | float | bool | None]]: ...


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
    session_id: str = ""  # the first operator session
    session_ids: list[str] = field(default_factory=list)  # every operator session, in order
    supervisor_calls: list[tuple[float, str]] = field(default_factory=list)  # (t, step uid)
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
    profiles: ProfileBook | None = None  # with no operator given: start on the sign-in screen
    profile: OperatorProfile | None = None  # the settings of ``operator`` (default: from profiles)
    sounds: SoundPlayer | None = None
    speaker: Speaker | None = None
    hesitation: HesitationPolicy | None = None
    level_policy: LevelPolicy | None = None
    resume_on_sign_in: bool = True  # an unfinished unit in the log is resumed by the next operator
    touch_buttons: bool = True  # projected next/back/help buttons, pressed by a resting fingertip
    hand_tracking: bool = False  # MediaPipe hand landmarks fused with the foreground hands
    hand_model: str | None = None  # a hand_landmarker.task file (default: assembled from the package)
    monitor: Monitor | None = None  # the supervisor monitor (oss.monitor), fed after every tick
    escape: EscapeGate | None = None  # what Escape in the projector window does (None: it stops at once)


class Station:
    def __init__(self, parts: StationParts):
        self.p = parts
        self.settings = SessionSettings(
            instruction=parts.instruction,
            variant=parts.variant,
            calibration=parts.calibration,
            station_id=parts.station_id,
            language=parts.language,
            max_cycles=parts.max_cycles,
            engine_config=parts.engine_config,
            hesitation=parts.hesitation,
            level_policy=parts.level_policy,
        )
        self.perception = Perception(
            parts.instruction,
            parts.calibration,
            parts.variant,
            mm_per_px=parts.mm_per_px,
            plain=parts.plain_perception,
        )
        self.touch: TouchButtons | None = None
        self.tracker: MediaPipeHandTracker | None = None
        if parts.touch_buttons:
            self.touch = TouchButtons(default_layout(parts.instruction))
        if parts.hand_tracking:
            self.tracker = MediaPipeHandTracker(
                parts.calibration,
                # on simulated time the frames wait for the loop, so MediaPipe runs in step with it
                # (deterministic); on a live camera it runs on its own thread on the newest crop
                TrackerConfig(task_file=parts.hand_model, asynchronous=not parts.sim_time),
                foreground=self.perception.arms,
            )
            self.perception.hand_detectors = (self.tracker,)
            if self.touch is not None:
                self.tracker.set_focus(self.touch.focus_areas())
        self.result = RunResult()
        self.monitor: MonitorLink | None = None
        if parts.monitor is not None:
            self.monitor = MonitorLink(
                parts.monitor, parts.instruction, parts.variant, parts.calibration, parts.station_id
            )
        self.session: OperatorSession | None = None
        self.desk: Desk | None = None
        self._shown: np.ndarray | None = None
        self._now = 0.0
        self._message = ""
        self._device_message = ""
        self._notice, self._notice_until = "", -1.0
        self._obs: Observation | None = None
        self._log_failed = False
        if parts.profiles is not None and parts.profiles.active:  # the station's people: sign-in, breaks
            idle = Renderer(
                parts.instruction, parts.calibration, parts.variant, language=parts.language or "en"
            )
            self.desk = Desk(parts.profiles, idle, parts.language or parts.instruction.default_language)
        if self.desk is None or parts.operator:  # --operator: no sign-in
            profile = parts.profile
            if profile is None and parts.profiles is not None:
                profile = parts.profiles.get(parts.operator)
            profile = profile or anonymous_profile(parts.operator)
            self._open_session(profile, parts.operator)
            if self.desk is not None:
                self.desk.signed_in(profile)

    # --- the operator's session ---------------------------------------------------------------------
    @property
    def engine(self) -> StepEngine:
        if self.session is None:
            raise RuntimeError("no operator is signed in")
        return self.session.engine

    @property
    def renderer(self) -> Renderer:
        if self.session is not None:
            return self.session.renderer
        assert self.desk is not None
        return self.desk.renderer

    @property
    def session_id(self) -> str:
        return self.session.session_id if self.session is not None else ""

    def _open_session(self, profile: OperatorProfile, operator_id: str | None = None) -> OperatorSession:
        self.session = OperatorSession(
            self.settings,
            profile,
            self.p.store,
            operator_id=operator_id,
            sounds=self.p.sounds,
            speaker=self.p.speaker,
        )
        self.result.session_ids.append(self.session.session_id)
        self.result.session_id = self.result.session_id or self.session.session_id
        if self.session.notice:
            self._notice, self._notice_until = self.session.notice, self._now + 10.0
            log.warning("%s", self.session.notice)
        return self.session

    def sign_in(self, profile: OperatorProfile, t: float) -> None:
        """Start ``profile``'s session (resuming an unfinished unit from the log) and show its first step."""
        resume = None
        if self.p.resume_on_sign_in:
            point = self.p.store.unfinished_unit(self.p.instruction)
            if point is not None and (self.p.max_cycles is None or point.cycle <= self.p.max_cycles):
                resume = (point.cycle, point.next_step_index)
        self._open_session(profile)
        self.desk = self.desk.signed_in(profile) if self.desk is not None else None
        self.start(resume, t)

    def sign_out(self, t: float) -> None:
        """End the session (the unit in progress stays open in the log) and show the sign-in screen."""
        if self.session is None:
            return
        events = self.session.stop(t)
        self._after_events(events)
        self._log(events)
        self.result.supervisor_calls += self.session.supervisor_calls
        try:
            self.p.store.close_session(self.session.session_id)
        except LogStorageError as e:  # nowhere to write even a journal: say so, the stop goes on
            log.error("%s", e)
        self.session = None
        if self.desk is not None:
            self.desk = self.desk.signed_out()

    # --- logging --------------------------------------------------------------------------------
    def _log(self, events: list[LogEvent]) -> None:
        if not events:
            return
        self.result.events.extend(events)
        if self.monitor is not None:
            self.monitor.logged(events)
        try:
            self.p.store.append_many(self.session_id, events)
            if self._log_failed:
                self._log_failed = False
                self._message = ""
        except (
            LogStorageError
        ) as e:  # spilled to a journal by the store (its message says where), merged later
            self._log_failed = True
            self._message = "LOG FULL: call the supervisor"
            log.error("%s", e)

    def _note(self, event_kind: str, /, **data: str | int | float | bool | None) -> None:
        """Log one event of ``event_kind`` (positional-only: ``data`` may have a ``kind`` key too)."""
        if self.session is None:  # nobody signed in: no session to log it in
            log.info("%s: %s", event_kind, data)
            return
        st = self.engine.state
        self._log(
            [LogEvent(event_kind, self._now, utc_now(), st.step_uid, st.cycle, tuple(sorted(data.items())))]
        )

    def _escape(self, k: QuitRequest, t: float) -> str:
        """Escape or a closed window: the gate decides; returns the stop reason, or ""."""
        if self.p.escape is None:
            return k.reason or "quit"
        return self._gate_answer(self.p.escape.escape(t), t, k.reason or "escape")

    def _gate_answer(self, answer: GateAnswer, t: float, how: str) -> str:
        gate = self.p.escape
        if answer.log:
            self._note("stop_request", how=how, outcome=answer.log, policy=gate.policy if gate else "quit")
        if answer.notice:
            keep = PIN_PROMPT_S if gate is not None and gate.prompting(t) else 5.0
            self._notice, self._notice_until = answer.notice, t + keep
            log.info("%s", answer.notice)
        elif gate is not None and not gate.prompting(t) and self._notice_until > t:
            self._notice_until = t  # the prompt is over
        return how if answer.stop else ""

    def _camera_realigned(self) -> None:
        """Log perception's corrections of a moved camera view; one too far off is shown too."""
        for re in self.perception.take_realignments():
            log.warning("%s", re.message)
            self._note(
                "camera",
                ok=re.applied,
                realigned=re.applied,
                dx_mm=round(re.dx_mm, 2),
                dy_mm=round(re.dy_mm, 2),
                total_mm=round(float(np.hypot(re.total_dx_mm, re.total_dy_mm)), 2),
                message=re.message,
                projector=re.projector,
            )
            if re.applied and re.projector:  # the highlights follow too: drawn where the zones are now
                self._follow_projector(self.perception.calibration)
            if re.applied and self.monitor is not None:  # its camera view too
                self.monitor.follow(self.perception.calibration)
            if not re.applied:
                self._notice, self._notice_until = "CAMERA MOVED: call the supervisor", self._now + 30.0

    def _follow_projector(self, calibration: Calibration) -> None:
        """The projection moved over the bench (the bench was knocked): draw with ``calibration`` from
        now on, in every renderer and in sessions opened later."""
        self.p.calibration = calibration
        self.settings = replace(self.settings, calibration=calibration)
        if self.session is not None:
            self.session.renderer.follow_projector(calibration)
        if self.desk is not None:
            self.desk.renderer.follow_projector(calibration)

    # --- the loop -------------------------------------------------------------------------------
    def start(self, resume: tuple[int, int] | None = None, t: float | None = None) -> None:
        """Start the signed-in operator's session (on the sign-in screen: nothing to start yet)."""
        if self.session is None:
            return
        t = self._time(None) if t is None else t
        events = self.session.start(t, resume)
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
            if self.session is None:
                return
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
                self._note("device", **dict(ds.log_data()))
        quit_reason = ""
        inputs: list[InputEvent] = []
        lines: list[TextLine] = []
        for k in self.p.display.poll_keys():
            if isinstance(k, QuitRequest):
                quit_reason = self._escape(k, t) or quit_reason
            elif isinstance(k, TextLine) and self.p.escape is not None and self.p.escape.prompting(t):
                quit_reason = self._gate_answer(self.p.escape.line(k.text, t), t, "escape") or quit_reason
            elif isinstance(k, TextLine):
                lines.append(replace(k, t=t) if self.p.sim_time else k)
            else:
                inputs.append(k)
        if self.p.escape is not None:
            self.p.display.text_entry(self.p.escape.prompting(t))
        for src in self.p.inputs:
            inputs.extend(src.poll_inputs())
        if self.p.sim_time:
            inputs = [replace(ev, t=t) for ev in inputs]
        if self.monitor is not None:  # the supervisor's actions (PIN-gated at the monitor), logged first
            events += self.monitor.act(self.session, t)
        if self.session is None:
            return self._tick_signed_out(frame, t, inputs, lines, quit_reason)
        desk_act = None
        if self.desk is not None:
            desk_act = self.desk.route(inputs, lines, self.engine.state.phase is Phase.PAUSED, t)
            inputs = desk_act.inputs
            if desk_act.message:
                self._notice, self._notice_until = desk_act.message, t + 5.0
        session = self.session
        for ev in inputs:
            events += session.handle_input(ev)
        t0 = time.perf_counter()
        if frame is not None:
            obs = self.perception.process(frame, self._shown)
            self._obs = obs
            self._camera_realigned()
            if self.touch is not None:
                for press in self.touch.update(obs, obs.t):
                    events += session.handle_input(press)
            events += session.update(obs)
        else:
            events += session.tick(t)
        self._after_events(events)
        self._log(events)  # durable before anything shows the consequence
        state = self.engine.state
        message = self._message or self._device_message or (self._notice if t < self._notice_until else "")
        if message and not state.message:
            state = replace(state, message=message)
        image = self.renderer.render(state, self._obs, session.view())
        if self.touch is not None:
            draw_touch_buttons(
                image, self.touch.buttons, self.touch.progress(), self.p.calibration.proj_from_bench
            )
            self.renderer.blackout_hands(image, self._obs)
        sign_out = desk_act is not None and desk_act.sign_out
        if self.desk is not None and state.phase is Phase.PAUSED:
            if self._obs is not None and frame is not None and self.desk.touch_sign_out(self._obs):
                sign_out = True
            self.renderer.draw_tiles(image, self.desk.break_screen(), self._obs)
        if frame is not None:
            self.result.frame_ms.append((time.perf_counter() - t0) * 1000.0)
            self.result.frames += 1
        self._shown = image
        self.p.display.show(image)
        if self.monitor is not None:
            self.monitor.feed(frame, self._obs, state, session, t)
        for f in self.p.followers:
            f.follow(state, self.engine.expected_bins(), state.error_bin)
        if self.p.recorder is not None and frame is not None:
            self.p.recorder.write(image, frame.image)
        if sign_out:
            self.sign_out(t)
            if desk_act is not None and desk_act.sign_in is not None:
                self.sign_in(desk_act.sign_in, t)
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

    def _tick_signed_out(
        self,
        frame: Frame | None,
        t: float,
        inputs: list[InputEvent],
        lines: list[TextLine],
        quit_reason: str,
    ) -> bool:
        """A tick of the sign-in screen: touch, pedal and badge choose who works here."""
        desk = self.desk
        assert desk is not None
        obs = None
        if frame is not None:
            obs = self._obs = self.perception.process(frame, self._shown)
            self.result.frames += 1
        chosen = desk.sign_in_step(inputs, lines, obs, t)
        image = desk.renderer.render_tiles(desk.sign_in_screen(), obs)
        self._shown = image
        self.p.display.show(image)
        phase = Phase.HELP if desk.help_requested else Phase.WAITING
        idle = StationState(phase, -1, "", self.p.variant, 0, t=t)
        if self.monitor is not None:
            self.monitor.feed(frame, obs, idle, None, t)
        for f in self.p.followers:
            f.follow(idle, (), "")
        if self.p.recorder is not None and frame is not None:
            self.p.recorder.write(image, frame.image)
        if chosen is not None:
            log.info("signed in: %s", chosen.id)
            self.sign_in(chosen, t)
        if quit_reason:
            self.result.stopped_by = quit_reason
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
        if self.session is not None:
            self.sign_out(self._now)
        if self.tracker is not None:
            self.tracker.close()
        self.perception.close()
        self.result.cycles_completed = sum(1 for e in self.result.events if e.kind == "cycle_end")
        return self.result

    def run(
        self, max_frames: int | None = None, stop_when: Callable[[], bool | str] | None = None
    ) -> RunResult:
        """Tick until the session ends, ``max_frames`` camera frames, or ``stop_when()`` is true (a
        text it returns is the reason: "SIGTERM", ...). Always ends with :meth:`stop`."""
        wall0 = time.perf_counter()
        period = 1.0 / self.p.realtime_fps if self.p.realtime_fps else 0.0
        next_t = time.perf_counter()
        try:
            while self.tick():
                if max_frames is not None and self.result.frames >= max_frames:
                    self.result.stopped_by = "frame limit"
                    break
                why = stop_when() if stop_when is not None else ""
                if why:
                    self.result.stopped_by = why if isinstance(why, str) else "scenario finished"
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
