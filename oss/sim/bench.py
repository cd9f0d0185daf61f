"""The virtual bench: a simulated camera, projector, bench and operator in one closed loop.

Each ``next_frame(projector_image)`` advances simulated time by one camera frame: the operator moves,
parts appear where they are put down, scripted disturbances happen, and the camera image shows all of it
lit by the ambient light and by ``projector_image`` warped through the projector's true geometry.
Everything is driven by one seeded random generator; no wall clock is read.
"""

from __future__ import annotations

import math

import numpy as np

from oss.calibration.model import Calibration
from oss.instructions.model import Instruction
from oss.records import Button, Frame, InputEvent
from oss.sim import body
from oss.sim.geometry import Pinhole, auto_focal
from oss.sim.operator import PRODUCT, Operator
from oss.sim.render import CameraRenderer
from oss.sim.scenario import OPERATOR_DEVIATIONS, Deviation, Scenario, check_scenario
from oss.sim.scene import BGR, BenchScene, Placed, Pose, hex_bgr, placed_in_bench, zone_polygon
from oss.sim.tracker import Tracker
from oss.sim.truth import EventTruth, GroundTruth

LEAN_RAMP_S = 0.8


def build_devices(scenario: Scenario, instruction: Instruction) -> tuple[Pinhole, Pinhole]:
    """The true camera and projector of a scenario, defaults filled in (see docs/scenario-format.md)."""
    bw, bd = instruction.bench.width_mm, instruction.bench.depth_mm
    c, p = scenario.camera, scenario.projector
    cpos = c.position_mm or (bw / 2, bd * 0.32, max(1.2 * bw, 1300.0))
    clook = c.look_at_mm or (bw / 2, bd / 2)
    cf = c.focal_px or auto_focal(c.size, cpos, clook, (0, 0, bw, bd), c.fill, c.roll_deg)
    cam = Pinhole(c.size, cpos, clook, cf, c.roll_deg, 0.0, (c.k1, c.k2, 0.0, 0.0, 0.0))
    ppos = p.position_mm or (bw / 2 + 0.04 * bw, bd * 0.62, max(1.25 * bw, 1350.0))
    plook = p.look_at_mm or (bw / 2, bd / 2)
    pf = p.focal_px or auto_focal(p.size, ppos, plook, (0, 0, bw, bd), p.fill, p.roll_deg, p.principal_shift)
    proj = Pinhole(p.size, ppos, plook, pf, p.roll_deg, p.principal_shift)
    return cam, proj


SETTLE_S = 3.0  # seconds the bench runs on after the operator's last move


