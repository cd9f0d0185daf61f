"""The scripted operator: reads the projection, then does each step with human timing and scripted deviations.

States (per unit ``cycle``, step index ``k`` into the run steps)::

    WAITING ──station shows step k──▶ (reaction) ──▶ ACTING ──timeline ends──▶ WAITING (for step k+1)
       │  station keeps showing a done step for stuck_timeout_s                     │
       └──────────────▶ presses the pedal (NEXT), recorded as stuck ◀──────────────┘
    after the last step of the last cycle: FINISHED

The operator follows what the station shows: if it shows a later step, the skipped ones are recorded as
missed; if it shows a step already done, the operator waits and, after the timeout, presses NEXT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oss.instructions.model import (
    AllOf,
    AnyOf,
    Condition,
    HandIn,
    Instruction,
    PartAbsent,
    PartPresent,
    Pick,
    Press,
    RunStep,
    Sequence,
    Timer,
)
from oss.sim.motion import Timeline
from oss.sim.scenario import Deviation, Scenario
from oss.sim.scene import Pose, zone_polygon

Z_TRAVEL, Z_DIP, Z_TOUCH, Z_PASS = 110.0, 32.0, 26.0, 120.0
READY_Y = -120.0
PRODUCT = "@product"  # what the hand carries after lifting the finished product

Action = tuple[
    str, str, str | None, float
]  # kind (pick/place/touch/remove/press/wait), zone or bin, part, seconds


def actions_of(cond: Condition) -> list[Action]:
    """What an operator does to make ``cond`` true, in order."""
    if isinstance(cond, Sequence | AllOf):
        return [a for c in cond.conditions for a in actions_of(c)]
    if isinstance(cond, AnyOf):
        return actions_of(cond.conditions[0]) if cond.conditions else []
    if isinstance(cond, Pick):
        return [("pick", cond.bin, None, 0.0)] * cond.count
    if isinstance(cond, PartPresent):
        return [("place", cond.zone, cond.part, 0.0)]
    if isinstance(cond, PartAbsent):
        return [("remove", cond.zone, None, 0.0)]
    if isinstance(cond, HandIn):
        return [("touch", cond.zone, None, cond.dwell_s)]
    if isinstance(cond, Press):
        return [("press", "", None, 0.0)]
    if isinstance(cond, Timer):
        return [("wait", "", None, cond.seconds)]
    return []


@dataclass(frozen=True)
class Stuck:
    t: float
    shown_uid: str | None
    cycle: int
    expected_uid: str | None


class Operator:
    def __init__(self, scenario: Scenario, instruction: Instruction, rng: np.random.Generator):
        self.sc, self.ins, self.rng = scenario, instruction, rng
        self.op = scenario.operator
        self.runs = instruction.run_steps(scenario.variant)
        self.x = self.op.x_mm if self.op.x_mm is not None else instruction.bench.width_mm / 2
        self.side = "right" if self.op.hand != "left" else "left"
        self.cycle, self.k = 0, 0
        self.state = "waiting"
        self.t_idle = 0.0
        self.shown: tuple[str | None, int, float] | None = None
        self.last_press = -1e9
        self.timeline = Timeline(0.0, self._ready(), 0.0, None, self.op.speed_mm_s, self.op.jitter, rng)
        self.acting: tuple[int, int] | None = None  # (cycle, k) being done
        self.started: list[tuple[int, int, float, float | None]] = []  # cycle, k, t_start, t_shown
        self.missed: list[tuple[int, int, float]] = []
        self.stuck: list[Stuck] = []
        self.presses: list[float] = []
        self.pending_events: list = []

    # --- positions ----------------------------------------------------------------------------
    def _ready(self) -> np.ndarray:
        return np.array([self.x + (160.0 if self.side == "right" else -160.0), READY_Y, 120.0])

    def _centre(self, zone_id: str, poses: dict[str, Pose], spread: float = 0.0) -> np.ndarray:
        poly = zone_polygon(self.ins.zones[zone_id], poses)
        c = poly.mean(axis=0)
        if spread > 0:
            lo, hi = poly.min(axis=0), poly.max(axis=0)
            c = c + (hi - lo) * spread * self.rng.uniform(-0.5, 0.5, 2)
        return np.array([c[0], c[1], 0.0])

    def part_in(self, bin_id: str) -> str | None:
        """The part a bin holds: its own ``part``, else the part naming this bin (this variant's first)."""
        own = self.ins.zones[bin_id].part
        if own:
            return own
        names = [p for p in self.ins.parts.values() if p.bin == bin_id]
        fit = [p for p in names if not p.variants or self.sc.variant in p.variants]
        return (fit or names)[0].id if names else None

    @property
    def finished(self) -> bool:
        return self.state == "finished"

    def show(self, uid: str | None, cycle: int, t: float) -> None:
        if self.shown is None or self.shown[0] != uid or self.shown[1] != cycle:
            self.shown = (uid, cycle, t)

    # --- the state machine ----------------------------------------------------------------------
    def update(self, t: float, poses: dict[str, Pose], self_paced: bool, devs: list[Deviation]) -> None:
        if self.state == "acting" and t >= self.timeline.end:
            self.state, self.t_idle, self.acting = "waiting", self.timeline.end, None
            self.k += 1
            if self.k >= len(self.runs):
                self.k, self.cycle = 0, self.cycle + 1
                if self.cycle >= self.sc.cycles:
                    self.state = "finished"
        if self.state != "waiting":
            return
        uids = [r.uid for r in self.runs]
        if self_paced:
            self._start(self.k, max(t, self.t_idle), None, poses, devs)
            return
        if self.shown is not None and self.shown[0] in uids:
            j, sc = uids.index(self.shown[0]), self.shown[1]
            if (sc, j) >= (self.cycle, self.k):
                while (self.cycle, self.k) < (sc, j):  # the station skipped these: never done
                    self.missed.append((self.cycle, self.k, t))
                    self.k += 1
                    if self.k >= len(self.runs):
                        self.k, self.cycle = 0, self.cycle + 1
                if self.cycle >= self.sc.cycles:
                    self.state = "finished"
                    return
                self._start(j, max(self.shown[2], self.t_idle), self.shown[2], poses, devs)
                return
        waited_since = max(self.t_idle, self.shown[2] if self.shown else 0.0, self.last_press)
        if t - waited_since >= self.op.stuck_timeout_s:
            expected = uids[self.k]
            self.stuck.append(Stuck(t, self.shown[0] if self.shown else None, self.cycle, expected))
            self.presses.append(t)
            self.last_press = t

    def _start(
        self, k: int, t_seen: float, t_shown: float | None, poses: dict[str, Pose], devs: list[Deviation]
    ) -> None:
        self.k = k
        run = self.runs[k]
        mine = [d for d in devs if d.step == run.uid and d.cycle == self.cycle]
        t0 = t_seen + self.timeline.vary(self.op.reaction_s)
        acts = actions_of(run.done)
        targets = [a for a in acts if a[0] in ("pick", "place", "touch", "remove")]
        if self.op.hand == "auto" and targets:
            first = self._centre(targets[0][1], poses)
            self.side = "right" if first[0] >= self.x else "left"
        tl = Timeline(t0, self._ready(), 0.0, None, self.op.speed_mm_s, self.op.jitter, self.rng)
        tl.hold(0.0, vary=False)
        self.timeline = tl
        self.acting = (self.cycle, k)
        self.started.append((self.cycle, k, t0, t_shown))
        self.state = "acting"
        self._script(run, acts, mine, poses)

    # --- scripting one step ---------------------------------------------------------------------
    def _script(
        self, run: RunStep, acts: list[Action], devs: list[Deviation], poses: dict[str, Pose]
    ) -> None:
        tl = self.timeline
        by_kind = {d.kind: d for d in devs}
        first_target = next((a for a in acts if a[0] in ("pick", "place", "touch", "remove")), None)
        if "hesitate" in by_kind:
            d = by_kind["hesitate"]
            tl.event("deviation", name="hesitate", **dict(d.params))
            goal = self._centre(first_target[1], poses) if first_target else np.array([self.x, 250.0, 0])
            mid = (tl.pos + goal) / 2
            mid[2] = 200.0
            tl.move(mid)
            tl.hold(d.num("seconds"), vary=False)
        if "rest_in_zone" in by_kind:
            d = by_kind["rest_in_zone"]
            tl.event("deviation", name="rest_in_zone", **dict(d.params))
            c = self._centre(d.text("zone"), poses)
            tl.move(np.array([c[0], c[1], 60.0]))
            tl.move(np.array([c[0], c[1], 14.0]), grip=0.0)
            tl.hold(d.num("seconds"), vary=False)
            tl.move(np.array([c[0], c[1], Z_TRAVEL]))
        if "pass_over" in by_kind and first_target is not None:
            d = by_kind["pass_over"]
            tl.event("deviation", name="pass_over", **dict(d.params))
            via = self._centre(d.text("bin"), poses)
            via[2] = Z_PASS
            goal = self._centre(first_target[1], poses)
            goal[2] = Z_TRAVEL
            tl.move(goal, via=via, pace=0.9)
        picked_once = placed_once = False
        for kind, ref, part, secs in acts:
            if kind == "pick":
                if "wrong_pick" in by_kind and not picked_once:
                    d = by_kind["wrong_pick"]
                    wrong = d.text("bin")
                    tl.event("deviation", name="wrong_pick", **dict(d.params))
                    self._pick(wrong, poses)
                    if d.get("return_part"):
                        dest = next((a[1] for a in acts if a[0] in ("place", "touch")), None)
                        nxt = self._centre(dest, poses) if dest else self._ready()
                        tl.move((tl.pos + np.array([nxt[0], nxt[1], Z_TRAVEL])) / 2)
                        tl.hold(0.7)
                        self._return(wrong, poses)
                picked_once = True
                self._pick(ref, poses)
            elif kind == "place":
                placed = self._place(ref, part, poses)
                if "put_back" in by_kind and not placed_once:
                    d = by_kind["put_back"]
                    tl.event("deviation", name="put_back", zone=ref, **dict(d.params))
                    c = self._centre(ref, poses)
                    tl.move(np.array([c[0], c[1], 140.0]), grip=0.2)
                    tl.hold(d.num("away_s"))
                    tl.move(np.array([c[0], c[1], Z_DIP]), grip=0.0)
                    tl.hold(0.3)
                    tl.event("take_back", zone=ref)
                    tl.carry(placed)
                    tl.move(np.array([c[0], c[1], Z_TRAVEL]), grip=1.0)
                    bin_id = self.ins.parts[placed].bin if placed and placed in self.ins.parts else None
                    if bin_id:
                        self._return(bin_id, poses)
                        self._pick(bin_id, poses)
                    self._place(ref, part, poses)
                placed_once = True
            elif kind == "touch":
                c = self._centre(ref, poses)
                tl.move(np.array([c[0], c[1], 70.0]))
                tl.move(np.array([c[0], c[1], Z_TOUCH]), grip=0.3)
                tl.hold(secs + max(0.2, self.op.margin_s), vary=False)
                tl.hold(self.op.margin_s * 0.5)
                if tl.carrying:
                    tl.event("deposit", zone=ref, part=tl.carrying)
                    tl.carry(None)
                tl.move(np.array([c[0], c[1], 90.0]), grip=0.0)
            elif kind == "remove":
                c = self._centre(ref, poses)
                tl.move(np.array([c[0], c[1], 80.0]))
                tl.move(np.array([c[0], c[1], 45.0]), grip=0.6)
                tl.hold(0.5)
                tl.event("lift_product", zone=ref)
                tl.carry(PRODUCT)
                tl.move(np.array([c[0], c[1], 170.0]))
                tl.move(np.array([c[0], -380.0, 170.0]))
                tl.event("drop")
                tl.carry(None)
            elif kind == "press":
                tl.hold(float(self.rng.uniform(0.4, 1.2)))
                tl.event("press")
            elif kind == "wait":
                tl.hold(secs, vary=False)
        tl.move(self._ready(), grip=0.0)

    def _pick(self, bin_id: str, poses: dict[str, Pose]) -> None:
        tl = self.timeline
        c = self._centre(bin_id, poses, spread=0.5)
        tl.move(np.array([c[0], c[1], 90.0]), grip=0.0)
        tl.move(np.array([c[0], c[1], Z_DIP]))
        lo, hi = self.op.pick_s
        tl.hold(float(self.rng.uniform(lo, hi)), vary=False)
        part = self.part_in(bin_id)
        tl.event("grab", bin=bin_id, part=part)
        tl.carry(part)
        tl.move(np.array([c[0], c[1], Z_TRAVEL]), grip=1.0)

    def _return(self, bin_id: str, poses: dict[str, Pose]) -> None:
        tl = self.timeline
        c = self._centre(bin_id, poses, spread=0.4)
        tl.move(np.array([c[0], c[1], 90.0]))
        tl.move(np.array([c[0], c[1], Z_DIP + 10]))
        tl.hold(0.3)
        tl.event("release", bin=bin_id)
        tl.carry(None)
        tl.move(np.array([c[0], c[1], Z_TRAVEL]), grip=0.0)

    def _place(self, zone_id: str, part: str | None, poses: dict[str, Pose]) -> str | None:
        tl = self.timeline
        c = self._centre(zone_id, poses)
        tl.move(np.array([c[0], c[1], 80.0]))
        tl.move(np.array([c[0], c[1], 30.0]))
        tl.hold(self.op.place_s)
        placed = tl.carrying or part
        tl.event("place", zone=zone_id, part=placed)
        tl.carry(None)
        tl.move(np.array([c[0], c[1], 95.0]), grip=0.0)
        return placed
