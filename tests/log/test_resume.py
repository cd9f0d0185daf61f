"""Finding the unit to resume after a restart."""

from __future__ import annotations

from pathlib import Path

from oss.log import EventStore
from tests.log.builders import ev, tiny_instruction


def _unit(store: EventStore, sid: str, cycle: int, steps: list[str], end: bool = False) -> None:
    store.append(sid, ev("cycle_start", cycle=cycle))
    for uid in steps:
        store.append(sid, ev("step_start", uid, cycle))
        store.append(sid, ev("step_end", uid, cycle))
    if end:
        store.append(sid, ev("cycle_end", cycle=cycle))


def test_half_done_unit_is_found_after_reopening(tmp_path: Path, sample_instruction) -> None:
    db = tmp_path / "e.db"
    uids = [r.uid for r in sample_instruction.run_steps("w60")]
    with EventStore(db, "st") as store:
        sid = store.open_session("anna", sample_instruction, "w60")
        _unit(store, sid, 1, uids, end=True)
        _unit(store, sid, 2, uids[:5])
        store.append(sid, ev("step_start", uids[5], 2))
        store.append(sid, ev("pick", uids[5], 2))
    with EventStore(db, "st") as store:
        point = store.unfinished_unit(sample_instruction)
    assert point is not None
    assert (point.session_id, point.operator, point.variant, point.cycle) == (sid, "anna", "w60", 2)
    assert point.completed == tuple(uids[:5])
    assert (point.last_step_uid, point.last_step_index) == (uids[4], 4)
    assert (point.in_progress_uid, point.in_progress_index, point.next_step_index) == (uids[5], 5, 5)
    assert point.instruction_hash == sample_instruction.content_hash and not point.session_closed


def test_finished_unit_or_no_unit_gives_none(tmp_path: Path) -> None:
    ins = tiny_instruction()
    with EventStore(tmp_path / "e.db", "st") as store:
        assert store.unfinished_unit(ins) is None
        sid = store.open_session("a", ins, None)
        assert store.unfinished_unit(ins) is None
        _unit(store, sid, 1, ["s0", "s1", "s2"], end=True)
        assert store.unfinished_unit(ins) is None


def test_back_makes_the_earlier_step_the_one_to_resume(tmp_path: Path) -> None:
    ins = tiny_instruction()
    with EventStore(tmp_path / "e.db", "st") as store:
        sid = store.open_session("a", ins, None)
        _unit(store, sid, 1, ["s0", "s1"])
        store.append(sid, ev("back", "s1", 1))
        store.append(sid, ev("step_start", "s0", 1))
        point = store.unfinished_unit(ins)
    assert point is not None
    assert (point.last_step_uid, point.in_progress_uid, point.next_step_index) == ("s1", "s0", 0)


def test_without_instruction_indexes_come_from_logged_data(tmp_path: Path) -> None:
    ins = tiny_instruction()
    with EventStore(tmp_path / "e.db", "st") as store:
        sid = store.open_session("a", ins, None)
        store.append(sid, ev("cycle_start", cycle=3))
        store.append(sid, ev("step_end", "s0", 3, index=0))
        store.append(sid, ev("step_end", "s1", 3))  # the engine did not log an index here
        point = store.unfinished_unit()
    assert point is not None
    assert (point.cycle, point.last_step_uid, point.last_step_index) == (3, "s1", -1)


def test_empty_newer_session_does_not_hide_the_unfinished_unit(tmp_path: Path) -> None:
    ins = tiny_instruction()
    with EventStore(tmp_path / "e.db", "st") as store:
        old = store.open_session("a", ins, None)
        _unit(store, old, 1, ["s0"])
        store.close_session(old)
        store.open_session("b", ins, None)  # the station restarted and crashed again at once
        point = store.unfinished_unit(ins)
    assert point is not None and point.session_id == old and point.session_closed
    assert point.next_step_index == 1


def test_resumed_unit_in_a_new_session_carries_its_start_index(tmp_path: Path) -> None:
    ins = tiny_instruction()
    with EventStore(tmp_path / "e.db", "st") as store:
        old = store.open_session("a", ins, None)
        _unit(store, old, 1, ["s0", "s1"])
        new = store.open_session("a", ins, None)
        store.append(new, ev("cycle_start", cycle=1, resume_step_index=2, resumed_from=old))
        point = store.unfinished_unit(ins)
    assert point is not None and point.session_id == new and point.next_step_index == 2


def test_only_this_station_and_this_instruction_count(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    ins, changed = tiny_instruction("aaaa"), tiny_instruction("bbbb")
    with EventStore(db, "other") as store:
        _unit(store, store.open_session("x", ins, None), 1, ["s0"])
    with EventStore(db, "st") as store:
        assert store.unfinished_unit(ins) is None  # the other station's unit is not ours
        _unit(store, store.open_session("a", ins, None), 1, ["s0"])
        assert store.unfinished_unit(changed) is None  # the file changed: its steps may differ
        point = store.unfinished_unit(ins)
        assert point is not None and point.instruction_hash == "aaaa"
