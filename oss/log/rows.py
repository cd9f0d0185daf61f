"""Typed records for what the event store holds: stored events, sessions, and the point to resume at."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from oss.records import LogEvent

Scalar = str | int | float | bool | None
Data = tuple[tuple[str, Scalar], ...]


@dataclass(frozen=True)
class StoredEvent:
    """One row of ``events``: a LogEvent with the context it happened in (see ``oss.log.schema``)."""

    id: str
    seq: int
    station: str
    session_id: str
    operator: str
    product_id: str
    instruction_version: str
    instruction_hash: str
    variant: str | None
    cycle: int
    step_uid: str
    kind: str
    t_mono: float
    utc: str
    data: Data = ()

    def get(self, key: str, default: object = None) -> object:
        return dict(self.data).get(key, default)

    def to_log_event(self) -> LogEvent:
        return LogEvent(self.kind, self.t_mono, self.utc, self.step_uid, self.cycle, self.data)

    def row(self) -> tuple[object, ...]:
        """The values in ``schema.EVENT_FIELDS`` order, ``data`` as a JSON string (for the fleet sync)."""
        return (
            self.id, self.seq, self.station, self.session_id, self.operator, self.product_id,
            self.instruction_version, self.instruction_hash, self.variant, self.cycle, self.step_uid,
            self.kind, self.t_mono, self.utc, data_to_json(self.data),
        )  # fmt: skip

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> StoredEvent:
        """From the values in ``schema.EVENT_FIELDS`` order (``data`` a JSON string)."""
        (eid, seq, station, session, operator, product, version, ihash, variant, cycle, step_uid,
         kind, t_mono, utc, data) = row  # fmt: skip
        return cls(
            id=str(eid),
            seq=int(seq),
            station=str(station),
            session_id=str(session),
            operator=str(operator),
            product_id=str(product),
            instruction_version=str(version),
            instruction_hash=str(ihash),
            variant=None if variant is None else str(variant),
            cycle=int(cycle),
            step_uid=str(step_uid),
            kind=str(kind),
            t_mono=float(t_mono),
            utc=str(utc),
            data=data_from_json(str(data)),
        )


@dataclass(frozen=True)
class SessionInfo:
    """One operator's session at the station with one instruction (``ended_utc`` None while open)."""

    id: str
    station: str
    operator: str
    product_id: str
    instruction_version: str
    instruction_hash: str
    variant: str | None
    started_utc: str
    ended_utc: str | None = None

    @property
    def closed(self) -> bool:
        return self.ended_utc is not None


@dataclass(frozen=True)
class ResumePoint:
    """A unit the station's last session started and never finished.

    Step indexes are into ``Instruction.run_steps(variant)``; -1 means none, or not known because no
    instruction was given to look the uid up in. ``in_progress_uid`` is the step that had started and
    not ended when the log stops (after a ``back`` it can be before ``last_step_uid``).
    """

    session_id: str
    station: str
    operator: str
    product_id: str
    instruction_version: str
    instruction_hash: str
    variant: str | None
    cycle: int
    last_step_uid: str  # the last completed step ("" when none)
    last_step_index: int
    in_progress_uid: str
    in_progress_index: int
    completed: tuple[str, ...]  # uids of the steps that ended in this unit, in order
    started_utc: str  # the unit's cycle_start
    last_utc: str  # the unit's last logged event
    session_closed: bool
    first_step_index: int = 0  # from cycle_start data ``resume_step_index`` when the unit was resumed

    @property
    def next_step_index(self) -> int:
        """Where to carry on: the step in progress, else the one after the last completed one."""
        if self.in_progress_index >= 0:
            return self.in_progress_index
        if self.last_step_index >= 0:
            return self.last_step_index + 1
        return self.first_step_index


def _clean(v: object) -> Scalar:
    if isinstance(v, float) and not math.isfinite(v):
        return None  # JSON (and PostgreSQL jsonb) have no NaN or infinity
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return str(v)


def data_to_json(data: Data) -> str:
    """``data`` as a JSON object; keys sorted, non-finite floats stored as null."""
    return json.dumps({k: _clean(v) for k, v in data}, sort_keys=True, separators=(",", ":"), allow_nan=False)


def data_from_json(text: str) -> Data:
    obj = json.loads(text)
    if not isinstance(obj, dict):
        return ()
    return tuple((str(k), _clean(v)) for k, v in obj.items())
