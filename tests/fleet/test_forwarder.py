"""Forwarding station logs to PostgreSQL: everything arrives once, sessions follow, outages heal."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
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


def test_two_logs_with_one_station_id_are_refused(tmp_path: Path, fleet_db: str) -> None:
    for name in ("a", "b"):
        with EventStore(tmp_path / f"{name}.sqlite", "same") as store:
            sid = store.open_session("anna", tiny_instruction())
            store.append(sid, _event(0))
    FleetForwarder(tmp_path / "a.sqlite", fleet_db).forward_once()
    fwd = FleetForwarder(tmp_path / "b.sqlite", fleet_db)
    with pytest.raises(FleetError, match="same station id"):
        fwd.forward_once()
    assert fwd.status.pending == 1  # kept for when the station id is fixed
    fwd.close()


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
