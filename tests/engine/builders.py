"""Builders for engine tests: observations, presses, small instructions, and a scripted operator.

A :class:`Script` is a timeline of Observations and InputEvents at a fixed frame rate; the zone
presence it reports persists from frame to frame until changed, as perception's would.
:func:`perform` appends what an operator does to satisfy a condition, so a whole instruction can be
driven open loop: if the engine did not advance where the script expects, later picks come out as
errors and the test fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from oss.engine import StepEngine
from oss.instructions import model as m
from oss.records import Button, Hand, InputEvent, LogEvent, Observation, PickSeen, Presence

Item = Observation | InputEvent


def hand(*zones: str) -> Hand:
    return Hand(tip_mm=(0.0, 0.0), zones=zones)


def obs(
    t: float,
    *,
    hands: Iterable[str | tuple[str, ...]] = (),
    picks: Iterable[str] = (),
    presence: dict[str, Presence] | None = None,
    camera_ok: bool = True,
) -> Observation:
    """One frame: ``hands`` are the zones of hand tips (a tuple for a tip in several zones)."""
    hs = tuple(hand(*z) if isinstance(z, tuple) else hand(z) for z in hands)
    return Observation(
        t=t,
        frame_index=round(t * 1000),
        hands=hs,
        picks=tuple(PickSeen(b, t - 0.4, t) for b in picks),
        presence=tuple((presence or {}).items()),
        camera_ok=camera_ok,
    )


def press(
    t: float, button: Button = Button.NEXT, *, supervisor: bool = False, source: str = "pedal"
) -> InputEvent:
    return InputEvent(button=button, source=source, t=t, supervisor=supervisor)


class StepClock:
    """A deterministic UTC clock: 2025-01-01 00:00 plus one millisecond per call."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> datetime:
        self.calls += 1
        return datetime(2025, 1, 1, tzinfo=UTC) + timedelta(milliseconds=self.calls)


def feed(engine: StepEngine, items: Iterable[Item]) -> list[LogEvent]:
    out: list[LogEvent] = []
    for it in items:
        out += engine.update(it) if isinstance(it, Observation) else engine.handle_input(it)
    return out


def kinds(events: Iterable[LogEvent]) -> list[str]:
    return [e.kind for e in events]


@dataclass
class Script:
    """A timeline at ``fps``; ``t`` is the time of the next frame."""

    t: float = 1.0
    fps: float = 20.0
    presence: dict[str, Presence] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)

    @property
    def dt(self) -> float:
        return 1.0 / self.fps

    def frame(
        self,
        *,
        hands: Iterable[str | tuple[str, ...]] = (),
        picks: Iterable[str] = (),
        camera_ok: bool = True,
    ) -> Script:
        self.items.append(
            obs(self.t, hands=hands, picks=picks, presence=dict(self.presence), camera_ok=camera_ok)
        )
        self.t = round(self.t + self.dt, 6)
        return self

    def frames(
        self, seconds: float, *, hands: Iterable[str | tuple[str, ...]] = (), camera_ok: bool = True
    ) -> Script:
        hs = tuple(hands)
        for _ in range(max(1, round(seconds * self.fps))):
            self.frame(hands=hs, camera_ok=camera_ok)
        return self

    def set(self, zone: str, p: Presence) -> Script:
        self.presence[zone] = p
        return self

    def pick(self, bin_id: str, reach_s: float = 0.3) -> Script:
        """A hand reaches into the bin and leaves it; the pick completes on the leaving frame."""
        self.frames(reach_s, hands=[bin_id])
        return self.frame(picks=[bin_id])

    def press(self, button: Button = Button.NEXT, *, supervisor: bool = False) -> Script:
        self.items.append(press(self.t, button, supervisor=supervisor))
        return self

    def run(self, engine: StepEngine) -> list[LogEvent]:
        return feed(engine, self.items)


def perform(script: Script, cond: m.Condition) -> Script:
    """Append what an operator does to meet ``cond``, with a margin over every debounce."""
    if isinstance(cond, m.Pick):
        for _ in range(cond.count):
            script.pick(cond.bin)
    elif isinstance(cond, m.PartPresent | m.PartAbsent):
        script.set(cond.zone, Presence.UNKNOWN).frames(0.4, hands=[cond.zone])
        script.set(cond.zone, Presence.PRESENT if isinstance(cond, m.PartPresent) else Presence.EMPTY)
        script.frames(0.6)
    elif isinstance(cond, m.HandIn):
        script.frames(cond.dwell_s + 0.25, hands=[cond.zone]).frames(0.1)
    elif isinstance(cond, m.Press):
        script.frames(0.8).press(Button(cond.button)).frames(0.1)
    elif isinstance(cond, m.Timer):
        script.frames(cond.seconds + 0.2)
    elif isinstance(cond, m.AnyOf):
        perform(script, cond.conditions[0])
    else:
        for c in cond.conditions:
            perform(script, c)
    return script


# ---------------------------------------------------------------------------------------------------
# Small instructions


def step(
    id: str,
    done: m.Condition,
    *,
    hint: dict[str, str] | None = None,
    allowed: tuple[str, ...] = (),
    expected_s: float | None = None,
    repeat: int = 1,
) -> m.Step:
    errors = (m.ErrorRule("wrong_pick", m.Text.of(hint), allowed),) if hint is not None or allowed else ()
    return m.Step(
        id=id, text=m.Text.of(en=id), done=done, errors=errors, expected_s=expected_s, repeat=repeat
    )


def instruction(
    *steps: m.Step, bins: tuple[str, ...] = ("a", "b", "c", "d"), places: tuple[str, ...] = ("p", "q")
) -> m.Instruction:
    zones = {b: m.Zone(b, ((0, 0), (10, 0), (10, 10), (0, 10)), is_bin=True) for b in bins}
    zones |= {z: m.Zone(z, ((20, 0), (30, 0), (30, 10), (20, 10))) for z in places}
    return m.Instruction(
        product_id="test",
        product_name=m.Text.of(en="Test"),
        version="1",
        languages=("en", "nl"),
        default_language="en",
        bench=m.Bench(1000, 600),
        fixtures={},
        parts={},
        zones=zones,
        steps=steps,
        source="test.yaml",
    )