class VirtualBench:
    """See the module docstring. ``self_paced``: the operator does not wait for ``show_step`` but starts
    each step as soon as the previous one is done (an ideal station), for renders without a station."""

    def __init__(self, scenario: Scenario, instruction: Instruction, self_paced: bool = False):
        check_scenario(scenario, instruction)
        self.scenario, self.ins, self.self_paced = scenario, instruction, self_paced
        self.rng = np.random.default_rng(scenario.seed)
        self.cam, self.proj = build_devices(scenario, instruction)
        self.camera_size = scenario.camera.size
        self.projector_size = scenario.projector.size
        self.fps = scenario.camera.fps
        self.index = 0
        self.t = 0.0
        self.poses: dict[str, Pose] = {
            fid: (f.x_mm, f.y_mm, f.angle_deg) for fid, f in instruction.fixtures.items()
        }
        self.placed: list[Placed] = []
        self.scene = BenchScene(instruction, np.random.default_rng(scenario.seed + 1))
        self.renderer = CameraRenderer(
            self.cam,
            self.proj,
            scenario.camera,
            scenario.projector,
            scenario.lighting,
            (self.scene.x0, self.scene.y0),
            self.scene.mm_per_px,
            np.random.default_rng(scenario.seed + 2),
        )
        self._dirty = True
        self.operator = Operator(scenario, instruction, np.random.default_rng(scenario.seed + 3))
        self.tracker = Tracker(instruction, self.operator.runs, scenario.cycles)
        self._event_i = 0
        self._timeline = self.operator.timeline
        self._press_i = 0
        self._env: list[tuple[float, Deviation]] = [
            (d.at_s, d)
            for d in scenario.deviations
            if d.kind not in OPERATOR_DEVIATIONS and d.at_s is not None
        ]
        self._env_anchored = [
            d for d in scenario.deviations if d.kind not in OPERATOR_DEVIATIONS and d.at_s is None
        ]
        self._leans: list[tuple[float, float, Deviation]] = []
        self._product: tuple[tuple[float, float], BGR] | None = None
        self._skin = hex_bgr(scenario.operator.skin)
        self._sleeve = hex_bgr(scenario.operator.sleeve)
        self._phase = float(np.random.default_rng(scenario.seed + 4).uniform(0, 2 * math.pi))

    # --- the station's interface ----------------------------------------------------------------
    def true_calibration(self) -> Calibration:
        """The true geometry now (after any bump): what a perfect calibration would measure."""
        return Calibration(
            camera_size=self.camera_size,
            projector_size=self.projector_size,
            bench_size_mm=(self.ins.bench.width_mm, self.ins.bench.depth_mm),
            cam_from_bench=self.cam.from_bench(),
            proj_from_bench=self.proj.from_bench(),
            camera_matrix=self.cam.camera_matrix,
            dist_coeffs=np.asarray(self.cam.dist, np.float64),
            source=f"virtual bench {self.scenario.name} (true geometry)",
        )

    def show_step(self, step_uid: str | None, cycle: int) -> None:
        """The station says which step its projection shows now; the operator reads it."""
        self.operator.show(step_uid, cycle, self.t)

    def inputs(self) -> list[InputEvent]:
        """Pedal presses the operator made since the last call."""
        new = self.operator.presses[self._press_i :]
        self._press_i = len(self.operator.presses)
        return [InputEvent(Button.NEXT, "pedal", t, device="virtual-pedal") for t in new]

    @property
    def finished(self) -> bool:
        # after the last move, the bench runs on for SETTLE_S: the station sees a step done only once the
        # hand has left the zone (a fixture lifted off the jig is carried away over it first)
        return (self.operator.finished and self.t >= self.operator.timeline.end + SETTLE_S) or (
            self.t >= self.scenario.time_limit_s
        )

    def capture_still(self, projector_image: np.ndarray | None) -> np.ndarray:
        """The bench as it is now without the operator and without sensor noise, under ``projector_image``."""
        self._refresh_scene()
        return self.renderer.render(projector_image, [], self._drift(self.t), (0.0, 0.0), None)

    def next_frame(self, projector_image: np.ndarray | None) -> Frame:
        """The camera frame at the current simulated time; the next call is one frame period later."""
        t = self.t = self.index / self.fps
        self._environment(t)
        self._run_events(t)
        self.operator.update(t, self.poses, self.self_paced, list(self.scenario.deviations))
        if self.operator.timeline is not self._timeline:
            self._timeline, self._event_i = self.operator.timeline, 0
            self._anchor(t)
        self._run_events(t)
        tip, grip, carrying, vel = self.operator.timeline.state(t)
        carried = self._carried_look(carrying)
        blobs, foot = body.arm(
            tip, self.operator.side, self.operator.x, self._skin, self._sleeve, grip, carried
        )
        people = 0
        for t0, t1, d in self._leans:
            if t0 <= t <= t1:
                people += 1
                ramp = min(1.0, (t - t0) / LEAN_RAMP_S, (t1 - t) / LEAN_RAMP_S)
                x = d.opt_num("x_mm") or self.ins.bench.width_mm * 0.4
                reach = d.num("reach_mm") * ramp - 150 * (1 - ramp)
                blobs = body.leaning_person(x, reach, 640.0, (120, 140, 175), (70, 60, 50)) + blobs
        self._refresh_scene()
        exp = self.scenario.camera.exposure_ms / 1000.0
        a, b = self.cam.project(np.stack([tip, tip + vel * exp]))
        uv = self.cam.project(tip[None, :])[0]
        visible = bool(0 <= uv[0] < self.camera_size[0] and 0 <= uv[1] < self.camera_size[1])
        image = self.renderer.render(
            projector_image, blobs, self._drift(t), (b[0] - a[0], b[1] - a[1]), self.rng
        )
        self.tracker.update(
            self.index, t, self.operator, tip, carrying, visible, foot, self.placed, self.poses, people
        )
        frame = Frame(image, t, self.index, source=f"sim:{self.scenario.name}")
        self.index += 1
        return frame

    def ground_truth(self) -> GroundTruth:
        s = self.scenario
        return self.tracker.result(
            s.name, s.seed, self.fps, s.variant or self.ins.default_variant(), self.operator
        )

    # --- the world --------------------------------------------------------------------------------
    def _drift(self, t: float) -> float:
        li = self.scenario.lighting
        return 1.0 + li.drift_amplitude * math.sin(2 * math.pi * t / li.drift_period_s + self._phase)

    def _refresh_scene(self) -> None:
        if self._dirty:
            self.renderer.set_albedo(self.scene.render(self.poses, self.placed))
            self._dirty = False

    def _carried_look(self, carrying: str | None) -> tuple[tuple[float, float], BGR] | None:
        if carrying is None:
            return None
        if carrying == PRODUCT:
            return self._product
        part = self.ins.parts.get(carrying)
        if part is None:
            return None
        return (part.size_mm or (40.0, 30.0), hex_bgr(part.color))

    def _put(self, part_id: str | None, zone_id: str) -> None:
        part = self.ins.parts.get(part_id or "")
        zone = self.ins.zones[zone_id]
        if part is None:
            return
        w, h = part.size_mm or (40.0, 30.0)
        x0, y0, x1, y1 = zone.bounds()
        angle = 0.0 if (w >= h) == (x1 - x0 >= y1 - y0) else 90.0
        cx, cy = zone.center
        jit = self.rng.normal(0, 1.2, 3)
        self.placed.append(
            Placed(
                part.id,
                zone_id,
                zone.frame,
                cx + jit[0],
                cy + jit[1],
                angle + jit[2],
                (w, h),
                hex_bgr(part.color),
            )
        )
        self._dirty = True

    def _run_events(self, t: float) -> None:
        tl = self.operator.timeline
        while self._event_i < len(tl.events) and tl.events[self._event_i].t <= t:
            ev = tl.events[self._event_i]
            self._event_i += 1
            zone = str(ev.arg("zone", ""))
            uid, c = self._acting()
            if ev.kind in ("place", "deposit"):
                part = ev.arg("part")
                self._put(part if isinstance(part, str) else None, zone)
                if ev.kind == "place":
                    self.tracker.wrong_part(
                        ev.t, self.operator, zone, part if isinstance(part, str) else None
                    )
            elif ev.kind == "take_back":
                mine = [p for p in self.placed if p.zone == zone]
                if mine:
                    self.placed.remove(mine[-1])
                    self._dirty = True
            elif ev.kind == "lift_product":
                poly = zone_polygon(self.ins.zones[zone], self.poses)
                lo, hi = poly.min(axis=0), poly.max(axis=0)
                taken = [
                    p
                    for p in self.placed
                    if all(lo - 1 <= np.array(placed_in_bench(p, self.poses)[:2]))
                    and all(np.array(placed_in_bench(p, self.poses)[:2]) <= hi + 1)
                ]
                if taken:
                    big = max(taken, key=lambda p: p.size_mm[0] * p.size_mm[1])
                    self._product = (big.size_mm, big.color)
                    self.placed = [p for p in self.placed if p not in taken]
                    self._dirty = True
            elif ev.kind == "press":
                self.operator.presses.append(ev.t)
            elif ev.kind == "deviation":
                name = str(ev.arg("name"))
                detail = ", ".join(f"{k}={v}" for k, v in ev.args if k != "name")
                self.tracker.events.append(EventTruth(name, ev.t, tl.end, uid, c, detail))

    def _acting(self) -> tuple[str | None, int]:
        a = self.operator.acting
        return (self.operator.runs[a[1]].uid, a[0]) if a else (None, self.operator.cycle)

    def _anchor(self, t: float) -> None:
        """Schedule bench disturbances tied to the step the operator has just started."""
        if self.operator.acting is None:
            return
        c, k = self.operator.acting
        uid = self.operator.runs[k].uid
        t_start = self.operator.started[-1][2]
        for d in list(self._env_anchored):
            if d.step == uid and d.cycle == c:
                self._env.append((t_start + d.after_s, d))
                self._env_anchored.remove(d)

    def _environment(self, t: float) -> None:
        due = sorted([e for e in self._env if e[0] <= t], key=lambda e: e[0])
        for e in due:
            self._env.remove(e)
            self._disturb(e[0], e[1])

    def _disturb(self, t: float, d: Deviation) -> None:
        uid, c = self._acting()
        bw, bd = self.ins.bench.width_mm, self.ins.bench.depth_mm
        detail = ", ".join(f"{k}={v}" for k, v in d.params)
        t_end = t
        if d.kind == "light_on":
            x = d.opt_num("x_mm")
            y = d.opt_num("y_mm")
            self.renderer.add_lamp(
                bw * 0.8 if x is None else x, bd * 1.1 if y is None else y, d.num("level"), d.num("radius_mm")
            )
        elif d.kind == "bump_camera":
            self.cam = self.cam.moved(d.num("dx_mm"), d.num("dy_mm"), d.num("angle_deg"), d.num("tilt_deg"))
            self.renderer.refresh_geometry(self.cam, self.proj)
        elif d.kind == "bump_bench":
            self.cam = self.cam.rigid(d.num("dx_mm"), d.num("dy_mm"), d.num("angle_deg"))
            self.proj = self.proj.rigid(d.num("dx_mm"), d.num("dy_mm"), d.num("angle_deg"))
            self.renderer.refresh_geometry(self.cam, self.proj)
        elif d.kind == "move_jig":
            fid = str(d.get("fixture") or next(iter(self.ins.fixtures), ""))
            if fid in self.poses:
                x, y, a = self.poses[fid]
                self.poses[fid] = (x + d.num("dx_mm"), y + d.num("dy_mm"), a + d.num("angle_deg"))
                self._dirty = True
        elif d.kind == "lean_over":
            t_end = t + d.num("seconds")
            self._leans.append((t, t_end, d))
        self.tracker.events.append(EventTruth(d.kind, t, t_end, uid, c, detail))
