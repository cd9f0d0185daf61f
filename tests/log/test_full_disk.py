"""A full database or disk: events are kept in memory and in a spill journal, the error says where and
what to do, and nothing is lost, also when the disk stays full until the station stops."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from oss.log import EventStore, LogStorageError
from tests.log.builders import ROOT, ev, fill_disk, tiny_disk, tiny_instruction

BIG = "x" * 1500  # each event takes about a page


def _fill(store: EventStore, sid: str, limit: int = 500) -> tuple[list[str], LogStorageError]:
    stored = []
    for i in range(limit):
        try:
            stored.append(store.append(sid, ev("pick", "s0", 1, n=i, pad=BIG)))
        except LogStorageError as e:
            return stored, e
    raise AssertionError("the log never filled up")


def test_full_database_spills_and_recovers(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    with EventStore(db, "st", size_limit_bytes=64 * 1024) as store:
        sid = store.open_session("a", tiny_instruction(), None)
        stored, err = _fill(store, sid)
        assert stored, "some events fitted before the limit"
        assert str(db) in str(err) and "size limit" in str(err)
        assert store.spill_path is not None and store.spill_path.parent == tmp_path  # beside the log
        assert f"saved in {store.spill_path}" in str(err) and "kept in memory" not in str(err)
        assert err.pending == 1 and len(err.event_ids) == 1
        spilled = list(err.event_ids)
        with pytest.raises(LogStorageError) as again:
            spilled += store.append_many(sid, [ev("error", "s0", 1, pad=BIG), ev("help", "s0", 1)])
        spilled += again.value.event_ids
        assert store.pending == 3 == again.value.pending
        assert [e.id for e in store.events()] == stored  # not on disk yet
        with pytest.raises(LogStorageError):
            store.open_session("b", tiny_instruction(), None)  # no session starts on a full log
        assert store.pending == 3

        store.size_limit_bytes = None  # space freed
        last = store.append(sid, ev("step_end", "s0", 1))
        assert store.pending == 0
        assert [e.id for e in store.events()] == [*stored, *spilled, last]
        assert not list(tmp_path.glob("*.spill.jsonl"))  # all in the log: the journal is gone
    with EventStore(db, "st") as store:
        assert [e.kind for e in store.events()][-4:] == ["pick", "error", "help", "step_end"]


def test_log_full_until_close_keeps_the_writes_in_the_journal_and_the_next_opening_merges_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "e.db"
    store = EventStore(db, "st", size_limit_bytes=64 * 1024)
    sid = store.open_session("a", tiny_instruction(), None)
    stored, err = _fill(store, sid)
    store.close_session(sid)  # the closing waits in the journal too; the station can stop
    caplog.set_level(logging.WARNING, logger="oss.log")
    store.close()  # nothing lost, so nothing raised
    assert "write lost" not in caplog.text
    assert f"saved in {store.spill_path}" in caplog.text and f"oss sync {db}" in caplog.text
    assert store.closed and store.spill_path is not None and store.spill_path.is_file()
    with EventStore(db, "st") as again:  # the next start, with room (no size limit this time)
        assert again.merged == 1
        assert [e.id for e in again.events()] == [*stored, *err.event_ids]
        assert again.sessions()[0].closed
    assert not store.spill_path.exists()
    with EventStore(db, "st") as third:
        assert third.merged == 0 and len(third.events()) == len(stored) + 1  # exactly once


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs: a real full disk (needs permission to mount, as root in a container)."""
    with tiny_disk(tmp_path / "tiny") as mnt:
        yield mnt


def test_real_full_disk_spills_and_recovers(tiny_fs: Path) -> None:
    db = tiny_fs / "events.db"
    with EventStore(db, "st") as store:
        sid = store.open_session("a", tiny_instruction(), None)
        filler = tiny_fs / "filler"
        with filler.open("wb", buffering=0) as f, pytest.raises(OSError):
            for _ in range(1000):
                f.write(b"\0" * 4096)
                os.fsync(f.fileno())
        stored, err = _fill(store, sid)
        assert "the disk is full" in str(err) and f"df -h {tiny_fs}" in str(err)
        filler.unlink()
        last = store.append(sid, ev("step_end", "s0", 1))
        assert store.pending == 0
        assert [e.id for e in store.events()] == [*stored, *err.event_ids, last]


