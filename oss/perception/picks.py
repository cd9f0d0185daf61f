"""Picks: a hand that reaches into a bin and comes out again.

Each hand tip is tracked from frame to frame (nearest neighbour). A *visit* of a bin starts when the tip
is ``zone_margin_mm`` inside the bin and ends when it is ``zone_exit_mm`` outside for ``exit_hold_s`` or three
times that far (the tip wavers at the rim and jumps when a part is lifted with it); a hand gone inside a
bin ends its visit without a pick. A visit
is a pick when the hand did what taking a part needs: it stopped in the bin (tip slower than
``reach_slow_mm_s`` for ``reach_dwell_s``: the grasp) or it turned back inside the bin (the tip came
back ``reach_turn_mm`` from the deepest point it reached in the bin, measured along the way it came
in). A tip that sweeps across a bin on its way elsewhere does neither and is not a pick.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from oss.perception.config import PerceptionConfig
from oss.records import Hand, PickSeen, Point


@dataclass
class _Visit:
    bin: str
    t_enter: float
    entry: Point  # where the tip crossed into the bin
    direction: tuple[float, float]  # unit vector the tip moved along when it came in
    depth: float = 0.0  # deepest progress along ``direction`` so far (mm)
    slow_s: float = 0.0
    turned: bool = False
    out_since: float | None = None  # the tip is outside since then (not yet for long or far)

    def qualifies(self, cfg: PerceptionConfig) -> bool:
        return self.slow_s >= cfg.reach_dwell_s or self.turned


@dataclass
class _Track:
    tip: Point
    t: float
    history: deque[tuple[float, float, float]] = field(default_factory=lambda: deque(maxlen=16))
    visits: dict[str, _Visit] = field(default_factory=dict)
    outside: set[str] = field(default_factory=set)  # bins this tip was seen outside of (so it can enter)
    seen: bool = True


class PickDetector:
    """Per-bin pick detection over tracked hand tips."""

    def __init__(self, bins: Sequence[str], config: PerceptionConfig, max_jump_mm: float = 400.0) -> None:
        self.bins = tuple(bins)
        self.cfg = config
        self.max_jump_mm = max_jump_mm
        self._tracks: list[_Track] = []

    def reset(self) -> None:
        self._tracks.clear()

    def _speed(self, tr: _Track) -> float | None:
        h = tr.history
        if len(h) < 2:
            return None
        t1, x1, y1 = h[-1]
        for t0, x0, y0 in reversed(h):
            if t1 - t0 >= self.cfg.speed_window_s:
                return math.hypot(x1 - x0, y1 - y0) / (t1 - t0)
        t0, x0, y0 = h[0]
        return math.hypot(x1 - x0, y1 - y0) / (t1 - t0) if t1 > t0 else None

    def _heading(self, tr: _Track) -> tuple[float, float]:
        """Unit vector of the tip's recent motion (over about ``speed_window_s``); +y when unknown."""
        h = tr.history
        t1, x1, y1 = h[-1]
        x0, y0 = h[0][1], h[0][2]
        for t0, xa, ya in reversed(h):
            x0, y0 = xa, ya
            if t1 - t0 >= self.cfg.speed_window_s:
                break
        n = math.hypot(x1 - x0, y1 - y0)
        return ((x1 - x0) / n, (y1 - y0) / n) if n > 1e-6 else (0.0, 1.0)

    def _associate(self, hands: Sequence[Hand], t: float) -> list[_Track]:
        for tr in self._tracks:
            tr.seen = False
        free = list(range(len(self._tracks)))
        current: list[_Track] = []
        pairs = sorted(
            (math.dist(h.tip_mm, tr.tip), hi, ti)
            for hi, h in enumerate(hands)
            for ti, tr in enumerate(self._tracks)
        )
        taken_h: set[int] = set()
        for d, hi, ti in pairs:
            if d > self.max_jump_mm or hi in taken_h or ti not in free:
                continue
            taken_h.add(hi)
            free.remove(ti)
            tr = self._tracks[ti]
            tr.tip, tr.t, tr.seen = hands[hi].tip_mm, t, True
            tr.history.append((t, *hands[hi].tip_mm))
            current.append(tr)
        for hi, h in enumerate(hands):
            if hi not in taken_h:
                tr = _Track(h.tip_mm, t)
                tr.history.append((t, *h.tip_mm))
                current.append(tr)
        return current

    def update(
        self,
        hands: Sequence[Hand],
        depth_mm: Callable[[str, Point], float],
        t: float,
        suspended: bool = False,
    ) -> tuple[PickSeen, ...]:
        """Feed one frame's hands; returns the picks that completed in this frame.

        ``depth_mm(bin, point)`` is the signed distance of a point to the bin's edge (positive inside).
        ``suspended`` (someone leans over the bench): open visits are dropped and none start. A visit
        starts only when a tracked tip is seen crossing into the bin (not when a hand first appears inside).
        """
        cfg = self.cfg
        prev_t = {id(tr): tr.t for tr in self._tracks}
        tracks = self._associate(hands, t)
        picks: list[PickSeen] = []
        if suspended:
            self._tracks = []  # after it, tips found already inside a bin did not enter it in view
            return ()
        for tr in tracks:
            dt = t - prev_t.get(id(tr), t)
            speed = self._speed(tr)
            for b in self.bins:
                d = depth_mm(b, tr.tip)
                v = tr.visits.get(b)
                if v is None:
                    if d < cfg.zone_margin_mm:
                        tr.outside.add(b)
                    elif b in tr.outside:
                        tr.visits[b] = _Visit(b, t, tr.tip, self._heading(tr))
                    continue
                if d <= -cfg.zone_exit_mm:
                    if v.out_since is None:
                        v.out_since = t
                    if d <= -3.0 * cfg.zone_exit_mm or t - v.out_since >= cfg.exit_hold_s:
                        del tr.visits[b]
                        if v.qualifies(cfg):
                            picks.append(PickSeen(b, v.t_enter, v.out_since))
                    continue
                v.out_since = None
                if speed is not None and speed < cfg.reach_slow_mm_s:
                    v.slow_s += dt
                prog = (tr.tip[0] - v.entry[0]) * v.direction[0] + (tr.tip[1] - v.entry[1]) * v.direction[1]
                v.depth = max(v.depth, prog)
                if v.depth - prog >= cfg.reach_turn_mm:
                    v.turned = True
        for tr in self._tracks:
            if not tr.seen:  # the hand is gone: a visit it had already left counts, an open one does not
                picks.extend(
                    PickSeen(v.bin, v.t_enter, v.out_since)
                    for v in tr.visits.values()
                    if v.out_since is not None and v.qualifies(cfg)
                )
        self._tracks = tracks
        return tuple(picks)
