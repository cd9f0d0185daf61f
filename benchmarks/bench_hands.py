"""Hand tracking figures as JSON: real photos against MediaPipe's reference, the hand-aware mask's effect,
touch latency, and time per frame of the station loop with the MediaPipe tracker on the virtual bench
(asynchronous, as the station runs it, and synchronous for comparison), with the load average.

.venv/bin/python benchmarks/bench_hands.py [--seconds 30] [--skip-photos] [--skip-touch] [--no-sync-loop]
    [--unpaced] [--in-process-bench | --no-freeze]

Loop timing (the frame budget). The loops without tracker, with the asynchronous and with the synchronous
tracker take turns of 3 simulated seconds, so that they run under the same load. They run in a process of
their own (spawned) that does only the station's work per frame, timed as ``Station.tick`` times it:
perception with the tracker's part, touch, engine, render (with the touch buttons and the hand blackout).
Their virtual benches stay in this process and render each camera frame when the loop asks for it, lit by
the image the loop projected last (lock-step, as the station on the virtual bench); images go through
shared memory, the rest through a pipe.

Why the loop process is stopped while the bench renders. With a 30 fps camera, the time from the end of a
frame's work to the next frame is idle, and the asynchronous tracker's MediaPipe thread has it to itself.
In lock-step the bench can render frame i+1 only once the loop has projected its image for frame i: in
exactly that idle time. Running beside the loop process, the rendering (one core and more, 10-30 ms a
frame) takes CPU from MediaPipe's thread there, and when work + rendering exceed 33.3 ms the frame comes
late and MediaPipe gets *more* time than a camera would leave it. Rendering ahead does not help: the next
frame needs the image the loop has not projected yet, and rendering during the loop's work would compete
with the work, which is what the separate process is to avoid. So the bench stops the loop process
(SIGSTOP: all its threads, loop, MediaPipe's, OpenCV's) while it renders, and takes the stopped time off
the loop process's clock (``FrozenClock``, also used by the tracker for MediaPipe's per-run times and the
landmark latencies). On that clock the frames come as from a live 30 fps camera: every 33.3 ms when the
loop keeps up (it waits, MediaPipe's thread runs), at once when the work on the frame before ran past the
next frame's time (the newest frame, taken at the last 33.3 ms tick, as a live camera that drops stale
frames gives it; the next one comes at the next tick), and no CPU of the bench's runs beside the station's.
Other processes on the machine still do: compare figures taken at the same load average. Not emulated:
the camera's own capture thread (grabbing, decoding) and a projector's display latency.

Per loop: ``loop_ms_main_thread`` (the work per frame, wall on the loop process's clock; CPU time in
``loop_cpu_ms_main_thread``), ``iteration_ms_incl_wait`` (from one frame's arrival to the next: the work and
the wait for the camera; 33.3 ms while the loop keeps up), ``iteration_wall_ms_incl_bench_render`` (the same
in wall time, with the bench's rendering), ``frames_late``, ``camera_frames_skipped``, the loop process's
CPU per frame; with a tracker its time on the loop's thread, MediaPipe's per run (on its thread when
asynchronous) and how many frames old the landmarks were when fused (``landmark_latency_frames``).

``--no-freeze``: the bench in its own process, the loop process not stopped (the rendering competes with
MediaPipe's thread as described). ``--in-process-bench``: the earlier figure: the bench renders in the loop's
own thread between frames (not timed, but it takes the idle time and the caches; frames come late when work
+ rendering exceed 33.3 ms). Without SIGSTOP (not POSIX) the default falls back to ``--no-freeze``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing as mp
import os
import signal
import sys
import time
import traceback
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import oss  # noqa: E402, F401  (first: one BLAS thread, as at the station, set before numpy loads)

# isort: split
import cv2  # noqa: E402
import numpy as np  # noqa: E402

from oss.engine.engine import StepEngine  # noqa: E402
from oss.hands_cli import detect_files  # noqa: E402
from oss.perception import mediapipe_hands  # noqa: E402
from oss.perception.landmarks import LandmarkerOptions, StillImageHands  # noqa: E402
from oss.perception.mediapipe_hands import MediaPipeHandTracker, TrackerConfig  # noqa: E402
from oss.perception.pipeline import Perception  # noqa: E402
from oss.perception.touch import TouchButtons, default_layout, draw_touch_buttons  # noqa: E402
from oss.records import Button, Frame, InputEvent, LogEvent, Observation, Phase  # noqa: E402
from oss.render.renderer import Renderer  # noqa: E402
from oss.sim.bench import VirtualBench  # noqa: E402
from oss.sim.scenario import load_scenario  # noqa: E402
from oss.station.sim_link import calibrate_sim  # noqa: E402
from tests.hands import simtouch as S  # noqa: E402
from tests.hands.reference import compare, legacy_reference, photo_paths  # noqa: E402

FRAME_BUDGET_MS = 1000.0 / 30.0  # the station's camera runs at 30 fps


def stats(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {"median": round(float(np.median(a)), 2), "p95": round(float(np.percentile(a, 95)), 2)}


def budget_figures(ms: list[float], loads: list[float]) -> dict[str, object]:
    """Share of frames whose work ran over the 30 fps budget, and the load average during the turns."""
    a, ld = np.asarray(ms), np.asarray(loads)
    return {
        "frame_budget_ms": round(FRAME_BUDGET_MS, 1),
        "frames_over_budget": round(float(np.mean(a > FRAME_BUDGET_MS)), 3),
        "load_average_1min_at_turns": {
            "min": round(float(ld.min()), 2),
            "mean": round(float(ld.mean()), 2),
            "max": round(float(ld.max()), 2),
        },
    }


def load_average() -> list[str]:
    p = Path("/proc/loadavg")
    return p.read_text().split()[:3] if p.exists() else []


def photos() -> dict[str, object]:
    paths = photo_paths()
    t0 = time.perf_counter()
    doc = detect_files([str(p) for p in paths], LandmarkerOptions())
    per_image_ms = (time.perf_counter() - t0) * 1000 / len(paths)
    out = compare(doc, legacy_reference(paths)).summary()
    out["ms_per_image_incl_setup"] = round(per_image_ms, 1)
    return out


def photo_mask_effect() -> dict[str, object]:
    """A bright projected pattern painted over each photo (light = ambient + projector · pattern), with
    the hand area left lit by the pattern vs blacked out as the renderer's hand mask does."""
    paths = photo_paths()
    det = StillImageHands(LandmarkerOptions(max_hands=2))
    ambient, proj = 0.5, 0.75  # the virtual bench's defaults
    res = {"clean": 0, "pattern_on_hand": 0, "pattern_hand_masked": 0}
    err: dict[str, list[float]] = {"pattern_on_hand": [], "pattern_hand_masked": []}
    for p in paths:
        img = cv2.imread(str(p))
        clean = det.detect(img)
        if not clean:
            continue
        res["clean"] += 1
        h, w = img.shape[:2]
        pat = (
            cv2.resize(S.pattern_image((1280, 800)), (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
            / 255
        )
        mask = np.zeros((h, w), np.uint8)
        for hand in clean:
            pts = hand.array()
            hull = cv2.convexHull(pts.astype(np.float32)).astype(np.int32)
            cv2.fillConvexPoly(mask, hull, (255,))
            span = float(np.ptp(pts, axis=0).max())
            k = max(3, int(0.25 * span)) | 1
            mask = np.asarray(
                cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))), np.uint8
            )
        for name, masked in (("pattern_on_hand", False), ("pattern_hand_masked", True)):
            p_img = pat.copy()
            if masked:
                p_img[mask > 0] = 0
            lit = img.astype(np.float32) * (ambient + proj * p_img) / (ambient + proj * 0.5)
            found = det.detect(np.clip(lit, 0, 255).astype(np.uint8))
            if found:
                res[name] += 1
                ref = clean[0].array()
                err[name].append(min(float(np.hypot(*(f.array() - ref).T).mean()) for f in found))
    det.close()
    return {
        "photos_with_a_hand_when_clean": res["clean"],
        "found_with_pattern_on_hand": res["pattern_on_hand"],
        "found_with_hand_masked": res["pattern_hand_masked"],
        "landmark_px_vs_clean_pattern_on_hand": round(float(np.mean(err["pattern_on_hand"])), 2)
        if err["pattern_on_hand"]
        else None,
        "landmark_px_vs_clean_hand_masked": round(float(np.mean(err["pattern_hand_masked"])), 2)
        if err["pattern_hand_masked"]
        else None,
    }