def test_disk_full_until_stop_spills_elsewhere_and_the_next_start_merges_exactly_once(
    tiny_fs: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The station's case: the log's disk fills up and stays full until the station stops."""
    db, elsewhere = tiny_fs / "events.db", tmp_path / "state"
    store = EventStore(db, "st", spill_dirs=(elsewhere,))
    sid = store.open_session("a", tiny_instruction(), None)
    before = [store.append(sid, ev("step_start", "s0", 1))]
    filler = fill_disk(tiny_fs)
    after: list[str] = []
    for i in range(3):
        with pytest.raises(LogStorageError) as err:
            store.append_many(sid, [ev("step_end", "s0", 1, n=i, pad=BIG), ev("cycle_end", "", 1)])
        after += err.value.event_ids
    assert "the disk is full" in str(err.value) and "kept in memory" not in str(err.value)
    journal = store.spill_path
    assert journal is not None and journal.parent == elsewhere  # the log's own disk took nothing
    assert f"saved in {journal}" in str(err.value) and f"oss sync {db}" in str(err.value)
    store.close_session(sid)
    caplog.set_level(logging.WARNING, logger="oss.log")
    store.close()
    assert "write lost" not in caplog.text and str(journal) in caplog.text
    assert journal.is_file()

    filler.unlink()  # space freed; the station starts again
    with EventStore(db, "st", spill_dirs=(elsewhere,)) as again:
        assert again.merged == len(after) == 6
        assert [e.id for e in again.events()] == before + after
        assert again.sessions()[0].closed
    assert not journal.exists()
    with EventStore(db, "st", spill_dirs=(elsewhere,)) as third:
        assert third.merged == 0 and [e.id for e in third.events()] == before + after


def test_a_crash_while_the_disk_is_full_loses_nothing(tiny_fs: Path, tmp_path: Path) -> None:
    """The process dies (no close) while the disk is full: the journal on the other drive has it all."""
    db, elsewhere = tiny_fs / "events.db", tmp_path / "state"
    store = EventStore(db, "st", spill_dirs=(elsewhere,))
    sid = store.open_session("a", tiny_instruction(), None)
    filler = fill_disk(tiny_fs)
    with pytest.raises(LogStorageError) as err:
        store.append_many(sid, [ev("pick", "s0", 1, pad=BIG) for _ in range(4)])
    store._db.close()  # as a killed process: nothing more is written, the memory is gone
    filler.unlink()
    with EventStore(db, "st", spill_dirs=(elsewhere,)) as again:
        assert [e.id for e in again.events()] == list(err.value.event_ids)


def test_oss_sync_merges_the_journal_into_the_log(tiny_fs: Path, tmp_path: Path) -> None:
    db, state = tiny_fs / "events.db", tmp_path / "state"
    store = EventStore(db, "st", spill_dirs=(state / "oss" / "spill",))
    sid = store.open_session("a", tiny_instruction(), None)
    filler = fill_disk(tiny_fs)
    with pytest.raises(LogStorageError) as err:
        store.append(sid, ev("help", "s0", 1, pad=BIG))
    store.close()
    filler.unlink()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "OSS_FLEET"))}
    env.update(XDG_STATE_HOME=str(state), PYTHONPATH=str(ROOT))  # and no fleet store: only the merge
    done = subprocess.run(
        [sys.executable, "-m", "oss.cli", "sync", str(db)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 event(s) merged" in done.stdout and "no fleet store configured" in done.stdout
    with EventStore(db, "st", readonly=True) as ro:
        assert [e.id for e in ro.events()] == list(err.value.event_ids)
    assert not list((state / "oss" / "spill").glob("*.spill.jsonl"))


def test_nowhere_to_save_is_the_last_resort_error_log(
    tiny_fs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No place takes the journal either (all on the full disk): the writes go to the error log."""
    store = EventStore(tiny_fs / "e.db", "st", spill_dirs=(tiny_fs / "spill",))
    sid = store.open_session("a", tiny_instruction(), None)
    fill_disk(tiny_fs)
    with pytest.raises(LogStorageError) as err:
        store.append(sid, ev("pick", "s0", 1, pad=BIG))
    assert "kept in memory only" in str(err.value) and "do not stop the station" in str(err.value)
    caplog.set_level(logging.ERROR, logger="oss.log.store")
    with pytest.raises(LogStorageError, match="1 write"):
        store.close()
    assert err.value.event_ids[0] in caplog.text  # the lost event is at least in the error log
    assert store.closed


def test_a_damaged_journal_gives_what_it_can_and_is_kept_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "e.db"
    store = EventStore(db, "st", size_limit_bytes=64 * 1024)
    sid = store.open_session("a", tiny_instruction(), None)
    _, err = _fill(store, sid)
    with pytest.raises(LogStorageError) as err2:
        store.append(sid, ev("help", "s0", 1))
    journal = store.spill_path
    assert journal is not None
    store._db.close()  # as a killed process
    lines = journal.read_text().splitlines(keepends=True)
    good = json.loads(lines[1])["values"]
    wrong_kind = json.dumps({"op": "event", "values": [*good[:10], "explode", *good[11:]]}) + "\n"
    wrong_type = json.dumps({"op": "event", "values": [*good[:8], "one", *good[9:]]}) + "\n"
    bad = ["{not json\n", '{"op": "drop_table", "values": []}\n', wrong_kind, wrong_type]
    journal.write_text("".join([lines[0], *bad, *lines[1:]]) + '{"op": "ev')
    caplog.set_level(logging.WARNING, logger="oss.log")
    with EventStore(db, "st") as again:
        assert [e.id for e in again.events()][-2:] == [*err.event_ids, *err2.value.event_ids]
    kept = journal.with_name(journal.name + ".unreadable")
    assert not journal.exists() and kept.is_file()
    assert (
        "line 2: not JSON" in caplog.text
        and "line 3: not an entry" in caplog.text
        and str(kept) in caplog.text
    )
    assert "entry 1: unknown event kind 'explode'" in caplog.text
    assert "entry 2: a value of the wrong type" in caplog.text
    assert "line 8" not in caplog.text  # the last line, cut short by the crash, was never reported saved


def test_a_journal_removed_while_a_writer_waits_is_written_anew(tmp_path: Path) -> None:
    """`oss sync` merges and removes the journal while the station waits to append to it."""
    import threading

    from oss.log.spill import SpillJournal, locked

    journal = SpillJournal(tmp_path / "e.db", "abc", "st")
    first = journal.save([("close_session", ("t", "s1"))])
    saved: list[Path] = []
    with locked(first, "r+"):
        writer = threading.Thread(target=lambda: saved.append(journal.save([("close_session", ("t", "s2"))])))
        writer.start()
        writer.join(0.2)
        assert writer.is_alive()  # waits for the lock
        first.unlink()  # merged
    writer.join(5)
    assert saved == [first] and '"s2"' in first.read_text() and '"s1"' not in first.read_text()


def test_a_long_backlog_is_retried_now_and_then_not_with_every_event(tmp_path: Path) -> None:
    """While the disk stays full, each try writes the whole backlog: with a long one (all of it safe
    in the journal) the log is tried only every retry_every_s, so the station does not slow down."""
    db = tmp_path / "e.db"
    with EventStore(db, "st", size_limit_bytes=64 * 1024) as store:
        store.retry_backlog, store.retry_every_s = 2, 0.5
        sid = store.open_session("a", tiny_instruction(), None)
        stored, err = _fill(store, sid)
        pending = list(err.event_ids)
        for _ in range(3):
            with pytest.raises(LogStorageError) as more:
                store.append(sid, ev("pick", "s0", 1, pad=BIG))
            pending += more.value.event_ids
        store.size_limit_bytes = None  # room again, but within retry_every_s of the last try
        with pytest.raises(LogStorageError, match="saved in") as held:
            store.append(sid, ev("help", "s0", 1))  # journaled, not tried
        pending += held.value.event_ids
        assert store.pending == 5 and len(store.events()) == len(stored)
        assert store.spill_path is not None and store.spill_path.read_text().count('"help"') == 1
        time.sleep(0.5)
        last = store.append(sid, ev("step_end", "s0", 1))
        assert store.pending == 0 and [e.id for e in store.events()] == [*stored, *pending, last]
