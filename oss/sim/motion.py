"""A hand's path as timed segments: minimum-jerk moves, holds, and events at segment ends."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Segment:
    t0: float
    t1: float
    p0: np.ndarray  # fingertips, bench mm (3,)
    p1: np.ndarray
    grip0: float
    grip1: float
    carrying: str | None
    via: np.ndarray | None = None  # the path passes through this point (quadratic Bézier)

    def at(self, t: float) -> tuple[np.ndarray, float]:
        if self.t1 <= self.t0:
            return self.p1, self.grip1
        u = min(max((t - self.t0) / (self.t1 - self.t0), 0.0), 1.0)
        s = u * u * u * (10 - 15 * u + 6 * u * u)
        if self.via is not None:
            c = 2 * self.via - (self.p0 + self.p1) / 2
            p = (1 - s) ** 2 * self.p0 + 2 * (1 - s) * s * c + s * s * self.p1
        else:
            p = self.p0 + (self.p1 - self.p0) * s
        return p, self.grip0 + (self.grip1 - self.grip0) * s


@dataclass(frozen=True)
class Event:
    t: float
    kind: str  # grab, place, take_back, deposit, lift_product, drop, press, deviation
    args: tuple[tuple[str, object], ...] = ()

    def arg(self, key: str, default: object = None) -> object:
        return dict(self.args).get(key, default)


@dataclass
class Timeline:
    """Built forward from a start time and position; ``speed`` in mm/s, ``jitter`` the relative spread."""

    t: float
    pos: np.ndarray
    grip: float
    carrying: str | None
    speed: float
    jitter: float
    rng: np.random.Generator
    segments: list[Segment] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def vary(self, x: float) -> float:
        return x * float(self.rng.uniform(1 - self.jitter, 1 + self.jitter)) if self.jitter > 0 else x

    def move(
        self, target: np.ndarray, grip: float | None = None, via: np.ndarray | None = None, pace: float = 1.0
    ) -> None:
        target = np.asarray(target, np.float64)
        d = float(np.linalg.norm(target - self.pos))
        if via is not None:
            d = float(np.linalg.norm(via - self.pos) + np.linalg.norm(target - via))
        dur = self.vary(0.22 + d / self.speed) / pace
        g1 = self.grip if grip is None else grip
        self.segments.append(
            Segment(self.t, self.t + dur, self.pos.copy(), target, self.grip, g1, self.carrying, via)
        )
        self.t += dur
        self.pos, self.grip = target, g1

    def hold(self, seconds: float, vary: bool = True) -> None:
        dur = self.vary(seconds) if vary else seconds
        self.segments.append(
            Segment(
                self.t, self.t + dur, self.pos.copy(), self.pos.copy(), self.grip, self.grip, self.carrying
            )
        )
        self.t += dur

    def event(self, kind: str, **args: object) -> None:
        self.events.append(Event(self.t, kind, tuple(args.items())))

    def carry(self, part: str | None) -> None:
        self.carrying = part

    @property
    def end(self) -> float:
        return self.t

    def state(self, t: float) -> tuple[np.ndarray, float, str | None, np.ndarray]:
        """Fingertip position, grip, carried part and velocity (mm/s) at ``t``."""
        seg = self._segment(t)
        if seg is None:
            return self.pos, self.grip, self.carrying, np.zeros(3)
        p, g = seg.at(t)
        p2, _ = seg.at(t + 1e-3)
        return p, g, seg.carrying, (p2 - p) / 1e-3

    def _segment(self, t: float) -> Segment | None:
        if not self.segments:
            return None
        if t < self.segments[0].t0:
            return Segment(
                t,
                t,
                self.segments[0].p0,
                self.segments[0].p0,
                self.segments[0].grip0,
                self.segments[0].grip0,
                self.segments[0].carrying,
            )
        for seg in self.segments:
            if seg.t0 <= t < seg.t1:
                return seg
        return None
