"""Assemble a station from its configuration and run it; on the virtual bench, score it."""

from __future__ import annotations

import logging
import os
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from oss.calibration.model import Calibration
from oss.calibration.radiometry import measure_radiometry
from oss.config import StationConfig
from oss.display import open_display
from oss.display.base import Display
from oss.display.recorder import VideoRecorder
from oss.instructions import load_instruction
from oss.instructions.model import Instruction
from oss.log.resume import ResumePoint
from oss.log.store import EventStore
from oss.monitor.console import PIN_ENV
from oss.operator.profile import ProfileBook, default_profiles_path
from oss.operator.sound import SoundPlayer, Speaker
from oss.package_data import sample_instruction
from oss.records import OssError
from oss.sim.scenario import Scenario, load_scenario
from oss.station.loop import Camera, RunResult, Station, StationParts
from oss.station.stopping import EscapeGate, StopSignals

if TYPE_CHECKING:
    from oss.monitor.window import MonitorWindow

log = logging.getLogger("oss.station")


def merge_results(results: list[RunResult]) -> RunResult:
    """One result over the sessions of a live-reloaded run (one session per instruction version)."""
    out = RunResult()
    for r in results:
        out.frames += r.frames
        out.frame_ms.extend(r.frame_ms)
        out.events.extend(r.events)
        out.session_ids.extend(r.session_ids)
        out.session_id = out.session_id or r.session_id
        out.supervisor_calls.extend(r.supervisor_calls)
        out.wall_s += r.wall_s
        out.stopped_by = r.stopped_by or out.stopped_by
    out.cycles_completed = sum(1 for e in out.events if e.kind == "cycle_end")
    return out


def _real_camera_calibration(cfg: StationConfig, display: Display, camera: object) -> Calibration:
    if not cfg.calibration:
        raise OssError(
            "no calibration for this station: run 'oss calibrate' at the station and pass --calibration FILE "
            "(or set 'calibration:' in the station file)"
        )
    cal = Calibration.load(cfg.calibration, camera_size=cfg.camera_size, projector_size=cfg.projector_size)
    if cal.radiometry is None:
        log.info("measuring what the camera sees of the empty bench under black and white projection ...")

        def capture(img: np.ndarray) -> np.ndarray:
            display.show(img)
            time.sleep(0.3)
            frame = None
            deadline = time.monotonic() + 5.0
            while frame is None and time.monotonic() < deadline:
                frame = camera.read_latest(timeout=0.5)  # type: ignore[attr-defined]
            if frame is None:
                raise OssError(
                    "the camera delivers no frames: check the cable and 'oss run --camera' setting"
                )
            return frame.image

        cal = cal.with_radiometry(measure_radiometry(capture, cal))
    return cal


def _ask_resume(point: ResumePoint, display: Display) -> bool:
    """Wait for the operator's answer to the resume question: NEXT resumes, BACK starts a new unit."""
    from oss.records import Button

    log.info(
        "unfinished unit %s at step %s: NEXT resumes, BACK starts over", point.cycle, point.next_step_index
    )
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline:
        for k in display.poll_keys():
            button = getattr(k, "button", None)
            if button in (Button.NEXT, Button.CONFIRM):
                return True
            if button == Button.BACK:
                return False
        time.sleep(0.05)
    return False


def _sound(wanted: bool, book: ProfileBook, operator: str) -> tuple[SoundPlayer | None, Speaker | None]:
    """The sound player (and speaker, where a profile wants spoken text) for a station with a window."""
    if not wanted:
        return None, None
    people = [p for p in book.profiles if not operator or p.id == operator]
    try:
        player = SoundPlayer()
    except OssError as e:
        log.warning("%s", e)
        return None, None
    speaker = Speaker(player) if any(p.speech for p in people) else None
    if speaker is not None and not speaker.available:
        log.warning("%s", speaker.message)
    return player, speaker


