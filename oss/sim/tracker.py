"""Records the ground truth frame by frame: bin visits, zone facts, the oracle's step completions."""

from __future__ import annotations

import cv2
import numpy as np

from oss.instructions.model import (
    HandIn,
    Instruction,
    PartAbsent,
    PartPresent,
    RunStep,
    iter_conditions,
)
from oss.sim.operator import Operator
from oss.sim.scene import Placed, Pose, placed_in_bench, zone_polygon
from oss.sim.truth import (
    ErrorTruth,
    EventTruth,
    Facts,
    FrameTruth,
    GroundTruth,
    HandTruth,
    PartTruth,
    PickTruth,
    StepTruth,
)

DIP_Z_MM = 60.0


class Tracker:
    def __init__(self, instruction: Instruction, runs: tuple[RunStep, ...], cycles: int):
        self.ins, self.runs, self.cycles = instruction, runs, cycles
        self.facts = Facts()
        conds = [c for r in runs for c in iter_conditions(r.done)]
        self.touch_zones = sorted({c.zone for c in conds if isinstance(c, HandIn)})
        self.present_keys = sorted({(c.zone, c.part) for c in conds if isinstance(c, PartPresent)}, key=str)
        self.absent_zones = sorted({c.zone for c in conds if isinstance(c, PartAbsent)})
        self.frames: list[FrameTruth] = []
        self.picks: list[PickTruth] = []
        self.errors: list[ErrorTruth] = []
        self.events: list[EventTruth] = []
        self.done: dict[tuple[int, int], float] = {}
        self._visit: tuple[str, float, float, str | None] | None = (
            None  # bin, t_enter, min z, carried at entry
        )
        self._cursor = (0, 0)
        self._zones: dict[str, np.ndarray] = {}
        self._zones_key: tuple | None = None

    def allowed_bins(self, run: RunStep) -> set[str]:
        allowed: set[str] = set(run.picked_bins())
        for rule in run.step.errors:
            if rule.kind == "wrong_pick":
                allowed |= set(rule.allowed_bins)
        return allowed

    def _acting(self, op: Operator) -> tuple[str | None, int, RunStep | None]:
        if op.acting is None:
            return None, op.cycle, None
        c, k = op.acting
        return self.runs[k].uid, c, self.runs[k]

    def update(
        self,
        index: int,
        t: float,
        op: Operator,
        tip: np.ndarray,
        carrying: str | None,
        visible: bool,
        footprint: list[np.ndarray],
        placed: list[Placed],
        poses: dict[str, Pose],
        people: int,
    ) -> None:
        key = tuple(sorted(poses.items()))
        if key != self._zones_key:
            self._zones = {
                zid: zone_polygon(z, poses).astype(np.float32) for zid, z in self.ins.zones.items()
            }
            self._zones_key = key
        zones = self._zones
        pt = (float(tip[0]), float(tip[1]))
        tip_in = tuple(zid for zid, poly in zones.items() if cv2.pointPolygonTest(poly, pt, False) >= 0)
        self._bins(t, op, tip, carrying, tip_in)
        for zid in self.touch_zones:
            Facts.mark(self.facts.inside, zid, zid in tip_in, t)
        covered = {
            zid: _covers(footprint, zones[zid])
            for zid in {*self.absent_zones, *(z for z, _ in self.present_keys)}
        }
        for zone, part in self.present_keys:
            on = not covered[zone] and any(
                p.zone == zone and (part is None or p.part == part) for p in placed
            )
            Facts.mark(self.facts.present, (zone, part), on, t)
        centres = [placed_in_bench(p, poses) for p in placed]
        for zone in self.absent_zones:
            empty = not any(cv2.pointPolygonTest(zones[zone], (c[0], c[1]), False) >= 0 for c in centres)
            Facts.mark(self.facts.absent, zone, empty and not covered[zone], t)
        self.facts.presses = list(op.presses)
        for c, k, t_start, _ in op.started:
            if (c, k) not in self.done:
                met = self.facts.met(self.runs[k].done, t_start, t)
                if met is not None:
                    self.done[(c, k)] = met
        missed = {(c, k) for c, k, _ in op.missed}
        while self._cursor[0] < self.cycles and (self._cursor in self.done or self._cursor in missed):
            c, k = self._cursor
            self._cursor = (c, k + 1) if k + 1 < len(self.runs) else (c + 1, 0)
        cur_c, cur_k = self._cursor
        hands = (HandTruth((pt[0], pt[1]), float(tip[2]), op.side, visible, carrying, tip_in),)
        parts = tuple(PartTruth(p.part, p.zone, *placed_in_bench(p, poses)) for p in placed)
        self.frames.append(
            FrameTruth(
                index,
                t,
                self.runs[cur_k].uid if cur_c < self.cycles else None,
                cur_c,
                op.shown[0] if op.shown else None,
                hands,
                parts,
                tuple((fid, *pose) for fid, pose in sorted(poses.items())),
                people,
            )
        )

    def _bins(
        self, t: float, op: Operator, tip: np.ndarray, carrying: str | None, tip_in: tuple[str, ...]
    ) -> None:
        in_bin = next((z for z in tip_in if self.ins.zones[z].is_bin), None)
        v = self._visit
        if v is not None and v[0] != in_bin:
            bin_id, t_enter, zmin, carried_in = v
            if zmin < DIP_Z_MM and carried_in is None and carrying is not None:
                kind = "take"
            elif zmin < DIP_Z_MM and carried_in is not None and carrying is None:
                kind = "return"
            elif zmin < DIP_Z_MM and carried_in is not None and carrying is not None:
                kind = "exchange"
            else:
                kind = "pass_over"
            uid, c, run = self._acting(op)
            wrong = kind == "take" and (run is None or bin_id not in self.allowed_bins(run))
            self.picks.append(PickTruth(bin_id, t_enter, t, kind, uid, c, wrong))
            if kind == "take":
                self.facts.takes.setdefault(bin_id, []).append(t)
            if wrong:
                self.errors.append(ErrorTruth("wrong_pick", t, uid, c, f"took from {bin_id}"))
            v = self._visit = None
        if in_bin is not None:
            if v is None:
                self._visit = (in_bin, t, float(tip[2]), carrying)
            else:
                self._visit = (v[0], v[1], min(v[2], float(tip[2])), v[3])

    def wrong_part(self, t: float, op: Operator, zone: str, part: str | None) -> None:
        uid, c, run = self._acting(op)
        if run is None:
            return
        want = [
            x.part
            for x in iter_conditions(run.done)
            if isinstance(x, PartPresent) and x.zone == zone and x.part
        ]
        if want and part not in want:
            self.errors.append(ErrorTruth("wrong_part", t, uid, c, f"put {part} in {zone}, wanted {want[0]}"))

    def result(self, scenario: str, seed: int, fps: float, variant: str | None, op: Operator) -> GroundTruth:
        started = {(c, k): (ts, sh) for c, k, ts, sh in op.started}
        missed = {(c, k) for c, k, _ in op.missed}
        steps = []
        for c in range(self.cycles):
            for k, r in enumerate(self.runs):
                ts, sh = started.get((c, k), (None, None))
                t_done = self.done.get((c, k))
                status = "done" if t_done is not None else ("missed" if (c, k) in missed else "open")
                steps.append(StepTruth(r.uid, c, k, sh, ts, t_done, status))
        stuck = tuple(
            EventTruth(
                "stuck", s.t, s.t, s.shown_uid, s.cycle, f"operator waited for {s.expected_uid}; pressed NEXT"
            )
            for s in op.stuck
        )
        return GroundTruth(
            scenario,
            seed,
            fps,
            variant,
            tuple(self.frames),
            tuple(steps),
            tuple(self.picks),
            tuple(self.errors),
            tuple(op.presses),
            stuck,
            tuple(self.events),
        )


def _covers(footprint: list[np.ndarray], zone: np.ndarray) -> bool:
    for quad in footprint:
        area, _ = cv2.intersectConvexConvex(quad.astype(np.float32), zone)
        if area > 1.0:
            return True
    return False
