"""Hand tracking figures as JSON: real photos against MediaPipe's reference, the hand-aware mask's effect,
touch latency, and time per frame of perception with the MediaPipe tracker on the virtual bench.

.venv/bin/python benchmarks/bench_hands.py [--seconds 30] [--skip-photos]
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


def stats(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {"median": round(float(np.median(a)), 2), "p95": round(float(np.percentile(a, 95)), 2)}


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
    hand area blacked out of the projection and without."""
    c = st.button(Button.NEXT).center_mm
    out: dict[str, object] = {}
    for mask in (False, True):
        runs = found = 0
        for script in (S.press(c), S.pass_over(c), S.rest_across(c)):
            r = S.run_motion(st, script, mask=mask, pattern=True, tracker_config=TrackerConfig(idle_every=1))
            assert r.tracker is not None
            runs += r.tracker.stats.runs
            found += r.tracker.stats.found
        out["masked" if mask else "unmasked"] = {"runs": runs, "found": found, "rate": round(found / runs, 3)}
    return out


def touch(st: S.SimStation) -> dict[str, object]:
    out: dict[str, object] = {}
    lat = []
    for name in ("NEXT", "BACK", "HELP"):
        b = st.button(Button[name])
        r = S.run_motion(st, S.press(b.center_mm))
        ev = [(e.button.value, round(e.t - r.marks["arrive"], 3)) for e in r.events]
        out[f"press_{name.lower()}"] = ev
        lat += [t for _, t in ev]
    c = st.button(Button.NEXT).center_mm
    out["pass_over_events"] = len(S.run_motion(st, S.pass_over(c)).events)
    out["rest_across_events"] = len(S.run_motion(st, S.rest_across(c)).events)
    out["latency_s_arrival_to_event"] = {
        "mean": round(float(np.mean(lat)), 3),
        "max": round(float(max(lat)), 3),
    }
    return out


def loop(seconds: float, with_tracker: bool) -> dict[str, object]:
    """The station's per-frame work on the virtual bench: perception (+ tracker) + touch + engine + render."""
    sc = load_scenario("led_basic")
    ins = sc.load_instruction()
    vb = VirtualBench(sc, ins)
    cal = calibrate_sim(vb)
    per = Perception(ins, cal, sc.variant)
    buttons = TouchButtons(default_layout(ins))
    trk = None
    if with_tracker:
        trk = MediaPipeHandTracker(cal, foreground=per.arms)
        per.hand_detectors = (trk,)
        trk.set_focus(buttons.focus_areas())
    eng = StepEngine(ins, sc.variant, max_cycles=sc.cycles)
    rend = Renderer(ins, cal, sc.variant)

    def handle(evs: list[LogEvent]) -> None:
        for ev in evs:
            if ev.kind == "cycle_start":
                per.begin_unit()
            elif ev.kind == "step_start" and eng.current_step is not None:
                per.begin_run_step(eng.current_step)

    handle(eng.start(0.0))
    obs: Observation | None = None
    ms: list[float] = []
    pms: list[float] = []
    while not vb.finished and vb.t < seconds and eng.state.phase is not Phase.FINISHED:
        state = eng.state
        vb.show_step(state.step_uid if state.phase is not Phase.DONE else None, state.cycle)
        pj = rend.render(state, obs)
        draw_touch_buttons(pj, buttons.buttons, buttons.progress(), cal.proj_from_bench)
        frame = vb.next_frame(pj)
        t0 = time.perf_counter()
        obs = per.process(frame, pj)
        t1 = time.perf_counter()
        for ev in buttons.update(obs, frame.t):
            handle(eng.handle_input(ev))
        handle(eng.update(obs))
        rend.render(eng.state, obs)
        ms.append((time.perf_counter() - t0) * 1000.0)
        pms.append((t1 - t0) * 1000.0)
        for ev in vb.inputs():
            handle(eng.handle_input(ev))
    out: dict[str, object] = {"frames": len(ms), "loop_ms": stats(ms), "perception_ms": stats(pms)}
    if trk is not None:
        out["tracker_ms_all_frames"] = stats(trk.stats.detect_ms)
        runs = set(trk.stats.run_frames)
        run_ms = [m for i, m in enumerate(trk.stats.detect_ms, 1) if i in runs]
        out["tracker_ms_frames_with_a_mediapipe_run"] = stats(run_ms) if run_ms else None
        out["mediapipe_runs"] = trk.stats.runs
        out["mediapipe_found"] = trk.stats.found
        trk.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0, help="simulated seconds of the loop benchmark")
    ap.add_argument("--skip-photos", action="store_true")
    args = ap.parse_args()
    out: dict[str, object] = {"benchmark": "hands"}
    if not args.skip_photos and photo_paths():
        out["real_photos"] = photos()
        out["mask_effect_real_photos"] = photo_mask_effect()
    st = S.sim_station()
    out["touch_sim"] = touch(st)
    out["mask_effect_sim"] = sim_mask_effect(st)
    out["loop_without_tracker"] = loop(args.seconds, False)
    out["loop_with_tracker"] = loop(args.seconds, True)
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    out["load_average"] = load
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
