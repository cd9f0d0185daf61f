"""The event store: round trip, durability against SIGKILL, errors a person can act on, concurrency."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from oss.log import EventStore, LogError
from oss.log.schema import SCHEMA_VERSION
from oss.records import OssError
from tests.log.builders import ROOT, ev, tiny_instruction, writer_command


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_round_trip_keeps_every_field(tmp_path: Path, sample_instruction) -> None:
    db = tmp_path / "log" / "events.db"
    sent = [
        ev("cycle_start", cycle=1, t=10.0),
        ev("step_start", "housing", 1, t=10.5),
        ev("pick", "housing", 1, t=11.0, bin="bin_housing", ok=True, dwell=0.25),
        ev("error", "housing", 1, t=11.5, bin="bin_pad", hint="wrong bin", score=None),
        ev("step_end", "housing", 1, t=12.0, duration=1.5),
    ]
    with EventStore(db, "st-1") as store:
        sid = store.open_session("anna", sample_instruction, "w40")
        ids = [store.append(sid, e) for e in sent[:2]]
        ids += store.append_many(sid, sent[2:])
    with EventStore(db, "st-1") as store:
        got = store.events()
        (session,) = store.sessions()
    assert [g.id for g in got] == ids
    assert len(set(ids)) == len(ids) and all(len(i) == 32 for i in ids)
    assert [g.seq for g in got] == sorted(g.seq for g in got)
    assert [g.to_log_event() for g in got] == sent
    first = got[0]
    assert (first.station, first.session_id, first.operator, first.variant) == ("st-1", sid, "anna", "w40")
    assert (first.product_id, first.instruction_version) == ("sl40-street-light", "1.0")
    assert first.instruction_hash == sample_instruction.content_hash != ""
    assert got[2].get("dwell") == 0.25 and got[3].get("score") is None
    assert session.id == sid and session.operator == "anna" and not session.closed


def test_queries_filter_by_session_kind_and_cursor(tmp_path: Path) -> None:
    with EventStore(tmp_path / "e.db", "st") as store:
        a = store.open_session("a", tiny_instruction(), None)
        b = store.open_session("b", tiny_instruction(), "x")
        store.append_many(a, [ev("step_start", "s0"), ev("pick", "s0"), ev("step_end", "s0")])
        store.append(b, ev("help", "s1", variant="y"))
        store.close_session(a)
        store.close_session(a)  # a second close changes nothing
        assert [e.kind for e in store.events(a)] == ["step_start", "pick", "step_end"]
        assert [e.operator for e in store.events(kinds=["help", "pick"])] == ["a", "b"]
        assert store.events(b)[0].variant == "y"  # data "variant" overrides the session's
        first = store.events(limit=2)
        assert [e.kind for e in store.events(after_seq=first[-1].seq)] == ["step_end", "help"]
        closed = {s.id: s.closed for s in store.sessions()}
        assert closed == {a: True, b: False}


def test_bad_calls_raise_clear_errors(tmp_path: Path) -> None:
    with EventStore(tmp_path / "e.db", "st") as store:
        sid = store.open_session("a", tiny_instruction(), None)
        with pytest.raises(ValueError, match="unknown event kind 'explode'"):
            store.append(sid, ev("explode"))
        with pytest.raises(LogError, match="no session 'nope'"):
            store.append("nope", ev("pick"))
        assert store.events() == ()


def _file_as_parent(tmp_path: Path) -> Path:
    (tmp_path / "afile").write_text("x")
    return tmp_path / "afile" / "events.db"


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "adir").mkdir()
    return tmp_path / "adir"


def _garbage(tmp_path: Path) -> Path:
    p = tmp_path / "garbage.db"
    p.write_bytes(b"this is not sqlite at all" * 100)
    return p


def _newer(tmp_path: Path) -> Path:
    p = tmp_path / "newer.db"
    EventStore(p, "st").close()
    with sqlite3.connect(p) as c:
        c.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    return p


@pytest.mark.parametrize(
    ("make", "readonly", "expected"),
    [
        (_file_as_parent, False, "cannot create the folder.*Choose a path"),
        (_folder, False, "is a folder; give a file path"),
        (_garbage, False, "not an OSS event log"),
        (_newer, False, "newer OSS.*Upgrade OSS"),
        (lambda p: p / "missing.db", True, "no event log"),
    ],
)
def test_unusable_paths_say_what_to_do(tmp_path: Path, make, readonly: bool, expected: str) -> None:
    path = make(tmp_path)
    with pytest.raises(OssError, match=expected) as err:
        EventStore(path, "st", readonly=readonly)
    assert str(path) in str(err.value)


def _foreign(tmp_path: Path) -> Path:
    p = tmp_path / "inventory.db"
    with sqlite3.connect(p) as c:
        c.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        c.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")  # a name OSS uses too
        c.execute("INSERT INTO customers (name) VALUES ('anna')")
    return p


def test_a_database_that_is_not_an_oss_log_is_left_alone(tmp_path: Path) -> None:
    """An unrelated SQLite database given as --log: refused, and not a byte of it changed."""
    db = _foreign(tmp_path)
    before = db.read_bytes()
    with pytest.raises(LogError) as err:
        EventStore(db, "st")
    msg = str(err.value)
    assert f"{db} is an SQLite database but not an OSS event log" in msg
    assert "customers, meta" in msg and "a path of its own" in msg and "--log" in msg
    assert db.read_bytes() == before
    with sqlite3.connect(db) as c:
        assert {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} == {
            "customers",
            "meta",
        }


@pytest.mark.parametrize("make", [lambda p: p.touch(), lambda p: sqlite3.connect(p).close(), lambda p: None])
def test_a_new_or_empty_file_becomes_the_log(tmp_path: Path, make) -> None:
    db = tmp_path / "new.db"
    make(db)
    with EventStore(db, "st") as store:
        store.append(store.open_session("a", tiny_instruction(), None), ev("pick"))
        assert len(store.log_id) == 32
    with EventStore(db, "st") as again:  # its own log: opened again as before, same log id
        assert len(again.events()) == 1 and again.log_id == store.log_id


def test_readonly_store_reads_but_refuses_writes(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    with EventStore(db, "st") as store:
        sid = store.open_session("a", tiny_instruction(), None)
        store.append(sid, ev("pick"))
    with EventStore(db, "st", readonly=True) as ro:
        assert len(ro.events()) == 1
        with pytest.raises(LogError, match="read-only"):
            ro.append(sid, ev("pick"))


def _read_ids(stream, lines: int) -> tuple[str, list[str]]:
    session = stream.readline().split()[1]
    return session, [stream.readline().strip() for _ in range(lines)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_loses_no_event_reported_as_appended(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    db = tmp_path / "events.db"
    child = subprocess.Popen(writer_command(db, 0), stdout=subprocess.PIPE, text=True, cwd=ROOT, env=_env())
    assert child.stdout is not None
    try:
        _, reported = _read_ids(child.stdout, rng.randint(5, 60))
        time.sleep(rng.uniform(0.0, 0.05))
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    reported += [line for line in rest.split("\n")[:-1] if line]  # complete lines only
    with EventStore(db, "st") as store:
        stored = {e.id for e in store.events()}
    assert len(reported) >= 5
    assert set(reported) <= stored
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reader_sees_a_growing_log_while_another_process_writes(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    EventStore(db, "st").close()
    n = 150
    child = subprocess.Popen(writer_command(db, n), stdout=subprocess.PIPE, text=True, cwd=ROOT, env=_env())
    counts = []
    with EventStore(db, "reader", readonly=True) as reader:
        while child.poll() is None:
            counts.append(len(reader.events()))
        out, _ = child.communicate()
        final = reader.events()
    assert child.returncode == 0
    assert counts == sorted(counts)
    assert len(set(counts)) > 2  # it saw the log while it grew, not only before and after
    assert [e.id for e in final] == out.split("\n")[1:-1]
    assert [e.get("n") for e in final] == list(range(n))
