"""Incremental evaluation of a step's done-condition (the tree of ``oss.instructions.model``).

A :class:`ConditionTracker` is built when a step starts and is fed, in order, the picks, frames,
presses and clock ticks of that step. Times passed in are **step seconds**: seconds since the step
started with paused time left out (the engine owns that clock). Every node latches once met, so a
part confirmed in its place stays confirmed when a hand later covers it.

Semantics, per leaf (only while the leaf is *active*: from step start, or in a ``sequence`` from the
moment the element before it is met):

``pick``
    counts PickSeen of its bin that complete while it is active; met at ``count``. A pick goes to
    the first leaf that can count it, so ``all: [pick A, pick A]`` needs two picks.
``present`` / ``absent``
    a *run* of frames in which the zone reads PRESENT (EMPTY) and no hand tip is in the zone.
    Consecutive frames of the run add their interval (at most ``max_frame_gap_s``, so a stalled
    camera adds little) to the run's time; met when the run lasts ``present_s`` and has
    ``present_min_frames`` frames.
    A hand in the zone or the opposite reading (EMPTY for present) ends the run at once.
    UNKNOWN (an arm over the zone, camera lost) pauses the run: it adds no time, keeps what was
    counted, and resets the run only when it lasts longer than ``unknown_hold_s``. So a one-frame
    flicker never confirms, and a brief shadow never throws away a nearly confirmed part.
``hand_in``
    a hand tip in the zone continuously for ``dwell_s``, (nearly) still there: a tip moving faster than
    ``hand_still_mm_s`` is passing through, not in the zone. A dropout is bridged while it lasts at most
    ``hand_dropout_frames`` frames or at most ``hand_dropout_s`` (whichever allows more, so a slow
    camera is not stricter than a fast one), once the hand has been in the zone for
    ``hand_entry_frames`` frames in a row (before that a miss starts over: a tip grazing the zone on
    its way in is no entry); the dwell is only judged on frames where the hand is seen.
``press``
    a press of exactly that button (``next``, ``confirm``, ``help``) while active.
``timer``
    ``seconds`` of step time since the timer became active (step start at the top level, the
    previous element's completion inside a sequence).
``all`` / ``any`` / ``sequence``
    all children met (each latched) / one child met / the children in order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

from oss.engine.config import EngineConfig
from oss.instructions import model as m
from oss.records import Button, Observation, PickSeen, Presence


class _Node(ABC):
    def __init__(self) -> None:
        self.active = False
        self.met = False

    def activate(self, s: float) -> None:
        self.active = True

    def on_pick(self, pick: PickSeen, s: float) -> bool:
        return False

    def on_frame(self, obs: Observation, s: float) -> None:
        return None

    def on_press(self, button: Button, s: float) -> bool:
        return False

    def on_time(self, s: float) -> None:
        return None

    def reset_transients(self) -> None:
        return None

    @property
    def live(self) -> bool:
        """Active and not yet met: the only state in which input changes anything."""
        return self.active and not self.met

    @abstractmethod
    def progress(self) -> float: ...

    def children(self) -> tuple[_Node, ...]:
        return ()

    def walk(self) -> Iterator[_Node]:
        yield self
        for c in self.children():
            yield from c.walk()


class _Pick(_Node):
    def __init__(self, cond: m.Pick) -> None:
        super().__init__()
        self.bin, self.need, self.count = cond.bin, max(1, cond.count), 0

    def on_pick(self, pick: PickSeen, s: float) -> bool:
        if not self.live or pick.bin != self.bin:
            return False
        self.count += 1
        self.met = self.count >= self.need
        return True

    def progress(self) -> float:
        return 1.0 if self.met else self.count / self.need


class _ZoneRun(_Node):
    """``present`` (target PRESENT) or ``absent`` (target EMPTY); see the module docstring."""

    def __init__(self, zone: str, target: Presence, cfg: EngineConfig) -> None:
        super().__init__()
        self.zone, self.target, self.cfg = zone, target, cfg
        self.opposite = Presence.EMPTY if target is Presence.PRESENT else Presence.PRESENT
        self.reset_transients()

    def reset_transients(self) -> None:
        self.run_s = 0.0
        self.frames = 0
        self.prev_s: float | None = None  # step time of the previous frame of the run
        self.unknown_since: float | None = None

    def on_frame(self, obs: Observation, s: float) -> None:
        if not self.live:
            return
        reading = obs.presence_of(self.zone) if obs.camera_ok else Presence.UNKNOWN
        if obs.hands_in(self.zone) > 0 or reading is self.opposite:
            self.reset_transients()
            return
        if reading is Presence.UNKNOWN:
            if self.unknown_since is None:
                self.unknown_since = s
            elif s - self.unknown_since > self.cfg.unknown_hold_s:
                self.run_s, self.frames = 0.0, 0
            self.prev_s = None
            return
        self.unknown_since = None
        if self.prev_s is not None:
            self.run_s += min(max(0.0, s - self.prev_s), self.cfg.max_frame_gap_s)
        self.prev_s = s
        self.frames += 1
        if self.run_s >= self.cfg.present_s and self.frames >= self.cfg.present_min_frames:
            self.met = True

    def progress(self) -> float:
        if self.met:
            return 1.0
        by_time = self.run_s / self.cfg.present_s if self.cfg.present_s > 0 else 1.0
        by_frames = self.frames / self.cfg.present_min_frames
        return min(0.99, by_time, by_frames)


class _HandIn(_Node):
    def __init__(self, cond: m.HandIn, cfg: EngineConfig) -> None:
        super().__init__()
        self.zone, self.dwell_s, self.cfg = cond.zone, cond.dwell_s, cfg
        self.reset_transients()

    def reset_transients(self) -> None:
        self.since: float | None = None
        self.last_seen = 0.0
        self.missed = 0  # frames without the hand since it was last seen
        self.entered = 0  # frames in a row with the hand in the zone, from ``since`` on

    def on_frame(self, obs: Observation, s: float) -> None:
        if not self.live:
            return
        cfg = self.cfg
        still = any(
            self.zone in h.zones and (h.speed_mm_s is None or h.speed_mm_s <= cfg.hand_still_mm_s)
            for h in obs.hands
        )
        if not (obs.camera_ok and still):
            if self.since is not None:
                self.missed += 1
                if self.entered < cfg.hand_entry_frames or (
                    self.missed > cfg.hand_dropout_frames and s - self.last_seen > cfg.hand_dropout_s
                ):
                    self.reset_transients()
            return
        if self.since is None:
            self.since = s
        if self.missed == 0:
            self.entered += 1
        self.last_seen, self.missed = s, 0
        if s - self.since >= self.dwell_s:
            self.met = True

    def progress(self) -> float:
        if self.met:
            return 1.0
        if self.since is None or self.dwell_s <= 0:
            return 0.0
        return min(0.99, (self.last_seen - self.since) / self.dwell_s)


class _Press(_Node):
    def __init__(self, cond: m.Press) -> None:
        super().__init__()
        self.button = cond.button

    def on_press(self, button: Button, s: float) -> bool:
        if not self.live or button.value != self.button:
            return False
        self.met = True
        return True

    def progress(self) -> float:
        return 1.0 if self.met else 0.0


class _Timer(_Node):
    def __init__(self, cond: m.Timer) -> None:
        super().__init__()
        self.seconds, self.t0, self.elapsed = cond.seconds, 0.0, 0.0

    def activate(self, s: float) -> None:
        super().activate(s)
        self.t0 = s
        self.on_time(s)

    def on_time(self, s: float) -> None:
        if not self.live:
            return
        self.elapsed = max(self.elapsed, s - self.t0)
        self.met = self.elapsed >= self.seconds

    def on_frame(self, obs: Observation, s: float) -> None:
        self.on_time(s)

    def progress(self) -> float:
        return 1.0 if self.met else min(0.99, self.elapsed / self.seconds if self.seconds > 0 else 1.0)


class _Group(_Node):
    """``all`` and ``any``: every child is active while the group is."""

    def __init__(self, kids: tuple[_Node, ...], need_all: bool) -> None:
        super().__init__()
        self.kids, self.need_all = kids, need_all

    def children(self) -> tuple[_Node, ...]:
        return self.kids

    def activate(self, s: float) -> None:
        super().activate(s)
        for k in self.kids:
            k.activate(s)
        self._settle()

    def _settle(self) -> None:
        done = [k.met for k in self.kids]
        self.met = self.met or (all(done) if self.need_all else any(done))

    def on_pick(self, pick: PickSeen, s: float) -> bool:
        counted = self.live and any(k.on_pick(pick, s) for k in self.kids)
        self._settle()
        return counted

    def on_press(self, button: Button, s: float) -> bool:
        counted = self.live and any(k.on_press(button, s) for k in self.kids)
        self._settle()
        return counted

    def on_frame(self, obs: Observation, s: float) -> None:
        if self.live:
            for k in self.kids:
                k.on_frame(obs, s)
            self._settle()

    def on_time(self, s: float) -> None:
        if self.live:
            for k in self.kids:
                k.on_time(s)
            self._settle()

    def reset_transients(self) -> None:
        for k in self.kids:
            k.reset_transients()

    def progress(self) -> float:
        if self.met:
            return 1.0
        ps = [k.progress() for k in self.kids]
        return (sum(ps) / len(ps) if self.need_all else max(ps)) if ps else 0.0


class _Sequence(_Node):
    def __init__(self, kids: tuple[_Node, ...]) -> None:
        super().__init__()
        self.kids, self.at = kids, 0

    def children(self) -> tuple[_Node, ...]:
        return self.kids

    def activate(self, s: float) -> None:
        super().activate(s)
        if self.kids:
            self.kids[0].activate(s)
        self._advance(s, None)

    def _advance(self, s: float, obs: Observation | None) -> None:
        """Step past met elements; a newly active element sees the same frame (not the same pick)."""
        while self.at < len(self.kids) and self.kids[self.at].met:
            self.at += 1
            if self.at < len(self.kids):
                nxt = self.kids[self.at]
                nxt.activate(s)
                if obs is not None:
                    nxt.on_frame(obs, s)
        self.met = self.at >= len(self.kids)

    def _current(self) -> _Node | None:
        return self.kids[self.at] if self.live and self.at < len(self.kids) else None

    def on_pick(self, pick: PickSeen, s: float) -> bool:
        cur = self._current()
        counted = cur is not None and cur.on_pick(pick, s)
        self._advance(s, None)
        return counted

    def on_press(self, button: Button, s: float) -> bool:
        cur = self._current()
        counted = cur is not None and cur.on_press(button, s)
        self._advance(s, None)
        return counted

    def on_frame(self, obs: Observation, s: float) -> None:
        cur = self._current()
        if cur is not None:
            cur.on_frame(obs, s)
            self._advance(s, obs)

    def on_time(self, s: float) -> None:
        cur = self._current()
        if cur is not None:
            cur.on_time(s)
            self._advance(s, None)

    def reset_transients(self) -> None:
        for k in self.kids:
            k.reset_transients()

    def progress(self) -> float:
        if self.met:
            return 1.0
        if not self.kids:
            return 0.0
        return (self.at + self.kids[self.at].progress()) / len(self.kids)


def _build(cond: m.Condition, cfg: EngineConfig) -> _Node:
    if isinstance(cond, m.Pick):
        return _Pick(cond)
    if isinstance(cond, m.PartPresent):
        return _ZoneRun(cond.zone, Presence.PRESENT, cfg)
    if isinstance(cond, m.PartAbsent):
        return _ZoneRun(cond.zone, Presence.EMPTY, cfg)
    if isinstance(cond, m.HandIn):
        return _HandIn(cond, cfg)
    if isinstance(cond, m.Press):
        return _Press(cond)
    if isinstance(cond, m.Timer):
        return _Timer(cond)
    if isinstance(cond, m.Sequence):
        return _Sequence(tuple(_build(c, cfg) for c in cond.conditions))
    kids = tuple(_build(c, cfg) for c in cond.conditions)
    return _Group(kids, need_all=isinstance(cond, m.AllOf))


class ConditionTracker:
    """One step's done-condition being watched; see the module docstring for the semantics.

    ``s`` arguments are step seconds (0 at step start, paused time left out), non-decreasing.
    """

    def __init__(self, condition: m.Condition, config: EngineConfig | None = None, s0: float = 0.0) -> None:
        self.condition = condition
        self._root = _build(condition, config or EngineConfig())
        self._root.activate(s0)

    @property
    def met(self) -> bool:
        return self._root.met

    @property
    def progress(self) -> float:
        """0..1 for display: picks counted, dwell and debounce fractions, elements of a sequence done."""
        return max(0.0, min(1.0, self._root.progress()))

    def on_pick(self, pick: PickSeen, s: float) -> bool:
        """Offer one completed pick; True when a ``pick`` leaf counted it."""
        return self._root.on_pick(pick, s)

    def on_frame(self, obs: Observation, s: float) -> None:
        """One frame's hands and presence (its picks go through :meth:`on_pick` first)."""
        self._root.on_frame(obs, s)

    def on_press(self, button: Button, s: float) -> bool:
        """Offer a button press; True when a ``press`` leaf took it."""
        return self._root.on_press(button, s)

    def on_time(self, s: float) -> None:
        """Let timers see the clock when no frame comes."""
        self._root.on_time(s)

    def reset_transients(self) -> None:
        """Forget runs and dwells in progress (after a pause or an error): they must be seen again."""
        self._root.reset_transients()

    def live_pick_bins(self) -> dict[str, int]:
        """Bins a pick would be counted from right now, with how many picks each still needs."""
        out: dict[str, int] = {}
        for n in self._root.walk():
            if isinstance(n, _Pick) and n.live:
                out[n.bin] = out.get(n.bin, 0) + n.need - n.count
        return out

    def pending_pick_bins(self) -> tuple[str, ...]:
        """Bins of every pick leaf not yet met, active or still waiting in a sequence."""
        return tuple(dict.fromkeys(n.bin for n in self._root.walk() if isinstance(n, _Pick) and not n.met))

    def pending_presence_zones(self) -> tuple[str, ...]:
        """Zones of ``present``/``absent`` leaves not yet met (perception should start watching them)."""
        return tuple(
            dict.fromkeys(n.zone for n in self._root.walk() if isinstance(n, _ZoneRun) and not n.met)
        )

    def wants_press(self, button: Button) -> bool:
        """Whether a press of ``button`` would be taken right now."""
        return any(isinstance(n, _Press) and n.live and n.button == button.value for n in self._root.walk())


def has_press(condition: m.Condition) -> bool:
    """Whether the condition contains a ``press`` anywhere (a step the operator confirms by hand)."""
    return any(isinstance(c, m.Press) for c in m.iter_conditions(condition))
