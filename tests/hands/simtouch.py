"""Touch buttons on the virtual bench: a scripted fingertip, the sim's camera, perception, MediaPipe.

The sim's scripted operator uses a pedal, so these runs script the hand themselves: a ``Timeline`` of
fingertip moves (``oss.sim.motion``) drawn as an arm (``oss.sim.body.arm``) by the sim's
``CameraRenderer`` under a projector image that shows the touch buttons with their rings, the hand
area blacked out as the station's renderer does (``mask=False`` leaves it lit, ``pattern`` projects a
bright busy image everywhere, for the mask experiment).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from oss.calibration.model import Calibration
from oss.instructions.model import Instruction
from oss.perception.mediapipe_hands import MediaPipeHandTracker, TrackerConfig
from oss.perception.pipeline import Perception
from oss.perception.touch import TouchButton, TouchButtons, default_layout, draw_touch_buttons
from oss.records import Button, Frame, InputEvent, Observation
from oss.sim import body
from oss.sim.bench import VirtualBench
from oss.sim.motion import Timeline
from oss.sim.scenario import load_scenario
from oss.station.sim_link import calibrate_sim

SKIN = (124, 151, 198)
SLEEVE = (92, 62, 45)
OPERATOR_X = 600.0
MASK_MARGIN_MM = 15.0


@dataclass
class SimStation:
    bench: VirtualBench
    instruction: Instruction
    calibration: Calibration
    buttons: tuple[TouchButton, ...]

    def button(self, b: Button) -> TouchButton:
        return next(x for x in self.buttons if x.id == b)


def sim_station(scenario: str = "led_basic") -> SimStation:
    sc = load_scenario(scenario)
    ins = sc.load_instruction()
    vb = VirtualBench(sc, ins)
    cal = calibrate_sim(vb)
    return SimStation(vb, ins, cal, default_layout(ins))


def pattern_image(size: tuple[int, int]) -> np.ndarray:
    """A bright, busy projection: coloured bars and text lines (the worst case for MediaPipe)."""
    w, h = size
    img = np.zeros((h, w, 3), np.uint8)
    cols = [(255, 255, 255), (0, 220, 0), (255, 255, 0), (0, 0, 255), (255, 0, 255), (0, 200, 255)]
    for i, x in enumerate(range(0, w, 48)):
        img[:, x : x + 30] = cols[i % len(cols)]
    for y in range(40, h, 70):
        cv2.putText(
            img, "STEP 3/12 PLACE THE LED MODULE", (10, y), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (255, 255, 255), 4
        )
    return img


@dataclass
class SimTouchRun:
    events: list[InputEvent] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    perception_ms: list[float] = field(default_factory=list)  # perception incl. MediaPipe, per frame
    touch_ms: list[float] = field(default_factory=list)
    tracker: MediaPipeHandTracker | None = None
    marks: dict[str, float] = field(default_factory=dict)  # timeline events (e.g. 'arrive') by kind


def run_motion(
    st: SimStation,
    script: Callable[[Timeline], None],
    *,
    start: tuple[float, float, float] = (760.0, 110.0, 40.0),
    tail_s: float = 0.3,
    mask: bool = True,
    pattern: bool = False,
    tracker: bool = True,
    tracker_config: TrackerConfig | None = None,
    seed: int = 0,
    realtime: bool = False,
) -> SimTouchRun:
    """Render the fingertip path ``script`` builds (from ``start``) frame by frame and run perception,
    the MediaPipe tracker and the touch buttons on it. ``realtime``: a frame is not handled before its
    time (as from a camera at the bench's fps), so an asynchronous tracker gets no more time per frame
    than it would at a station (it gets more when the machine cannot render the frames that fast)."""
    vb, cal = st.bench, st.calibration
    tl = Timeline(0.0, np.asarray(start, np.float64), 0.0, None, 900.0, 0.0, np.random.default_rng(seed))
    script(tl)
    per = Perception(st.instruction, cal, vb.scenario.variant)
    trk = None
    if tracker:
        trk = MediaPipeHandTracker(cal, tracker_config, foreground=per.arms)
        per.hand_detectors = (trk,)
    touch = TouchButtons(st.buttons)
    if trk is not None:
        trk.set_focus(touch.focus_areas())
    per.begin_unit()
    pw, ph = cal.projector_size
    base = pattern_image((pw, ph)) if pattern else np.full((ph, pw, 3), 40, np.uint8)
    rng = np.random.default_rng(seed + 7)
    run = SimTouchRun(tracker=trk, marks={e.kind: e.t for e in tl.events})
    vb._refresh_scene()
    exp = vb.scenario.camera.exposure_ms / 1000.0
    obs: Observation | None = None
    n = int((tl.end + tail_s) * vb.fps)
    wall0 = time.perf_counter()
    for i in range(n):
        t = i / vb.fps
        proj = base.copy()
        draw_touch_buttons(proj, st.buttons, touch.progress(), cal.proj_from_bench)
        if mask and obs is not None:
            for poly in obs.hand_mask_mm:
                _fill_grown(proj, poly, cal.proj_from_bench)
        tip, grip, _, vel = tl.state(t)
        blobs, _ = body.arm(tip, "right", OPERATOR_X, SKIN, SLEEVE, grip)
        a, b = vb.cam.project(np.stack([tip, tip + vel * exp]))
        img = vb.renderer.render(proj, blobs, 1.0, (b[0] - a[0], b[1] - a[1]), rng)
        if realtime and (wait := wall0 + t - time.perf_counter()) > 0:
            time.sleep(wait)
        t0 = time.perf_counter()
        obs = per.process(Frame(img, t, i, "sim:touch"), proj)
        t1 = time.perf_counter()
        run.events += touch.update(obs, t)
        run.touch_ms.append((time.perf_counter() - t1) * 1000.0)
        run.perception_ms.append((t1 - t0) * 1000.0)
        run.observations.append(obs)
    if trk is not None:
        trk.close()
    per.close()
    return run


def _fill_grown(img: np.ndarray, poly: tuple[tuple[float, float], ...], h: np.ndarray) -> None:
    pts = np.asarray(poly, np.float64)
    c = pts.mean(axis=0)
    d = pts - c
    n = np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-6)[:, None]
    grown = pts + d / n * MASK_MARGIN_MM
    px = cv2.perspectiveTransform(grown.reshape(-1, 1, 2), h).reshape(-1, 2)
    cv2.fillPoly(img, [np.round(px * 8).astype(np.int32)], (0, 0, 0), cv2.LINE_AA, shift=3)


# --- the three scripted motions ---------------------------------------------------------------------


def press(centre: tuple[float, float], hold_s: float = 1.2) -> Callable[[Timeline], None]:
    """Reach to the button, rest the fingertip on it, go back."""

    def script(tl: Timeline) -> None:
        tl.hold(0.3, vary=False)
        tl.move(np.array([centre[0], centre[1], 4.0]))
        tl.event("arrive")
        tl.hold(hold_s, vary=False)
        tl.move(np.array([760.0, 110.0, 40.0]))

    return script


def pass_over(centre: tuple[float, float]) -> Callable[[Timeline], None]:
    """A reach that passes over the button on its way (low over the bench) without stopping."""

    def script(tl: Timeline) -> None:
        tl.hold(0.3, vary=False)
        tl.move(
            np.array([centre[0] + 60.0, centre[1] + 190.0, 10.0]), via=np.array([centre[0], centre[1], 8.0])
        )
        tl.hold(0.4, vary=False)
        tl.move(np.array([760.0, 110.0, 40.0]), via=np.array([centre[0], centre[1], 8.0]))

    return script


def rest_across(
    centre: tuple[float, float], beyond_mm: float = 130.0, hold_s: float = 2.5
) -> Callable[[Timeline], None]:
    """The hand rests with its palm on the button, the fingertips ``beyond_mm`` past it."""
    shoulder = body.shoulder_for("right", OPERATOR_X)[:2]
    d = np.asarray(centre) - shoulder
    d = d / np.hypot(*d)
    tip = np.asarray(centre) + d * beyond_mm

    def script(tl: Timeline) -> None:
        tl.hold(0.3, vary=False)
        tl.move(np.array([tip[0], tip[1], 4.0]))
        tl.hold(hold_s, vary=False)

    return script
