"""Picks: a hand that reaches into a bin and comes out again.

Each hand tip is tracked from frame to frame (nearest neighbour). A *visit* of a bin starts when a
tracked tip moves across ``zone_margin_mm`` into the bin (not when a hand first shows up inside, nor when
the tip leaps there: a part lifted with the hand sticking out) and ends when the tip is ``zone_exit_mm``
outside for ``exit_hold_s``, or three times that far (the tip wavers at the rim); a hand that vanishes
inside a bin ends its visit without a pick. A visit is a pick when the hand did what taking a part
needs: it stopped in the bin, its tip slower than ``reach_slow_mm_s`` for ``reach_dwell_s`` (a grasp;
even a quick grab comes to rest where it turns back). A tip that sweeps across a bin on its way
elsewhere, even along a curve, never stops there and is not a pick. Putting a part back is a visit too
and is reported as a pick (the engine takes a pick from the wrongly picked bin as putting it back).

A hand is in one bin at a time: its visit of another bin starts only once the visit it is on has ended
(the tip is out of that bin as above). Until then a tip seen inside a neighbouring bin is the hand
still at the first one, reaching over the rim between them: a hand lifting a part it grasped near the
side of its bin holds it across the fingers, the part sticks out sideways, and the tip found is the
part's far corner, over the next bin's rim, where it stays while the hand lifts (slowly, like a grasp).
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
    slow_s: float = 0.0  # how long the tip was (nearly) still in the bin
    out_since: float | None = None  # the tip is outside since then (not yet for long or far)

    def qualifies(self, cfg: PerceptionConfig) -> bool:
        return self.slow_s >= cfg.reach_dwell_s


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
        self.speeds: tuple[float | None, ...] = ()  # tip speed (mm/s) of each hand of the last update

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

    def _associate(self, hands: Sequence[Hand], t: float) -> list[_Track]:
        for tr in self._tracks:
            tr.seen = False
        free = list(range(len(self._tracks)))
        by_hand: dict[int, _Track] = {}
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
            by_hand[hi] = tr
        for hi, h in enumerate(hands):
            if hi not in taken_h:
                tr = _Track(h.tip_mm, t)
                tr.history.append((t, *h.tip_mm))
                by_hand[hi] = tr
        return [by_hand[hi] for hi in range(len(hands))]  # in the order of ``hands``

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
        prev_tip = {id(tr): tr.tip for tr in self._tracks}
        tracks = self._associate(hands, t)
        self.speeds = tuple(self._speed(tr) for tr in tracks)
        picks: list[PickSeen] = []
        if suspended:
            self._tracks = []  # after it, tips found already inside a bin did not enter it in view
            return ()
        for tr in tracks:
            dt = t - prev_t.get(id(tr), t)
            speed = self._speed(tr)
            last = prev_tip.get(id(tr), tr.tip)
            # a hand moves on: a tip that leapt (a part lifted with it sticks out) did not cross into a bin
            leapt = math.hypot(tr.tip[0] - last[0], tr.tip[1] - last[1]) > cfg.max_tip_step_mm
            for b in self.bins:
                d = depth_mm(b, tr.tip)
                v = tr.visits.get(b)
                if v is None:
                    if d < cfg.zone_margin_mm:
                        tr.outside.add(b)
                    elif leapt:
                        tr.outside.discard(b)
                    elif b in tr.outside and not tr.visits:  # one bin at a time (see the module doc)
                        tr.visits[b] = _Visit(b, t)
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
        for tr in self._tracks:
            if not tr.seen:  # the hand is gone: a visit it had already left counts, an open one does not
                picks.extend(
                    PickSeen(v.bin, v.t_enter, v.out_since)
                    for v in tr.visits.values()
                    if v.out_since is not None and v.qualifies(cfg)
                )
        self._tracks = tracks
        return tuple(picks)