def sim_mask_effect(st: S.SimStation) -> dict[str, object]:
    """Reaches over the bench under a bright busy projection: MediaPipe detection rate per run, with the
    hand area blacked out of the projection and without (synchronous tracker: every crop runs)."""
    c = st.button(Button.NEXT).center_mm
    out: dict[str, object] = {}
    cfg = TrackerConfig(idle_every=1, asynchronous=False)
    for mask in (False, True):
        runs = found = 0
        for script in (S.press(c), S.pass_over(c), S.rest_across(c)):
            r = S.run_motion(st, script, mask=mask, pattern=True, tracker_config=cfg)
            assert r.tracker is not None
            runs += r.tracker.stats.runs
            found += r.tracker.stats.found
        out["masked" if mask else "unmasked"] = {"runs": runs, "found": found, "rate": round(found / runs, 3)}
    return out


def touch(st: S.SimStation, asynchronous: bool) -> dict[str, object]:
    """Presses on the virtual bench: latency from the scripted fingertip's arrival to the event (sim
    time), frames handled no earlier than a 30 fps camera would deliver them."""
    out: dict[str, object] = {"tracker": "asynchronous" if asynchronous else "synchronous"}
    cfg = TrackerConfig(asynchronous=asynchronous)
    lat = []
    lag: list[int] = []
    for name in ("NEXT", "BACK", "HELP"):
        b = st.button(Button[name])
        r = S.run_motion(st, S.press(b.center_mm), tracker_config=cfg, realtime=True)
        ev = [(e.button.value, round(e.t - r.marks["arrive"], 3)) for e in r.events]
        out[f"press_{name.lower()}"] = ev
        lat += [t for _, t in ev]
        assert r.tracker is not None
        lag += r.tracker.stats.latency_frames
    c = st.button(Button.NEXT).center_mm
    out["pass_over_events"] = len(S.run_motion(st, S.pass_over(c), tracker_config=cfg, realtime=True).events)
    out["rest_across_events"] = len(
        S.run_motion(st, S.rest_across(c), tracker_config=cfg, realtime=True).events
    )
    out["latency_s_arrival_to_event"] = {
        "mean": round(float(np.mean(lat)), 3),
        "max": round(float(max(lat)), 3),
    }
    out["landmark_latency_frames_in_presses"] = {
        "median": float(np.median(lag)),
        "p95": float(np.percentile(lag, 95)),
        "max": int(max(lag)),
    }
    out["load_average_after"] = load_average()
    return out


