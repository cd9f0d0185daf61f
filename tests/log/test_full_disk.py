"""A full database or disk: events are kept in memory, the error says what to do, nothing is lost."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from oss.log import EventStore, LogStorageError
from tests.log.builders import ev, tiny_instruction

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
        assert str(db) in str(err) and "size limit" in str(err) and "kept in memory" in str(err)
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
    with EventStore(db, "st") as store:
        assert [e.kind for e in store.events()][-4:] == ["pick", "error", "help", "step_end"]


def test_close_with_writes_still_failing_logs_them_and_raises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = EventStore(tmp_path / "e.db", "st", size_limit_bytes=64 * 1024)
    sid = store.open_session("a", tiny_instruction(), None)
    _, err = _fill(store, sid)
    caplog.set_level(logging.ERROR, logger="oss.log.store")
    with pytest.raises(LogStorageError, match="1 write"):
        store.close()
    assert err.event_ids[0] in caplog.text  # the lost event is at least in the error log
    assert store.closed


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs: a real full disk (needs permission to mount, as root in a container)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tiny tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=True)


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
