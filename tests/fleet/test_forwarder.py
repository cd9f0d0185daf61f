"""Forwarding station logs to PostgreSQL: everything arrives once, sessions follow, outages heal."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from oss.log.central import FleetError, mask_dsn, resolve_dsn, scrub
from oss.log.fleet import FleetForwarder
from oss.log.store import EventStore, utc_now
from oss.records import LogEvent
from tests.fleet.cluster import LocalCluster
from tests.log.builders import tiny_instruction

pytestmark = pytest.mark.postgres


def _event(i: int) -> LogEvent:
    kind = ("step_start", "pick", "step_end")[i % 3]
    return LogEvent(kind, float(i), utc_now(), f"s{i % 3}", i // 3 + 1, (("n", i), ("duration_s", 1.5)))


def _at(second: int, i: int = 0) -> LogEvent:
    """An event ``second`` seconds after 08:00 on one day (times that do or do not overlap, exactly)."""
    utc = (datetime(2025, 3, 17, 8, tzinfo=UTC) + timedelta(seconds=second)).isoformat(
        timespec="milliseconds"
    )
    return LogEvent("pick", float(second), utc, "s0", 1, (("n", i),))


def _ids_in_file(path: Path) -> list[str]:
    with sqlite3.connect(path) as c:
        return [r[0] for r in c.execute("SELECT id FROM events ORDER BY seq")]


def _central(dsn: str, sql: str) -> list[tuple]:
    with psycopg.connect(dsn) as c:
        return c.execute(sql).fetchall()


def test_forwards_every_event_once_with_sessions(tmp_path: Path, fleet_db: str) -> None:
    db = tmp_path / "st1.sqlite"
    with EventStore(db, "st1") as store:
        sid = store.open_session("anna", tiny_instruction())
        store.append_many(sid, [_event(i) for i in range(250)])
        fwd = FleetForwarder(db, fleet_db, batch_size=100)
        assert fwd.forward_once() == 250
        assert fwd.forward_once() == 0
        store.append_many(sid, [_event(i) for i in range(250, 260)])
        store.close_session(sid)
        assert fwd.forward_once() == 10
        fwd.close()
    rows = _central(fleet_db, "SELECT id, seq, station, operator, data->>'n', utc FROM events ORDER BY seq")
    assert [r[0] for r in rows] == _ids_in_file(db)
    assert [r[1] for r in rows] == list(range(1, 261))
    assert {r[2] for r in rows} == {"st1"} and {r[3] for r in rows} == {"anna"}
    assert [int(r[4]) for r in rows] == list(range(260))
    ((sess_id, ended),) = _central(fleet_db, "SELECT id, ended_utc FROM sessions")
    assert sess_id == sid and ended is not None  # the closing was forwarded after the opening


def test_a_batch_sent_again_inserts_nothing(tmp_path: Path, fleet_db: str) -> None:
    """The forwarder died after PostgreSQL committed but before it saved its cursor: no duplicates."""
    db = tmp_path / "st1.sqlite"
    with EventStore(db, "st1") as store:
        sid = store.open_session("anna", tiny_instruction())
        store.append_many(sid, [_event(i) for i in range(40)])
    fwd = FleetForwarder(db, fleet_db)
    assert fwd.forward_once() == 40
    fwd.close()
    with sqlite3.connect(db) as c:
        c.execute("DELETE FROM fleet_cursor")
    again = FleetForwarder(db, fleet_db)
    assert again.forward_once() == 0
    assert again.status.cursor_seq == 40 and again.status.pending == 0
    again.close()
    assert _central(fleet_db, "SELECT COUNT(*), COUNT(DISTINCT id) FROM events") == [(40, 40)]


def test_two_live_logs_with_one_station_id_are_refused(tmp_path: Path, fleet_db: str) -> None:
    """Two stations configured with one id write at the same time: the second log is refused."""
    a, b = EventStore(tmp_path / "a.sqlite", "same"), EventStore(tmp_path / "b.sqlite", "same")
    sa, sb = a.open_session("anna", tiny_instruction()), b.open_session("ben", tiny_instruction())
    for i in range(3):
        a.append(sa, _at(2 * i))
        b.append(sb, _at(2 * i + 1))
    a.close()
    b.close()
    FleetForwarder(tmp_path / "a.sqlite", fleet_db).forward_once()
    fwd = FleetForwarder(tmp_path / "b.sqlite", fleet_db)
    with pytest.raises(FleetError, match="two station logs use one station id") as err:
        fwd.forward_once()
    assert str(tmp_path / "b.sqlite") in str(err.value) and "station: in the station configuration" in str(
        err.value
    )
    assert fwd.status.pending == 3  # kept for when the station id is fixed
    fwd.close()
    assert _central(fleet_db, "SELECT DISTINCT operator FROM events") == [("anna",)]


def test_a_log_replaced_by_a_new_one_forwards_exactly_once(tmp_path: Path, fleet_db: str) -> None:
    """The log is moved aside (as OSS advises for a bad log or the size limit); the station's new log
    starts at seq 1 again. Both logs reach the fleet store, each event once."""
    db = tmp_path / "st1.sqlite"
    with EventStore(db, "st1") as store:
        sid = store.open_session("anna", tiny_instruction())
        store.append_many(sid, [_at(i) for i in range(30)])
        store.close_session(sid)
    fwd = FleetForwarder(db, fleet_db)
    assert fwd.forward_once() == 30
    fwd.close()
    db.rename(tmp_path / "st1-old.sqlite")
    with EventStore(db, "st1") as store:  # the new log, same station, from second 30 on
        sid = store.open_session("anna", tiny_instruction())
        store.append_many(sid, [_at(30 + i) for i in range(20)])
        fwd = FleetForwarder(db, fleet_db)
        assert fwd.forward_once() == 20, fwd.status.last_error
        store.append_many(sid, [_at(50 + i) for i in range(5)])
        assert fwd.forward_once() == 5
        fwd.close()
    for path in (tmp_path / "st1-old.sqlite", db):  # sent again: nothing doubles
        again = FleetForwarder(path, fleet_db)
        with sqlite3.connect(path) as c:
            c.execute("DELETE FROM fleet_cursor")
        assert again.forward_once() == 0
        again.close()
    rows = _central(fleet_db, "SELECT id, log_id, seq FROM events")
    assert len(rows) == len({r[0] for r in rows}) == 55
    assert {r[0] for r in rows} == set(_ids_in_file(tmp_path / "st1-old.sqlite") + _ids_in_file(db))
    assert len({r[1] for r in rows}) == 2 and sorted(r[2] for r in rows).count(1) == 2


def test_a_fleet_store_and_logs_from_before_log_ids_are_upgraded(tmp_path: Path, fleet_db: str) -> None:
    """A fleet store of schema 1 (UNIQUE (station, seq), no log ids) and a station log without a log
    id, both made by an older OSS: the store is migrated, what it holds is kept, nothing doubles, the
    station's new log forwards, and a live duplicate station id is still caught."""
    from oss.log.schema import EVENT_COLUMNS, SESSION_COLUMNS

    old = tmp_path / "old.sqlite"
    with EventStore(old, "st1") as store:
        sid = store.open_session("anna", tiny_instruction())
        store.append_many(sid, [_at(i) for i in range(10)])
    with sqlite3.connect(old) as c:
        c.execute("DELETE FROM meta WHERE key = 'log_id'")  # as an older OSS made it
        rows = c.execute(f"SELECT {', '.join(c[0] for c in EVENT_COLUMNS)} FROM events").fetchall()
    body = {
        t: ", ".join(f"{c[0]} {c[2]} {c[3]}" for c in cols)
        for t, cols in (("events", EVENT_COLUMNS), ("sessions", SESSION_COLUMNS))
    }
    with psycopg.connect(fleet_db) as c:  # schema 1, as the older OSS created it, with 7 events sent
        c.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        c.execute(f"CREATE TABLE events ({body['events']})")
        c.execute(f"CREATE TABLE sessions ({body['sessions']})")
        c.execute("CREATE UNIQUE INDEX events_station_seq ON events (station, seq)")
        c.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        with c.cursor().copy(f"COPY events ({', '.join(c[0] for c in EVENT_COLUMNS)}) FROM STDIN") as cp:
            for r in rows[:7]:
                cp.write_row(r)
    with sqlite3.connect(old) as c:
        c.execute(
            "CREATE TABLE fleet_cursor (target TEXT PRIMARY KEY, events_seq INTEGER NOT NULL, "
            "sessions_rowid INTEGER NOT NULL, updated_utc TEXT NOT NULL)"
        )
    fwd = FleetForwarder(old, fleet_db)
    assert fwd.forward_once() == 3  # the 7 sent before are not sent twice (the cursor was lost too)
    fwd.close()
    assert _central(fleet_db, "SELECT value FROM meta WHERE key = 'schema_version'") == [("2",)]
    indexes = {
        r[0] for r in _central(fleet_db, "SELECT indexname FROM pg_indexes WHERE tablename = 'events'")
    }
    assert "events_station_seq" not in indexes and "events_station_log_seq" in indexes
    with sqlite3.connect(old) as c:
        assert len(c.execute("SELECT value FROM meta WHERE key = 'log_id'").fetchone()[0]) == 32
    old.rename(tmp_path / "older.sqlite")
    with EventStore(old, "st1") as store:  # the station's new log
        store.append_many(store.open_session("anna", tiny_instruction()), [_at(10 + i) for i in range(4)])
    assert FleetForwarder(old, fleet_db).forward_once() == 4
    assert _central(fleet_db, "SELECT COUNT(*), COUNT(DISTINCT id) FROM events") == [(14, 14)]
    twin = tmp_path / "twin.sqlite"  # another station given id st1, writing while the old log did
    with EventStore(twin, "st1") as store:
        store.append_many(store.open_session("ben", tiny_instruction()), [_at(2), _at(4)])
    with pytest.raises(FleetError, match="two station logs use one station id"):
        FleetForwarder(twin, fleet_db).forward_once()