def tracker_figures(trk: MediaPipeHandTracker) -> dict[str, object]:
    """The tracker's part of a loop: its time on the loop's thread, MediaPipe's per run, crops, and how
    old the landmarks were when fused."""
    st = trk.stats
    out: dict[str, object] = {}
    runs = set(st.run_frames)
    sub_ms = [m for i, m in enumerate(st.detect_ms, 1) if i in runs]
    out["tracker_detect_ms_main_thread_all_frames"] = stats(st.detect_ms)
    out["tracker_detect_ms_main_thread_frames_with_a_crop"] = stats(sub_ms) if sub_ms else None
    where = "tracker_thread" if trk.asynchronous else "main_thread"
    out[f"mediapipe_run_ms_{where}"] = stats(st.mediapipe_ms) if st.mediapipe_ms else None
    out["crops_submitted"] = st.submitted
    out["crops_dropped_before_running"] = st.dropped
    out["mediapipe_runs"] = st.runs
    out["mediapipe_found"] = st.found
    out["landmarks_used"] = st.used
    out["landmarks_stale"] = st.stale
    if st.latency_frames:
        lf = np.asarray(st.latency_frames)
        out["landmark_latency_frames"] = {  # frame where a result is fused − frame of its crop
            "median": float(np.median(lf)),
            "p95": float(np.percentile(lf, 95)),
            "max": int(lf.max()),
            "histogram": {str(k): int(v) for k, v in zip(*np.unique(lf, return_counts=True), strict=True)},
        }
    if st.latency_ms:  # submitted → fused, wall; without results that waited out another loop's turn
        out["landmark_latency_ms_submit_to_use"] = stats(st.latency_ms)
    return out


def follow_steps(per: Perception, eng: StepEngine, evs: list[LogEvent]) -> None:
    """Tell perception of a new unit or step from the engine's events, as the station does."""
    for ev in evs:
        if ev.kind == "cycle_start":
            per.begin_unit()
        elif ev.kind == "step_start" and eng.current_step is not None:
            per.begin_run_step(eng.current_step)