def _monitor(cfg: StationConfig) -> MonitorWindow | None:
    """The supervisor monitor window, when the station file or ``--monitor`` asks for one."""
    if not cfg.monitor:
        return None
    from oss.display.pyglet_display import NO_DISPLAY_FOR_MONITOR, check_display_available
    from oss.monitor import NO_PIN, MonitorWindow, SupervisorConsole

    try:
        check_display_available(message=NO_DISPLAY_FOR_MONITOR)
    except OssError as e:  # the station works without its monitor: say so, don't stop the operator
        log.warning("supervisor monitor not shown: %s", e)
        return None
    pin = os.environ.get(PIN_ENV) or cfg.monitor_pin  # the environment wins: keeps the PIN out of files
    if not pin:
        log.warning("supervisor monitor: %s; until then it only shows", NO_PIN)
    return MonitorWindow(SupervisorConsole(pin), screen_index=cfg.monitor_screen)


def _escape_gate(cfg: StationConfig) -> EscapeGate:
    """What Escape does in the projector window: the station file's ``escape``, else ask for the
    supervisor PIN where one is set, else ask for a second Escape."""
    pin = os.environ.get(PIN_ENV) or cfg.monitor_pin
    return EscapeGate(cfg.escape or EscapeGate.default_policy(pin), pin)