def test_password_never_shown(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with EventStore(tmp_path / "st.sqlite", "st1") as store:
        store.append(store.open_session("anna", tiny_instruction()), _event(0))
    dsn = "postgresql://oss:s3cr3t-pw@127.0.0.1:1/fleet"
    caplog.set_level(logging.DEBUG)
    fwd = FleetForwarder(tmp_path / "st.sqlite", dsn, backoff_s=(0.05, 0.05), connect_timeout_s=1)
    assert fwd.where == "postgresql://oss:***@127.0.0.1:1/fleet"
    with pytest.raises(FleetError) as err:
        fwd.forward_once()
    fwd.start()
    time.sleep(0.3)
    fwd.stop(flush=True)
    assert "s3cr3t" not in str(err.value) and "s3cr3t" not in fwd.status.last_error
    assert "s3cr3t" not in caplog.text
    assert "cannot connect" in str(err.value)


@pytest.mark.parametrize(
    ("dsn", "masked", "secret"),
    [
        (
            "postgresql://u:pw7@h:5432/db?sslmode=require",
            "postgresql://u:***@h:5432/db?sslmode=require",
            "pw7",
        ),
        ("postgresql://u@h/db?password=pw7", "postgresql://u@h/db?password=***", "pw7"),
        ("host=h user=u password=pw7 dbname=db", "host=h user=u password=*** dbname=db", "pw7"),
        ("host=h password='p w7' dbname=db", "host=h password=*** dbname=db", "p w7"),
        ("postgresql://u@h/db", "postgresql://u@h/db", ""),
    ],
)
def test_mask_dsn(dsn: str, masked: str, secret: str) -> None:
    assert mask_dsn(dsn) == masked
    text = scrub(f"failed for {dsn}: the password {secret} was refused", dsn)
    assert not secret or secret not in text


def test_dsn_from_setting_then_environment() -> None:
    assert resolve_dsn("postgresql://a/b", {"OSS_FLEET_DSN": "postgresql://c/d"}) == "postgresql://a/b"
    assert resolve_dsn(None, {"OSS_FLEET_DSN": "postgresql://c/d"}) == "postgresql://c/d"
    assert resolve_dsn(None, {"PGHOST": "db"}) == ""
    assert resolve_dsn(None, {}) is None


def test_outage_while_stations_log_loses_nothing_and_doubles_nothing(
    tmp_path: Path, local_cluster: LocalCluster
) -> None:
    """Three stations log (one thread each) while their forwarders run; PostgreSQL is stopped and
    restarted in the middle. Afterwards the central store holds exactly the stations' events."""
    n_events, stations = 500, ("st1", "st2", "st3")
    paths = {s: tmp_path / f"{s}.sqlite" for s in stations}
    seen_failure = threading.Event()

    def write(station: str) -> None:
        with EventStore(paths[station], station) as store:
            sid = store.open_session(f"op-{station}", tiny_instruction())
            for i in range(n_events):
                store.append(sid, _event(i))
                time.sleep(0.004)
            store.close_session(sid)

    writers = [threading.Thread(target=write, args=(s,)) for s in stations]
    for w in writers:
        w.start()
    while not all(p.exists() for p in paths.values()):
        time.sleep(0.01)
    fwds = [
        FleetForwarder(
            paths[s], local_cluster.dsn, batch_size=64, interval_s=0.05, backoff_s=(0.05, 0.3)
        ).start()
        for s in stations
    ]
    time.sleep(0.8)
    local_cluster.stop()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not seen_failure.is_set():
        if all(f.status.failures > 0 for f in fwds):
            seen_failure.set()
        time.sleep(0.02)
    time.sleep(0.5)
    local_cluster.start()
    for w in writers:
        w.join(60)
    try:
        assert seen_failure.is_set(), "the forwarders never noticed the outage: the test did not test it"
        for f in fwds:
            assert f.wait_idle(30), f.status
    finally:
        for f in fwds:
            f.stop()
    rows = _central(local_cluster.dsn, "SELECT id, station, seq FROM events")
    assert len(rows) == len({r[0] for r in rows}) == n_events * len(stations)
    expected = {i for s in stations for i in _ids_in_file(paths[s])}
    assert {r[0] for r in rows} == expected
    for s in stations:
        assert sorted(r[2] for r in rows if r[1] == s) == list(range(1, n_events + 1))
    closed = _central(local_cluster.dsn, "SELECT COUNT(*) FROM sessions WHERE ended_utc IS NOT NULL")
    assert closed == [(3,)]