class LoopRun:
    """The station's per-frame work on the virtual bench (led_basic, 1280×720): perception (+ the
    MediaPipe tracker, ``tracker`` = "asynchronous" / "synchronous" / None) + touch + engine + render.

    ``run(frames)`` goes on for that many frames, so several loops can take turns under the same load.
    Every time is wall time unless named cpu. ``realtime``: within a turn, frame i is handled no earlier
    than a 30 fps camera delivers it, so the asynchronous tracker's thread gets the time a station gives
    it (more when the virtual bench renders frames slower than that: ``frames_late``). At the end of a
    turn the tracker's thread finishes its crop outside the timing.
    """

    def __init__(self, seconds: float, tracker: str | None, realtime: bool = True) -> None:
        self.seconds, self.tracker_mode, self.realtime = seconds, tracker, realtime
        sc = load_scenario("led_basic")
        ins = sc.load_instruction()
        self.vb = vb = VirtualBench(sc, ins)
        self.cal = cal = calibrate_sim(vb)
        self.per = per = Perception(ins, cal, sc.variant)
        self.buttons = TouchButtons(default_layout(ins))
        self.trk: MediaPipeHandTracker | None = None
        if tracker is not None:
            cfg = TrackerConfig(asynchronous=tracker == "asynchronous")
            self.trk = MediaPipeHandTracker(cal, cfg, foreground=per.arms)
            per.hand_detectors = (self.trk,)
            self.trk.set_focus(self.buttons.focus_areas())
        self.eng = StepEngine(ins, sc.variant, max_cycles=sc.cycles)
        self.rend = Renderer(ins, cal, sc.variant)
        self.obs: Observation | None = None
        self.ms: list[float] = []
        self.pms: list[float] = []
        self.cpu: list[float] = []
        self.proc_ms = 0.0
        self.late = 0
        self.loads: list[float] = []
        self.turn_latency_ms: list[float] = []  # of landmarks fused in a turn's first frame (paused between)
        self._handle(self.eng.start(0.0))

    def _handle(self, evs: list[LogEvent]) -> None:
        follow_steps(self.per, self.eng, evs)

    @property
    def done(self) -> bool:
        vb, eng = self.vb, self.eng
        return vb.finished or vb.t >= self.seconds or eng.state.phase is Phase.FINISHED

    def run(self, frames: int) -> None:
        vb, per, eng, rend, buttons = self.vb, self.per, self.eng, self.rend, self.buttons
        self.loads.append(float(load_average()[0]) if load_average() else float("nan"))
        proc0 = time.process_time()
        base: float | None = None
        n_lat = len(self.trk.stats.latency_ms) if self.trk is not None else 0
        for i in range(frames):
            if self.done:
                break
            state = eng.state
            vb.show_step(state.step_uid if state.phase is not Phase.DONE else None, state.cycle)
            pj = rend.render(state, self.obs)
            draw_touch_buttons(pj, buttons.buttons, buttons.progress(), self.cal.proj_from_bench)
            frame = vb.next_frame(pj)
            if base is None:
                base = time.perf_counter() - frame.t
            elif self.realtime:
                wait = base + frame.t - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                else:
                    self.late += 1
            c0 = time.thread_time()
            t0 = time.perf_counter()
            obs = self.obs = per.process(frame, pj)
            t1 = time.perf_counter()
            for ev in buttons.update(obs, frame.t):
                self._handle(eng.handle_input(ev))
            self._handle(eng.update(obs))
            rend.render(eng.state, obs)
            self.ms.append((time.perf_counter() - t0) * 1000.0)
            self.cpu.append((time.thread_time() - c0) * 1000.0)
            self.pms.append((t1 - t0) * 1000.0)
            for ev in vb.inputs():
                self._handle(eng.handle_input(ev))
            if i == 0 and self.trk is not None:
                self.turn_latency_ms += self.trk.stats.latency_ms[n_lat:]
                del self.trk.stats.latency_ms[n_lat:]
        if self.trk is not None:
            self.trk.wait_idle(30.0)
        self.proc_ms += (time.process_time() - proc0) * 1000.0

    def result(self) -> dict[str, object]:
        if self.trk is not None:
            self.trk.close()
        out: dict[str, object] = {
            "tracker": self.tracker_mode or "none",
            "frames": len(self.ms),
            "paced_at_30fps": self.realtime,
            "frames_late": self.late,  # the virtual bench rendered the frame after its due time
            "loop_ms_main_thread": stats(self.ms),  # perception (+ tracker's part) + touch + engine + render
            "perception_ms_main_thread": stats(self.pms),
            # CPU time of the loop's thread per frame: what the loop costs without waiting for a core
            "loop_cpu_ms_main_thread": stats(self.cpu),
            # CPU of the whole process (all threads: loop, MediaPipe's, the virtual bench's) per frame
            "process_cpu_ms_per_frame_incl_sim": round(self.proc_ms / max(1, len(self.ms)), 2),
            **budget_figures(self.ms, self.loads),
        }
        if self.trk is not None:
            out.update(tracker_figures(self.trk))
        return out