def build_and_run(
    cfg: StationConfig,
    instructions: Path | None,
    variant: str | None,
    operator: str,
    extra: dict[str, object],
    resume_policy: str = "ask",
    realtime: bool = False,
) -> dict[str, object]:
    sim_spec = cfg.camera if cfg.camera.startswith("sim:") else None
    bench = None
    scenario: Scenario | None = None
    if sim_spec is not None:
        scenario = load_scenario(sim_spec.removeprefix("sim:"))
        instruction = load_instruction(instructions) if instructions else scenario.load_instruction()
        if variant is None:
            variant = scenario.variant
    else:
        instruction = load_instruction(instructions or sample_instruction())
    if variant is None:
        variant = instruction.default_variant()
    max_cycles = extra.get("max_cycles")
    summary: dict[str, object] = {}
    summary_resumed: dict[str, int] | None = None
    with ExitStack() as stack:
        Path(cfg.log).parent.mkdir(parents=True, exist_ok=True)
        store = stack.enter_context(EventStore(cfg.log, cfg.station_id))
        if cfg.fleet_dsn or os.environ.get("OSS_FLEET_DSN"):
            from oss.log.fleet import FleetForwarder

            # forwards what the local log holds to the central store, in the background; outages lose nothing
            stack.enter_context(FleetForwarder(cfg.log, cfg.fleet_dsn))
        display = open_display(cfg.display, screen_index=cfg.screen)
        stack.callback(display.close)
        monitor = _monitor(cfg)
        if monitor is not None:
            stack.callback(monitor.close)
        inputs: list[object] = []
        followers: list[object] = []
        status_sources: list[object] = []
        if cfg.devices:
            from oss.hardware import DeviceManager

            devices = stack.enter_context(DeviceManager.from_station(cfg))
            inputs.append(devices)
            followers.append(devices)
            status_sources.append(devices)
        recorder = None
        if extra.get("record"):
            fps = scenario.camera.fps if scenario is not None else cfg.camera_fps
            recorder = VideoRecorder(str(extra["record"]), fps=fps)
            stack.callback(recorder.close)
        profiles_path = (
            Path(str(extra["profiles"])) if extra.get("profiles") else default_profiles_path(cfg.log)
        )
        book = ProfileBook.load(profiles_path)
        if sim_spec is not None and not operator:  # the scripted operator cannot sign in
            book = ProfileBook((), book.source, book.photos_root)
        sign_in = not operator and bool(book.active)
        if sign_in:
            log.info("sign-in screen: %d operators in %s", len(book.active), profiles_path)
        sounds, speaker = _sound(cfg.display == "window" or bool(extra.get("sound")), book, operator)
        if sounds is not None:
            stack.callback(sounds.close)
        resume: tuple[int, int] | None = None
        point = store.unfinished_unit(instruction) if resume_policy != "no" and not sign_in else None
        if point is not None:
            if resume_policy == "ask" and cfg.display != "window":
                log.warning(
                    "the log has an unfinished unit %d (next step %d) and there is no display to ask on: "
                    "resuming it (--resume no starts a new unit instead)",
                    point.cycle,
                    point.next_step_index,
                )
                go = True
            else:
                go = resume_policy == "yes" or _ask_resume(point, display)
            if go:
                resume = (point.cycle, point.next_step_index)
                summary_resumed = {"unit": point.cycle, "step": point.next_step_index}
                log.info("resuming unit %d at step %d", *resume)
        common = dict(
            operator=operator,
            station_id=cfg.station_id,
            language=cfg.language,
            recorder=recorder,
            followers=followers,
            status_sources=status_sources,
            profiles=book,
            sounds=sounds,
            speaker=speaker,
            resume_on_sign_in=resume_policy != "no",
            touch_buttons=cfg.touch_buttons,
            hand_tracking=cfg.hand_tracking,
            hand_model=cfg.hand_model,
            monitor=monitor,
            escape=_escape_gate(cfg),
        )
        cycles = int(str(max_cycles)) if max_cycles is not None else None
        live = None
        if scenario is not None:
            from oss.station.sim_link import sim_station

            paced = scenario.camera.fps if (realtime or cfg.display == "window") else None
            station, bench = sim_station(
                scenario,
                instruction,
                store,
                variant=variant,
                max_cycles=cycles,
                display=display,
                inputs=inputs,
                realtime_fps=paced,
                **common,
            )
        else:
            from oss.camera import open_source

            camera: Camera = stack.enter_context(
                open_source(
                    cfg.camera,
                    size=cfg.camera_size,
                    fps=cfg.camera_fps,
                    exposure=cfg.exposure,
                    white_balance=cfg.white_balance,
                )
            )
            calibration = _real_camera_calibration(cfg, display, camera)
            from oss.authoring.reload import InstructionWatcher, LiveReload

            def make(ins: Instruction, watcher: InstructionWatcher) -> Station:
                parts = dict(common, status_sources=(*status_sources, watcher))
                return Station(
                    StationParts(
                        instruction=ins,
                        variant=variant,
                        calibration=calibration,
                        camera=camera,
                        display=display,
                        store=store,
                        max_cycles=cycles,
                        inputs=inputs,  # type: ignore[arg-type]
                        **parts,  # type: ignore[arg-type]
                    )
                )

            # an edited instruction file takes effect at the next unit boundary (see oss/authoring/reload.py)
            live = LiveReload(make, InstructionWatcher(instruction.source, instruction, variant))
        max_frames = extra.get("max_frames")
        limit = int(str(max_frames)) if max_frames else None

        def stop_when() -> str:
            """A signal (systemctl stop, Ctrl+C) or the end of the scenario ends the run."""
            return signals() or ("scenario finished" if bench is not None and bench.finished else "")

        with StopSignals() as signals:
            if live is not None:
                results = live.run(max_frames=limit, stop_when=stop_when, resume=resume)
                result = merge_results(results)
            else:
                station.start(resume)
                result = station.run(max_frames=limit, stop_when=stop_when)
        summary = {
            "instruction": instruction.source,
            "instruction_hash": instruction.content_hash,
            "variant": variant,
            "session_id": result.session_id,
            "sessions": list(result.session_ids),
            "supervisor_calls": len(result.supervisor_calls),
            "frames": result.frames,
            "cycles_completed": result.cycles_completed,
            "stopped_by": result.stopped_by,
            "wall_s": round(result.wall_s, 2),
            "log": str(Path(cfg.log).resolve()),
        }
        if summary_resumed is not None:
            summary["resumed"] = summary_resumed
        if live is None and station.monitor is not None:
            from oss.station.evaluate import stats

            summary["monitor_ms"] = stats(list(station.monitor.tick_ms))  # its cost per tick
        if bench is not None:
            from oss.station.evaluate import evaluate

            gt = bench.ground_truth()
            summary.update(evaluate(result.events, gt, result.frame_ms))
            if extra.get("truth"):
                gt.to_json(str(extra["truth"]))
        else:
            from oss.station.evaluate import stats

            summary["frame_ms"] = stats(result.frame_ms)
    return summary
