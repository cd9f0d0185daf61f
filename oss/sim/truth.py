"""Ground truth of a virtual-bench run, and the oracle that decides when a step was truly done.

The oracle judges each run step's ``done`` condition on true facts (where the hand really was, which parts
really lie where, which pedal presses really happened), from the moment the operator started the step:

- ``pick``: a real take from the bin (the fingertips dipped into it and came out holding a part), the
  moment the hand left the bin; a pass over the bin or putting a part back does not count;
- ``hand_in``: the fingertips stayed inside the zone for ``dwell_s``, the moment that dwell was reached;
- ``present``: the part (the named one, if named) lies in the zone and no hand or forearm covers the zone;
- ``absent``: no part lies in the zone and no hand covers it;
- ``press``: a pedal press; ``timer``: the seconds passed; ``sequence`` each in turn, ``all``/``any``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from oss.instructions.model import (
    AllOf,
    AnyOf,
    Condition,
    HandIn,
    PartAbsent,
    PartPresent,
    Pick,
    Press,
    Sequence,
    Timer,
)

Interval = list[float]  # [start, end]; end is +inf while it lasts


@dataclass(frozen=True)
class HandTruth:
    tip_mm: tuple[float, float]
    z_mm: float
    side: str  # "left" / "right" (which arm)
    visible: bool  # the fingertips are inside the camera image
    carrying: str | None = None
    zones: tuple[str, ...] = ()  # zones the fingertips are in


@dataclass(frozen=True)
class PartTruth:
    part: str
    zone: str
    x_mm: float
    y_mm: float
    angle_deg: float


@dataclass(frozen=True)
class FrameTruth:
    index: int
    t: float
    step_uid: str | None  # the first step of the unit that is not truly done yet
    cycle: int  # units truly completed
    shown_uid: str | None  # what the station said it shows
    hands: tuple[HandTruth, ...]
    parts: tuple[PartTruth, ...]
    fixtures: tuple[tuple[str, float, float, float], ...]  # id, x mm, y mm, angle deg
    people: int = 0  # other people leaning over the bench


@dataclass(frozen=True)
class StepTruth:
    uid: str
    cycle: int
    index: int
    t_shown: float | None  # when the station showed it (None: self-paced or never)
    t_start: float | None  # when the operator started on it (after reading it)
    t_done: float | None  # when its condition became truly satisfied
    status: str  # done, missed (never done: the station moved past it), open (run ended first)


@dataclass(frozen=True)
class PickTruth:
    bin: str
    t_enter: float
    t_leave: float
    kind: str  # take (came out with a part), return (put a part back), exchange (put back and took again),
    # pass_over (did not dip into the bin, or came out as it went in)
    step_uid: str | None
    cycle: int
    wrong: bool  # a take from a bin the step does not allow


@dataclass(frozen=True)
class ErrorTruth:
    kind: str  # wrong_pick, wrong_part
    t: float
    step_uid: str | None
    cycle: int
    detail: str


@dataclass(frozen=True)
class EventTruth:
    kind: str  # a deviation (hesitate, put_back, ...), a disturbance (light_on, bump_camera, ...), stuck
    t_start: float
    t_end: float
    step_uid: str | None
    cycle: int
    detail: str = ""


@dataclass(frozen=True)
class GroundTruth:
    scenario: str
    seed: int
    fps: float
    variant: str | None
    frames: tuple[FrameTruth, ...]
    steps: tuple[StepTruth, ...]
    picks: tuple[PickTruth, ...]
    errors: tuple[ErrorTruth, ...]
    pedal: tuple[float, ...]  # times of the operator's pedal presses (Button.NEXT)
    stuck: tuple[EventTruth, ...]  # the station did not move on; the operator pressed NEXT
    events: tuple[EventTruth, ...]  # deviations and disturbances as they happened

    def step(self, uid: str, cycle: int = 0) -> StepTruth:
        for s in self.steps:
            if s.uid == uid and s.cycle == cycle:
                return s
        raise KeyError(f"no step {uid!r} in cycle {cycle}")

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        return _finite(d)  # type: ignore[return-value]

    def to_json(self, path: str | Path) -> None:
        """Write the ground truth as JSON (times in simulated seconds from the first frame)."""
        Path(path).write_text(json.dumps(self.to_dict(), separators=(",", ":")))


def _finite(v: object) -> object:
    if isinstance(v, float):
        return None if v != v or v in (float("inf"), float("-inf")) else round(v, 4)
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_finite(x) for x in v]
    return v


class Facts:
    """Histories the oracle reads: takes per bin, tip-in-zone intervals, zone state intervals, presses."""

    def __init__(self) -> None:
        self.takes: dict[str, list[float]] = {}
        self.inside: dict[str, list[Interval]] = {}
        self.present: dict[tuple[str, str | None], list[Interval]] = {}
        self.absent: dict[str, list[Interval]] = {}
        self.presses: list[float] = []

    @staticmethod
    def mark(store: dict, key: object, on: bool, t: float) -> None:
        ivs = store.setdefault(key, [])
        if on and (not ivs or ivs[-1][1] != float("inf")):
            ivs.append([t, float("inf")])
        elif not on and ivs and ivs[-1][1] == float("inf"):
            ivs[-1][1] = t

    def met(self, cond: Condition, t_from: float, now: float) -> float | None:
        """The earliest time ≥ t_from (and ≤ now) at which ``cond`` was truly met, else None."""
        r = self._met(cond, t_from)
        return r if r is not None and r <= now else None

    def _met(self, c: Condition, t0: float) -> float | None:
        if isinstance(c, Pick):
            ts = [t for t in self.takes.get(c.bin, []) if t >= t0]
            return ts[c.count - 1] if len(ts) >= c.count else None
        if isinstance(c, HandIn):
            for a, b in self.inside.get(c.zone, []):
                s = max(a, t0)
                if b - s >= c.dwell_s - 1e-9:
                    return s + c.dwell_s
            return None
        if isinstance(c, PartPresent):
            return _first(self.present.get((c.zone, c.part), []), t0)
        if isinstance(c, PartAbsent):
            return _first(self.absent.get(c.zone, []), t0)
        if isinstance(c, Press):
            return next((t for t in self.presses if t >= t0), None)
        if isinstance(c, Timer):
            return t0 + c.seconds
        if isinstance(c, Sequence):
            t: float | None = t0
            for sub in c.conditions:
                t = self._met(sub, t) if t is not None else None
            return t
        if isinstance(c, AllOf):
            ts2 = [self._met(sub, t0) for sub in c.conditions]
            return None if any(x is None for x in ts2) else max(x for x in ts2 if x is not None)
        if isinstance(c, AnyOf):
            ts3 = [x for x in (self._met(sub, t0) for sub in c.conditions) if x is not None]
            return min(ts3) if ts3 else None
        return None


def _first(ivs: list[Interval], t0: float) -> float | None:
    for a, b in ivs:
        if b > t0:
            return max(a, t0)
    return None