def loop(seconds: float, tracker: str | None, realtime: bool = True) -> dict[str, object]:
    """One loop on its own (see ``LoopRun``)."""
    run = LoopRun(seconds, tracker, realtime)
    while not run.done:
        run.run(10**9)
    return run.result()


def loops_taking_turns(
    seconds: float, trackers: list[str | None], realtime: bool = True, turn_s: float = 3.0
) -> dict[str, dict[str, object]]:
    """The loops of ``trackers`` taking turns of ``turn_s`` simulated seconds each, so that all of them
    run under the same load (the machine may be busy with other work)."""
    runs = {str(t or "none"): LoopRun(seconds, t, realtime) for t in trackers}
    n = max(1, round(turn_s * 30))
    while not all(r.done for r in runs.values()):
        for r in runs.values():
            if not r.done:
                r.run(n)
    return {k: r.result() for k, r in runs.items()}


# --- the virtual bench in a process of its own -------------------------------------------------------
#
# The loop process runs the station's work only; the bench process (this script's main process) holds
# the virtual benches and renders each camera frame when the loop asks for it, lit by the image the loop
# projected last (lock-step, as oss.station.sim_link). Images go through shared memory, the rest through
# a pipe. While the bench renders, the loop process is stopped (SIGSTOP, all its threads: loop, MediaPipe,
# OpenCV) and the time it was stopped is taken off its clock, so that to the loop process the frames
# come every 33.3 ms as from a 30 fps camera, and the bench's CPU never runs beside the station's work.

CAN_FREEZE = hasattr(signal, "SIGSTOP") and hasattr(os, "WUNTRACED")


class FrozenClock:
    """``time.perf_counter`` of the loop process less the time it was stopped while the bench rendered
    (``frozen``: seconds, a shared double the bench process adds to before it lets the loop go on)."""

    def __init__(self, frozen: Any) -> None:
        self.frozen = frozen

    def __call__(self) -> float:
        while True:  # a freeze between the two reads would pair the clock with a stale total: read again
            f = self.frozen.value
            t = time.perf_counter()
            if self.frozen.value == f:
                return t - f


class _TimeWithClock:
    """Stands in for the ``time`` module inside ``oss.perception.mediapipe_hands`` in the loop process, so
    that MediaPipe's per-run times and the landmark latencies leave out the freezes too."""

    def __init__(self, clock: FrozenClock) -> None:
        self.perf_counter = clock

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


class BenchLink:
    """The loop process's end of one virtual bench (camera, pedal and operator) in the bench process."""

    def __init__(
        self, conn: Connection, key: str, cam: SharedMemory, proj: SharedMemory, shapes: Any
    ) -> None:
        self.conn, self.key = conn, key
        self.cam: np.ndarray = np.ndarray(shapes[0], np.uint8, buffer=cam.buf)
        self.proj: np.ndarray = np.ndarray(shapes[1], np.uint8, buffer=proj.buf)
        self.t, self.finished = 0.0, False

    def next_frame(
        self, shown: np.ndarray, step_uid: str | None, cycle: int
    ) -> tuple[Frame, list[InputEvent], float]:
        """The next camera frame lit by ``shown``, the pedal presses made meanwhile, and the bench's ms
        for it (the loop process was stopped that long)."""
        self.proj[...] = shown
        self.conn.send(("frame", self.key, step_uid, cycle))
        reply = self.conn.recv()
        if reply[0] != "frame":
            raise RuntimeError(f"bench process: {reply}")
        _, t, index, source, inputs, self.finished, self.t, bench_ms = reply
        return Frame(self.cam.copy(), t, index, source), inputs, bench_ms

    def release(self) -> None:
        """Drop the views of the shared memory (before it is closed)."""
        self.cam = self.proj = np.zeros((0, 0, 3), np.uint8)


