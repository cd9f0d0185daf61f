"""Builders for report tests: an instruction with expected times and a log written unit by unit.

:class:`LogBuilder` writes what the step engine would log (same kinds and data keys as
``oss/engine/events.py``) on a clock it controls, so every figure of a report is known in advance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from oss.instructions.model import Bench, Instruction, Press, Step, Text
from oss.log.rows import Scalar
from oss.log.store import EventStore
from oss.records import LogEvent

T0 = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)  # a Monday, 08:00 in Amsterdam


def instruction(
    product: str = "widget", version: str = "1", expected: tuple[float | None, ...] = (10.0, 20.0, 30.0)
) -> Instruction:
    return Instruction(
        product_id=product,
        product_name=Text.of(en=product),
        version=version,
        languages=("en",),
        default_language="en",
        bench=Bench(1000, 600),
        fixtures={},
        parts={},
        zones={},
        steps=tuple(
            Step(f"s{i}", Text.of(en=f"step {i}"), Press(), expected_s=e) for i, e in enumerate(expected)
        ),
        content_hash=f"{product}-{version}".ljust(16, "0")[:16],
    )


@dataclass
class LogBuilder:
    """Writes sessions and units into one station's log. ``now`` is the wall clock of the next event."""

    path: Path
    station: str
    now: datetime = T0
    mono: float = 1000.0
    _store: EventStore | None = None
    _sid: str = ""
    _cycle: int = 0
    _ins: Instruction | None = None
    written: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._store = EventStore(self.path, self.station)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def _ev(self, kind: str, uid: str = "", **data: Scalar) -> LogEvent:
        return LogEvent(
            kind,
            self.mono,
            self.now.isoformat(timespec="milliseconds"),
            uid,
            self._cycle,
            tuple(data.items()),
        )

    def _put(self, *events: LogEvent) -> None:
        assert self._store is not None
        self.written += self._store.append_many(self._sid, events)

    def wait(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds

    def at(self, when: datetime) -> None:
        self.wait((when - self.now).total_seconds())

    def session(self, operator: str, ins: Instruction, variant: str | None = None) -> None:
        assert self._store is not None
        self._sid = self._store.open_session(operator, ins, variant, utc=self.now.isoformat())
        self._ins, self._cycle = ins, 0
        self._put(
            self._ev(
                "session_start",
                station=self.station,
                operator=operator,
                product=ins.product_id,
                version=ins.version,
                variant=variant,
                resumed=False,
            )
        )

    def end_session(self) -> None:
        assert self._store is not None
        self._put(self._ev("session_end", units=self._cycle, duration_s=0.0))
        self._store.close_session(self._sid, utc=self.now.isoformat())

    def unit(
        self,
        durations: tuple[float, ...],
        errors: dict[int, int] | None = None,
        help_s: dict[int, float] | None = None,
        pause_s: dict[int, float] | None = None,
        skip: tuple[int, ...] = (),
        finish: bool = True,
    ) -> None:
        """One unit: step i takes ``durations[i]`` s of work, plus ``pause_s[i]`` paused; ``errors[i]``
        wrong picks (each raised and cleared); a help request of ``help_s[i]`` s (within the step)."""
        assert self._ins is not None
        errors, help_s, pause_s = errors or {}, help_s or {}, pause_s or {}
        self._cycle += 1
        steps = self._ins.steps
        self._put(self._ev("cycle_start", steps=len(steps), resumed=False))
        total = paused_total = 0.0
        n_err = n_help = 0
        for i, (st, d) in enumerate(zip(steps, durations, strict=True)):
            self._put(self._ev("step_start", st.id, index=i, total=len(steps), expected_s=st.expected_s))
            for _ in range(errors.get(i, 0)):
                self._put(self._ev("error", st.id, rule="wrong_pick", bin="bin_x", cleared=False))
                self._put(self._ev("error", st.id, bin="bin_x", cleared=True, by="put_back"))
            if i in help_s:
                self._put(self._ev("help", st.id, on=True, source="keyboard"))
                self.wait(help_s[i])
                self._put(self._ev("help", st.id, on=False, source="keyboard"))
                d -= help_s[i]
            if i in pause_s:
                self._put(self._ev("pause", st.id, source="pedal"))
                self.wait(pause_s[i])
                self._put(self._ev("resume", st.id, source="pedal", paused_s=pause_s[i]))
                paused_total += pause_s[i]
            self.wait(d)
            result = "skip" if i in skip else "done"
            work = durations[i]
            self._put(
                self._ev(
                    "step_end",
                    st.id,
                    index=i,
                    result=result,
                    duration_s=work,
                    paused_s=pause_s.get(i, 0.0),
                    expected_s=st.expected_s,
                    errors=errors.get(i, 0),
                    help=int(i in help_s),
                )
            )
            total += work
            n_err += errors.get(i, 0)
            n_help += int(i in help_s)
        if finish:
            self._put(
                self._ev(
                    "cycle_end",
                    duration_s=total,
                    paused_s=paused_total,
                    errors=n_err,
                    help=n_help,
                    skips=len(skip),
                    steps=len(steps),
                )
            )


RATE = 0.8  # anna's learning rate in the scenario
T1 = 90.0


def anna_durations(n: int) -> tuple[float, float, float]:
    """Anna's n-th unit follows T_n = 90 · n^log2(0.8) exactly, split 1:2:3 over the three steps."""
    import math

    total = T1 * n ** math.log2(RATE)
    return (total / 6, total * 2 / 6, total * 3 / 6)


def scenario(folder: Path) -> list[Path]:
    """Two stations, three operators, two instruction versions; the figures are in test_tables.py.

    st1 (2025-03-03 from 07:00 UTC): anna, widget v1 (expected 10/20/30 s = 60 s), 6 units on her learning
    curve; unit 1 has one wrong pick in s1, unit 2 a 5 s help request in s0, unit 3 a 60 s pause in s2.
    st2 (2025-03-04 from 13:00 UTC): ben, widget v2 (expected 10/20/20 s = 50 s), 3 units of 56 s, the
    third skips s2 (5 s); then a unit he leaves unfinished (all steps end, no cycle_end); then cara on
    widget v1, 30 units of exactly 10/20/30 s without errors.
    """
    st1, st2 = folder / "st1.sqlite", folder / "st2.sqlite"
    b = LogBuilder(st1, "st1")
    b.session("anna", instruction(version="1"))
    extras: dict[int, dict[str, dict[int, int] | dict[int, float]]] = {
        1: {"errors": {1: 1}},
        2: {"help_s": {0: 5.0}},
        3: {"pause_s": {2: 60.0}},
    }
    for n in range(1, 7):
        b.unit(anna_durations(n), **extras.get(n, {}))  # type: ignore[arg-type]
        b.wait(4)
    b.end_session()
    b.close()
    b = LogBuilder(st2, "st2", now=datetime(2025, 3, 4, 13, 0, tzinfo=UTC))
    b.session("ben", instruction(version="2", expected=(10.0, 20.0, 20.0)))
    b.unit((12.0, 22.0, 22.0))
    b.unit((12.0, 22.0, 22.0))
    b.unit((12.0, 22.0, 5.0), skip=(2,))
    b.unit((12.0, 22.0, 22.0), finish=False)
    b.end_session()
    b.session("cara", instruction(version="1"))
    for _ in range(30):
        b.unit((10.0, 20.0, 30.0))
        b.wait(2)
    b.end_session()
    b.close()
    return [st1, st2]
