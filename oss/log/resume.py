"""Where to carry on with a unit a crashed or stopped station left half done.

The unit's events after its ``cycle_start`` are replayed: ``step_start`` marks a step in progress,
``step_end`` completes it (and clears the step in progress). A step that started again after a ``back``
is in progress even though a later step had ended before, so the operator redoes it first.

A station that resumes a unit in a new session logs a ``cycle_start`` for it with data
``resume_step_index`` (the index it carries on at): that is where a second interruption resumes when no
step of the new session completed.
"""

from __future__ import annotations

from collections.abc import Sequence

from oss.instructions.model import Instruction
from oss.log.rows import ResumePoint, SessionInfo, StoredEvent


def _index_lookup(instruction: Instruction | None, variant: str | None) -> dict[str, int]:
    if instruction is None:
        return {}
    try:
        return {rs.uid: rs.index for rs in instruction.run_steps(variant)}
    except KeyError:  # the logged variant is not in this instruction: indexes stay unknown
        return {}


def _index(uid: str, ev: StoredEvent | None, lookup: dict[str, int], known: bool) -> int:
    if not uid:
        return -1
    if known:
        return lookup.get(uid, -1)
    logged = ev.get("index") if ev is not None else None
    return logged if isinstance(logged, int) and not isinstance(logged, bool) else -1


def find_resume_point(
    session: SessionInfo,
    cycle_start: StoredEvent,
    step_events: Sequence[StoredEvent],
    instruction: Instruction | None = None,
) -> ResumePoint:
    """The resume point of the unit begun by ``cycle_start``, from its later step events (in order).

    Without an instruction, step indexes come from the events' data ``index`` where the engine logged it.
    """
    variant = cycle_start.variant
    lookup = _index_lookup(instruction, variant)
    known = bool(lookup)
    completed: list[str] = []
    last_done: StoredEvent | None = None
    in_progress: StoredEvent | None = None
    last_utc = cycle_start.utc
    for ev in step_events:
        last_utc = ev.utc
        if ev.kind == "step_start":
            in_progress = ev
        elif ev.kind == "step_end":
            completed.append(ev.step_uid)
            last_done = ev
            if in_progress is not None and in_progress.step_uid == ev.step_uid:
                in_progress = None
    first = cycle_start.get("resume_step_index")
    last_uid = last_done.step_uid if last_done else ""
    cur_uid = in_progress.step_uid if in_progress else ""
    return ResumePoint(
        session_id=session.id,
        station=session.station,
        operator=session.operator,
        product_id=session.product_id,
        instruction_version=session.instruction_version,
        instruction_hash=session.instruction_hash,
        variant=variant,
        cycle=cycle_start.cycle,
        last_step_uid=last_uid,
        last_step_index=_index(last_uid, last_done, lookup, known),
        in_progress_uid=cur_uid,
        in_progress_index=_index(cur_uid, in_progress, lookup, known),
        completed=tuple(completed),
        started_utc=cycle_start.utc,
        last_utc=last_utc,
        session_closed=session.closed,
        first_step_index=first if isinstance(first, int) and not isinstance(first, bool) else 0,
    )
