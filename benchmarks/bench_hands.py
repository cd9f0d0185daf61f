"""Hand tracking figures as JSON: real photos against MediaPipe's reference, the hand-aware mask's effect,
touch latency, and time per frame of the station loop with the MediaPipe tracker on the virtual bench
(asynchronous, as the station runs it, and synchronous for comparison), with the load average.

.venv/bin/python benchmarks/bench_hands.py [--seconds 30] [--skip-photos] [--skip-touch] [--no-sync-loop]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from oss.engine.engine import StepEngine  # noqa: E402
from oss.hands_cli import detect_files  # noqa: E402
from oss.perception.landmarks import LandmarkerOptions, StillImageHands  # noqa: E402
from oss.perception.mediapipe_hands import MediaPipeHandTracker, TrackerConfig  # noqa: E402
from oss.perception.pipeline import Perception  # noqa: E402
from oss.perception.touch import TouchButtons, default_layout, draw_touch_buttons  # noqa: E402
from oss.records import Button, LogEvent, Observation, Phase  # noqa: E402
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
        for ev in evs:
            if ev.kind == "cycle_start":
                self.per.begin_unit()
            elif ev.kind == "step_start" and self.eng.current_step is not None:
                self.per.begin_run_step(self.eng.current_step)

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
        a = np.asarray(self.ms)
        loads = np.asarray(self.loads)
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
            "frame_budget_ms": round(FRAME_BUDGET_MS, 1),
            "frames_over_budget": round(float(np.mean(a > FRAME_BUDGET_MS)), 3),
            "load_average_1min_at_turns": {
                "min": round(float(loads.min()), 2),
                "mean": round(float(loads.mean()), 2),
                "max": round(float(loads.max()), 2),
            },
        }
        if self.trk is not None:
            st = self.trk.stats
            runs = set(st.run_frames)
            sub_ms = [m for i, m in enumerate(st.detect_ms, 1) if i in runs]
            out["tracker_detect_ms_main_thread_all_frames"] = stats(st.detect_ms)
            out["tracker_detect_ms_main_thread_frames_with_a_crop"] = stats(sub_ms) if sub_ms else None
            where = "tracker_thread" if self.trk.asynchronous else "main_thread"
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
                    "histogram": {
                        str(k): int(v) for k, v in zip(*np.unique(lf, return_counts=True), strict=True)
                    },
                }
            if st.latency_ms:  # submitted → fused, wall; without results that waited out another loop's turn
                out["landmark_latency_ms_submit_to_use"] = stats(st.latency_ms)
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0, help="simulated seconds of the loop benchmark")
    ap.add_argument("--skip-photos", action="store_true")
    ap.add_argument("--skip-touch", action="store_true", help="no touch latency and mask effect runs")
    ap.add_argument("--no-sync-loop", action="store_true", help="skip the loop with the synchronous tracker")
    ap.add_argument("--unpaced", action="store_true", help="handle frames as fast as possible")
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
    loops = loops_taking_turns(args.seconds, modes, paced)  # in turns: the same load for each
    out["loop_without_tracker"] = loops["none"]
    out["loop_with_tracker"] = loops["asynchronous"]
    if "synchronous" in loops:
        out["loop_with_tracker_synchronous"] = loops["synchronous"]
    out["load_average"] = load_average()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