class StationLoop:
    """The station's work per frame (as ``Station.tick`` times it: perception with the tracker's part,
    touch, engine, render with the touch buttons drawn and the hands blacked out) on a virtual bench in
    another process (``BenchLink``). Times are on ``clock`` (see ``FrozenClock``). ``realtime``: frames
    are handled as a live 30 fps camera delivers them on that clock (see the module docstring); else as
    fast as the loop goes. ``run(frames)`` goes on for that many frames (turns, as ``LoopRun``)."""

    def __init__(
        self,
        seconds: float,
        tracker: str | None,
        realtime: bool,
        cal: Any,
        link: BenchLink,
        clock: FrozenClock,
    ) -> None:
        self.seconds, self.tracker_mode, self.realtime = seconds, tracker, realtime
        self.link, self.clock, self.cal = link, clock, cal
        sc = load_scenario("led_basic")
        ins = sc.load_instruction()
        self.per = per = Perception(ins, cal, sc.variant)
        self.buttons = TouchButtons(default_layout(ins))
        self.trk: MediaPipeHandTracker | None = None
        if tracker is not None:
            self.trk = MediaPipeHandTracker(
                cal, TrackerConfig(asynchronous=tracker == "asynchronous"), foreground=per.arms
            )
            per.hand_detectors = (self.trk,)
            self.trk.set_focus(self.buttons.focus_areas())
        self.eng = StepEngine(ins, sc.variant, max_cycles=sc.cycles)
        self.rend = Renderer(ins, cal, sc.variant)
        self.obs: Observation | None = None
        self.ms: list[float] = []  # the work per frame (perception ... render)
        self.pms: list[float] = []
        self.cpu: list[float] = []
        self.it_ms: list[float] = []  # from one frame's arrival to the next (work + waiting), loop's clock
        self.it_wall_ms: list[float] = []  # the same in wall time: with the bench's rendering
        self.bench_ms: list[float] = []
        self.proc_ms = 0.0
        self.late = 0
        self.skipped = 0
        self.loads: list[float] = []
        self._handle(self.eng.start(0.0))
        self.shown = self._image(None)

    def _handle(self, evs: list[LogEvent]) -> None:
        follow_steps(self.per, self.eng, evs)

    def _image(self, obs: Observation | None) -> np.ndarray:
        img = self.rend.render(self.eng.state, obs)
        draw_touch_buttons(img, self.buttons.buttons, self.buttons.progress(), self.cal.proj_from_bench)
        self.rend.blackout_hands(img, obs)
        return img

    @property
    def done(self) -> bool:
        link = self.link
        return link.finished or link.t >= self.seconds or self.eng.state.phase is Phase.FINISHED

    def run(self, frames: int) -> None:
        per, eng, buttons, clock = self.per, self.eng, self.buttons, self.clock
        la = load_average()
        self.loads.append(float(la[0]) if la else float("nan"))
        proc0 = time.process_time()
        period = 1.0 / 30.0
        tick: float | None = None  # when the camera took the frame in hand (loop's clock)
        prev: tuple[float, float] | None = None
        for _ in range(frames):
            if self.done:
                break
            state = eng.state
            step = state.step_uid if state.phase is not Phase.DONE else None
            frame, inputs, bench_ms = self.link.next_frame(self.shown, step, state.cycle)
            self.bench_ms.append(bench_ms)
            now = clock()
            if tick is None:
                tick = now
            elif self.realtime:
                due = tick + period
                if now >= due:  # late: a live camera hands out its newest frame, taken at the last tick
                    self.late += 1
                    skipped = math.floor((now - due) / period)
                    self.skipped += skipped
                    tick = due + skipped * period
                else:
                    while (wait := due - clock()) > 0:  # stopped while sleeping: sleep on
                        time.sleep(wait)
                    tick = due
            t0, w0 = clock(), time.perf_counter()
            if prev is not None:
                self.it_ms.append((t0 - prev[0]) * 1000.0)
                self.it_wall_ms.append((w0 - prev[1]) * 1000.0)
            prev = (t0, w0)
            for ev in inputs:  # the pedal, handled before the frame (Station.tick)
                self._handle(eng.handle_input(ev))
            c0 = time.thread_time()
            t0 = clock()
            obs = self.obs = per.process(frame, self.shown)
            t1 = clock()
            for ev in buttons.update(obs, frame.t):
                self._handle(eng.handle_input(ev))
            self._handle(eng.update(obs))
            image = self._image(obs)
            t2 = clock()
            self.ms.append((t2 - t0) * 1000.0)
            self.cpu.append((time.thread_time() - c0) * 1000.0)
            self.pms.append((t1 - t0) * 1000.0)
            self.shown = image
        if self.trk is not None:
            self.trk.wait_idle(30.0)
        self.proc_ms += (time.process_time() - proc0) * 1000.0

    def result(self, freeze: bool) -> dict[str, object]:
        if self.trk is not None:
            self.trk.close()
        out: dict[str, object] = {
            "tracker": self.tracker_mode or "none",
            "bench": "separate process, loop process stopped while it renders"
            if freeze
            else "separate process",
            "frames": len(self.ms),
            "paced_at_30fps": self.realtime,
            "frames_late": self.late,  # the loop's work on the frame before ran past this one's due time
            # frames a live camera (newest frame only) would have dropped meanwhile (lock-step: not rendered)
            "camera_frames_skipped": self.skipped,
            # perception (+ tracker's part) + touch + engine + render, buttons, hand blackout (Station.tick)
            "loop_ms_main_thread": stats(self.ms),
            "perception_ms_main_thread": stats(self.pms),
            "loop_cpu_ms_main_thread": stats(self.cpu),
            # from a frame's arrival to the next one's: the work and the wait for the camera (loop's clock)
            "iteration_ms_incl_wait": stats(self.it_ms) if self.it_ms else None,
            # the same in wall time, with the bench rendering the frame while the loop process waits
            "iteration_wall_ms_incl_bench_render": stats(self.it_wall_ms) if self.it_wall_ms else None,
            "bench_render_ms_per_frame": stats(self.bench_ms),
            # CPU of the loop process (loop, MediaPipe's and OpenCV's threads; no rendering) per frame
            "process_cpu_ms_per_frame_loop_process": round(self.proc_ms / max(1, len(self.ms)), 2),
            **budget_figures(self.ms, self.loads),
        }
        if self.trk is not None:
            out.update(tracker_figures(self.trk))
        return out


