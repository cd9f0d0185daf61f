"""Copies of a log and logs read where nothing may be written: a copy of the main file alone holds every
finished unit, a report says when a log looks incomplete, and a log on a read-only share is read."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from oss.log import EventStore
from oss.report import build_report
from tests.log.builders import ROOT, ev, tiny_instruction

UNIT = 1 + 3 * 2 + 1  # cycle_start, three steps started and ended, cycle_end


def _units(store: EventStore, sid: str, units: range, partial: bool = False) -> None:
    for c in units:
        store.append(sid, ev("cycle_start", "", c))
        for s in ("s0", "s1", "s2"):
            store.append_many(
                sid, [ev("step_start", s, c), ev("step_end", s, c, result="done", duration_s=2.0)]
            )
        store.append(sid, ev("cycle_end", "", c))
    if partial:
        store.append_many(sid, [ev("cycle_start", "", units.stop), ev("step_start", "s0", units.stop)])


def _copy_without_wal(db: Path, to: Path) -> Path:
    shutil.copyfile(db, to)
    assert not to.with_name(to.name + "-wal").exists()
    return to


def test_a_copy_of_the_main_file_alone_holds_every_finished_unit(tmp_path: Path) -> None:
    """The station runs (its log open, a reader open beside it); someone copies the .sqlite file
    without its -wal. Each unit's end was checkpointed, so the copy has every finished unit."""
    db = tmp_path / "station.sqlite"
    store = EventStore(db, "st")
    reader = sqlite3.connect(db)  # the fleet forwarder or the monitor: SQLite never checkpoints at close
    sid = store.open_session("anna", tiny_instruction())
    _units(store, sid, range(1, 4), partial=True)
    copy = _copy_without_wal(db, tmp_path / "copy.sqlite")
    with EventStore(copy, "st", readonly=True) as ro:
        kinds = [e.kind for e in ro.events()]
    assert kinds.count("cycle_end") == 3 and len(kinds) == 3 * UNIT  # the unit in progress is not there yet
    store.close()
    reader.close()


def test_a_clean_stop_checkpoints_everything(tmp_path: Path) -> None:
    db = tmp_path / "station.sqlite"
    store = EventStore(db, "st")
    reader = sqlite3.connect(db)  # still open when the station stops
    sid = store.open_session("anna", tiny_instruction())
    _units(store, sid, range(1, 3), partial=True)
    store.append(sid, ev("session_end", "", 3))
    store.close_session(sid)
    store.close()
    copy = _copy_without_wal(db, tmp_path / "copy.sqlite")
    reader.close()
    with EventStore(copy, "st", readonly=True) as ro:
        assert len(ro.events()) == 2 * UNIT + 3 and ro.sessions()[0].closed
    report = build_report([copy])
    assert report.notes == ()  # complete: nothing to warn about


def test_the_report_says_when_a_log_copied_without_its_wal_looks_incomplete(tmp_path: Path) -> None:
    db = tmp_path / "station.sqlite"
    store = EventStore(db, "st")
    sid = store.open_session("anna", tiny_instruction())
    _units(store, sid, range(1, 3), partial=True)
    copy = _copy_without_wal(db, tmp_path / "copy.sqlite")
    store.append(sid, ev("session_end", "", 3))  # the station goes on and stops cleanly
    store.close_session(sid)
    store.close()
    report = build_report([copy])
    assert report.table("summary").as_dict()["units"] == 2
    (note,) = report.notes
    assert f"{copy} looks incomplete" in note and "copy.sqlite-wal" in note and "anna" in note
    out = subprocess.run(
        [sys.executable, "-m", "oss.cli", "report", str(copy), "--out", str(tmp_path / "r"), "-q"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "warning:" in out.stderr and "looks incomplete" in out.stderr
    assert "looks incomplete" in (tmp_path / "r" / "report.html").read_text()
    assert build_report([db]).notes == ()  # the station's own log: complete


def test_a_live_log_and_a_gap_in_the_numbering(tmp_path: Path) -> None:
    db = tmp_path / "station.sqlite"
    store = EventStore(db, "st")
    sid = store.open_session("anna", tiny_instruction())
    _units(store, sid, range(1, 3), partial=True)
    assert build_report([db]).notes == ()  # the station is writing it: not incomplete, just not done
    store.close()
    with sqlite3.connect(db) as c:
        c.execute("DELETE FROM events WHERE seq IN (4, 5)")
    (note,) = [n for n in build_report([db]).notes if "missing" in n]
    assert "2 event(s) are missing between seq 1 and" in note


@pytest.fixture
def share(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A folder the station writes, and the same folder seen read-only (as a share this reader
    cannot write; a read-only bind mount, which needs root)."""
    station, view = tmp_path / "station", tmp_path / "share"
    station.mkdir()
    view.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root")
    for cmd in (["mount", "--bind", str(station), str(view)], ["mount", "-o", "remount,bind,ro", str(view)]):
        done = subprocess.run(cmd, capture_output=True)
        if done.returncode != 0:
            subprocess.run(["umount", str(view)], capture_output=True)
            pytest.skip(f"cannot make a read-only bind mount here: {done.stderr.decode().strip()}")
    assert not os.access(view, os.W_OK)
    try:
        yield station, view
    finally:
        subprocess.run(["umount", "-l", str(view)], check=True)


def test_a_log_on_a_read_only_share_is_read(share: tuple[Path, Path]) -> None:
    station, view = share
    with EventStore(station / "station.sqlite", "st") as store:
        sid = store.open_session("anna", tiny_instruction())
        _units(store, sid, range(1, 3))
        store.append(sid, ev("session_end", "", 2))
        store.close_session(sid)
    db = view / "station.sqlite"
    with EventStore(db, "st", readonly=True) as ro:
        assert len(ro.events()) == 2 * UNIT + 1
    report = build_report([db])
    assert report.table("summary").as_dict()["units"] == 2 and report.notes == ()
    assert not list(view.glob("*-shm")) and not list(station.glob("*-shm"))  # nothing written beside it


def test_a_live_log_on_a_read_only_share_says_what_it_cannot_read(share: tuple[Path, Path]) -> None:
    """The station still writes (its -wal holds the newest events); this reader may not write there."""
    station, view = share
    with EventStore(station / "station.sqlite", "st") as store:
        sid = store.open_session("anna", tiny_instruction())
        _units(store, sid, range(1, 3), partial=True)
        report = build_report([view / "station.sqlite"])
    assert report.table("summary").as_dict()["units"] == 2  # checkpointed at each unit's end
    assert any("station.sqlite-wal file could not be read" in n for n in report.notes), report.notes


def test_a_copy_older_than_what_was_forwarded(tmp_path: Path) -> None:
    """The fleet forwarder noted in the log how far it sent; a file that ends before that is a copy."""
    db = tmp_path / "station.sqlite"
    with EventStore(db, "st") as store:
        sid = store.open_session("anna", tiny_instruction())
        _units(store, sid, range(1, 2))
        store.append(sid, ev("session_end", "", 1))
        store.close_session(sid)
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE fleet_cursor (target TEXT PRIMARY KEY, events_seq INTEGER NOT NULL, "
                  "sessions_rowid INTEGER NOT NULL, updated_utc TEXT NOT NULL)")  # fmt: skip
        c.execute("INSERT INTO fleet_cursor VALUES ('db:5432/oss', ?, 1, '')", (UNIT + 5,))
    (note,) = build_report([db]).notes
    assert f"sent events up to seq {UNIT + 5}, but this file ends at seq {UNIT + 1}" in note