def _loop_process(
    conn: Connection,
    seconds: float,
    trackers: list[str | None],
    realtime: bool,
    turn_s: float,
    freeze: bool,
    cals: dict[str, Any],
    shm_names: dict[str, tuple[str, str]],
    shapes: Any,
    frozen: Any,
) -> None:
    """The loop process: the loops of ``trackers`` taking turns, each on its bench in the bench process."""
    clock = FrozenClock(frozen)
    mediapipe_hands.time = _TimeWithClock(clock)  # type: ignore[assignment]
    shms = {k: (SharedMemory(name=c), SharedMemory(name=p)) for k, (c, p) in shm_names.items()}
    links = {k: BenchLink(conn, k, c, p, shapes) for k, (c, p) in shms.items()}
    try:
        runs = {
            str(t or "none"): StationLoop(
                seconds, t, realtime, cals[str(t or "none")], links[str(t or "none")], clock
            )
            for t in trackers
        }
        n = max(1, round(turn_s * 30))
        while not all(r.done for r in runs.values()):
            for r in runs.values():
                if not r.done:
                    r.run(n)
        conn.send(("result", {k: r.result(freeze) for k, r in runs.items()}))
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        raise
    finally:
        for link in links.values():
            link.release()
        _close(*(s for pair in shms.values() for s in pair))


def _close(*shms: SharedMemory, unlink: bool = False) -> None:
    for s in shms:
        with contextlib.suppress(
            BufferError
        ):  # an image still points into it (a traceback): unmapped at exit
            s.close()
        if unlink:
            s.unlink()


def _stop(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)
    _, status = os.waitpid(pid, os.WUNTRACED)  # returns once every thread of it has stopped
    if not os.WIFSTOPPED(status):
        raise RuntimeError(f"the loop process ended (wait status {status})")


def loops_bench_process(
    seconds: float,
    trackers: list[str | None],
    realtime: bool = True,
    turn_s: float = 3.0,
    freeze: bool = True,
) -> dict[str, dict[str, object]]:
    """As ``loops_taking_turns``, with the loops in a process of their own (spawned) and their virtual
    benches here; ``freeze``: the loop process is stopped while a bench renders (see ``FrozenClock``)."""
    freeze = freeze and CAN_FREEZE
    ctx = mp.get_context("spawn")
    benches: dict[str, VirtualBench] = {}
    cals: dict[str, Any] = {}
    for t in trackers:
        k = str(t or "none")
        sc = load_scenario("led_basic")
        benches[k] = vb = VirtualBench(sc, sc.load_instruction())
        cals[k] = calibrate_sim(vb)  # the station's calibration, before the loop
    vb0 = next(iter(benches.values()))
    (cw, ch), (pw, ph) = vb0.camera_size, vb0.projector_size
    shapes = ((ch, cw, 3), (ph, pw, 3))
    shms = {
        k: (SharedMemory(create=True, size=ch * cw * 3), SharedMemory(create=True, size=ph * pw * 3))
        for k in benches
    }
    views: dict[str, tuple[np.ndarray, np.ndarray]] = {
        k: (np.ndarray(shapes[0], np.uint8, buffer=c.buf), np.ndarray(shapes[1], np.uint8, buffer=p.buf))
        for k, (c, p) in shms.items()
    }
    frozen = ctx.RawValue("d", 0.0)
    conn, child_conn = ctx.Pipe()
    names = {k: (c.name, p.name) for k, (c, p) in shms.items()}
    args = (child_conn, seconds, trackers, realtime, turn_s, freeze, cals, names, shapes, frozen)
    proc = ctx.Process(target=_loop_process, args=args, name="station-loop", daemon=True)
    proc.start()
    child_conn.close()
    pid = proc.pid
    assert pid is not None
    stopped = False
    try:
        while True:
            if not conn.poll(1.0):
                if not proc.is_alive():
                    raise RuntimeError(f"the loop process ended (exit code {proc.exitcode})")
                continue
            msg = conn.recv()
            if msg[0] == "result":
                return msg[1]
            if msg[0] == "error":
                raise RuntimeError("the loop process failed:\n" + msg[1])
            _, k, step_uid, cycle = msg
            vb, (cam, proj) = benches[k], views[k]
            f0 = time.perf_counter()
            if freeze:
                _stop(pid)
                stopped = True
            try:
                vb.show_step(step_uid, cycle)
                frame = vb.next_frame(proj)
                cam[...] = frame.image
                inputs = vb.inputs()
            finally:
                f1 = time.perf_counter()
                if stopped:
                    frozen.value += f1 - f0  # before it goes on: its clock never sees the freeze
                    os.kill(pid, signal.SIGCONT)
                    stopped = False
            conn.send(
                ("frame", frame.t, frame.index, frame.source, inputs, vb.finished, vb.t, (f1 - f0) * 1000.0)
            )
    finally:
        if stopped:
            os.kill(pid, signal.SIGCONT)
        conn.close()  # a loop process still waiting for a frame gets EOFError
        proc.join(30.0)
        if proc.is_alive():
            proc.terminate()
            proc.join(5.0)
        views.clear()
        _close(*(s for pair in shms.values() for s in pair), unlink=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0, help="simulated seconds of the loop benchmark")
    ap.add_argument("--skip-photos", action="store_true")
    ap.add_argument("--skip-touch", action="store_true", help="no touch latency and mask effect runs")
    ap.add_argument("--no-sync-loop", action="store_true", help="skip the loop with the synchronous tracker")
    ap.add_argument("--unpaced", action="store_true", help="handle frames as fast as possible")
    ap.add_argument(
        "--in-process-bench",
        action="store_true",
        help="the loop benchmark with the virtual bench rendering in the loop's own process and thread "
        "(the earlier figure; its rendering takes the place of the loop's idle time)",
    )
    ap.add_argument(
        "--no-freeze",
        action="store_true",
        help="bench in its own process, but the loop process is not stopped while it renders (MediaPipe's "
        "thread runs beside the rendering; frames come late when the work and the rendering exceed 33 ms)",
    )
    args = ap.parse_args()
    out: dict[str, object] = {"benchmark": "hands", "load_average_at_start": load_average()}
    if not args.skip_photos and photo_paths():
        out["real_photos"] = photos()
        out["mask_effect_real_photos"] = photo_mask_effect()
    if not args.skip_touch:
        st = S.sim_station()
        out["touch_sim"] = touch(st, asynchronous=True)
        out["touch_sim_synchronous_tracker"] = touch(st, asynchronous=False)
        out["mask_effect_sim"] = sim_mask_effect(st)
    paced = not args.unpaced
    modes: list[str | None] = [None, "asynchronous"] + ([] if args.no_sync_loop else ["synchronous"])
    if args.in_process_bench:
        loops = loops_taking_turns(args.seconds, modes, paced)  # in turns: the same load for each
    else:
        loops = loops_bench_process(args.seconds, modes, paced, freeze=not args.no_freeze)
    out["loop_without_tracker"] = loops["none"]
    out["loop_with_tracker"] = loops["asynchronous"]
    if "synchronous" in loops:
        out["loop_with_tracker_synchronous"] = loops["synchronous"]
    out["load_average"] = load_average()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
