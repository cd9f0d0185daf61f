"""Forwarding a station's event log to the fleet's central PostgreSQL store, in the background.

The station keeps writing its SQLite file first (``oss.log.store``); a :class:`FleetForwarder` thread
copies what is new to PostgreSQL in batches. Nothing is lost and nothing doubles when the network or the
database is down for a while:

* events are read in ``seq`` order after a high-water mark kept in the side table ``fleet_cursor`` of the
  station's own file (one row per central store), which moves only after PostgreSQL committed the batch;
* each batch goes in one transaction (``COPY`` into a temporary table, then
  ``INSERT ... ON CONFLICT (id) DO NOTHING``): a batch sent twice (the commit reached the server but its
  answer was lost, or the cursor write failed) inserts nothing the second time, because ids are stable;
* when PostgreSQL cannot be reached, the thread retries with exponential backoff (``backoff_s``), logging
  the first failure as a warning and the recovery as info; passwords never appear (``central.mask_dsn``).
* every event goes with its log file's ``log_id`` (``oss.log.schema``): a new log of a station (the old
  one moved aside) forwards from seq 1 again without clashing with the old log's events. Each batch
  widens the log's time span in ``station_logs``; a batch whose log overlaps in time with another log
  of the same station is refused (two stations use one station id) and stays pending.

Sessions are forwarded too: new ones, and again when they close (``fleet_open_sessions`` remembers which
were sent while open).

    with FleetForwarder("out/station.sqlite", "postgresql://oss@fleet-db/oss") as fwd:
        ...  # the station runs; fwd.status tells how far forwarding is
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from oss.log.central import FleetError, connect, ensure_schema, mask_dsn, resolve_dsn, scrub
from oss.log.schema import EVENT_FIELDS, SESSION_FIELDS
from oss.log.store import utc_now

if TYPE_CHECKING:
    from psycopg import Connection

log = logging.getLogger(__name__)

_SIDE_DDL = (
    "CREATE TABLE IF NOT EXISTS fleet_cursor (target TEXT PRIMARY KEY, events_seq INTEGER NOT NULL, "
    "sessions_rowid INTEGER NOT NULL, updated_utc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS fleet_open_sessions (target TEXT NOT NULL, id TEXT NOT NULL, "
    "PRIMARY KEY (target, id))",
)
_EV_COLS = ", ".join(EVENT_FIELDS)
_SE_COLS = ", ".join(SESSION_FIELDS)
_EV_COLS_CENTRAL = f"{_EV_COLS}, log_id"
_SPAN_LOCK = 4242011  # with hashtext(station): one forwarder at a time checks a station's logs
_UPSERT_SPAN = (
    "INSERT INTO station_logs (station, log_id, first_utc, last_utc) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (station, log_id) DO UPDATE SET first_utc = LEAST(station_logs.first_utc, "
    "EXCLUDED.first_utc), last_utc = GREATEST(station_logs.last_utc, EXCLUDED.last_utc) "
    "RETURNING first_utc, last_utc"
)
_OVERLAP = (
    "SELECT log_id, first_utc, last_utc FROM station_logs WHERE station = %s AND log_id <> %s "
    "AND first_utc < %s AND last_utc > %s ORDER BY first_utc LIMIT 1"
)
_UPSERT_SESSION = (
    f"INSERT INTO sessions ({_SE_COLS}) VALUES ({', '.join(['%s'] * len(SESSION_FIELDS))}) "
    "ON CONFLICT (id) DO UPDATE SET ended_utc = EXCLUDED.ended_utc WHERE sessions.ended_utc IS NULL"
)


@dataclass(frozen=True)
class FleetStatus:
    """How far forwarding is. ``pending`` events are in the station's file and not yet confirmed."""

    connected: bool
    cursor_seq: int
    pending: int
    forwarded: int  # events this forwarder inserted (duplicates it skipped are not counted)
    failures: int  # consecutive failed attempts (0 while healthy)
    last_error: str  # password masked; "" when the last attempt succeeded
    last_success_utc: str


class FleetForwarder:
    """Copies the events of the SQLite log at ``store_path`` to the central store. See the module doc.

    ``dsn`` None: from ``OSS_FLEET_DSN`` or libpq's PG* variables (``central.resolve_dsn``).
    ``interval_s`` is how often to look for new events when idle; ``backoff_s`` the first and the
    longest wait between attempts while PostgreSQL is unreachable.
    """

    def __init__(
        self,
        store_path: str | Path,
        dsn: str | None = None,
        *,
        batch_size: int = 2000,
        interval_s: float = 1.0,
        backoff_s: tuple[float, float] = (0.5, 30.0),
        connect_timeout_s: float = 5.0,
    ) -> None:
        resolved = resolve_dsn(dsn)
        if resolved is None:
            raise FleetError(
                "no fleet store configured: pass a DSN (postgresql://user@host/db), set OSS_FLEET_DSN, "
                "or set libpq's PGHOST/PGDATABASE"
            )
        if batch_size < 1:
            raise FleetError(f"batch_size must be 1 or more, not {batch_size}")
        self.store_path = Path(store_path)
        self._dsn = resolved
        self.where = mask_dsn(resolved)
        self.batch_size = batch_size
        self.interval_s = interval_s
        self.backoff_s = backoff_s
        self.connect_timeout_s = connect_timeout_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pg: Connection[Any] | None = None
        self._target = ""
        self._local: sqlite3.Connection | None = None
        self._log_id = ""
        self._cursor_seq = 0
        self._forwarded = 0
        self._failures = 0
        self._last_error = ""
        self._last_ok = ""

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("FleetForwarder already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"fleet-{self.store_path.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0, flush: bool = True) -> None:
        """Stop the thread; with ``flush`` make one last attempt to forward what is pending."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        if flush:
            try:
                self.forward_once()
            except FleetError as e:
                log.warning("fleet: %s; the events stay in %s for the next run", e, self.store_path)
        self.close()

    def close(self) -> None:
        with self._lock:
            self._drop_pg()
            if self._local is not None:
                self._local.close()
                self._local = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def notify(self) -> None:
        """New events were written: forward them without waiting for ``interval_s``."""
        self._wake.set()

    @property
    def status(self) -> FleetStatus:
        pending = 0
        if self.store_path.is_file():
            with self._lock:
                try:
                    top = self._sqlite().execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
                    pending = max(0, int(top) - self._cursor_seq)
                except sqlite3.Error:
                    pending = -1
        return FleetStatus(
            connected=self._pg is not None and not self._pg.closed,
            cursor_seq=self._cursor_seq,
            pending=pending,
            forwarded=self._forwarded,
            failures=self._failures,
            last_error=self._last_error,
            last_success_utc=self._last_ok,
        )

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until nothing is pending (True) or ``timeout_s`` passed (False)."""
        deadline = threading.Event()
        timer = threading.Timer(timeout_s, deadline.set)
        timer.start()
        try:
            while not deadline.is_set():
                if self.status.pending == 0 and self._failures == 0:
                    return True
                self.notify()
                deadline.wait(0.05)
            return self.status.pending == 0
        finally:
            timer.cancel()

    # -- the thread ---------------------------------------------------------------------------------

    def _run(self) -> None:
        delay = self.backoff_s[0]
        while not self._stop.is_set():
            try:
                n = self.forward_once()
                delay = self.backoff_s[0]
                wait = 0.0 if n >= self.batch_size else self.interval_s
            except FleetError as e:
                if self._failures == 1:
                    log.warning("fleet: %s; retrying in the background, the station goes on logging", e)
                else:
                    log.debug("fleet: attempt %d failed: %s", self._failures, e)
                wait, delay = delay, min(delay * 2, self.backoff_s[1])
            except Exception:  # a bug must not kill forwarding silently: log it in full and retry
                log.exception("fleet: unexpected error forwarding %s", self.store_path)
                wait, delay = delay, min(delay * 2, self.backoff_s[1])
            if wait > 0:
                self._wake.wait(wait)
            self._wake.clear()

    # -- one pass -----------------------------------------------------------------------------------

    def forward_once(self) -> int:
        """Forward everything pending now, batch by batch; returns how many events were inserted.

        Raises :class:`FleetError` (password masked) when the store or the station's file fails."""
        with self._lock:
            if not self.store_path.is_file():
                raise self._failed(f"no event log at {self.store_path} yet (the station creates it)")
            try:
                return self._forward_all()
            except sqlite3.Error as e:
                self._close_local()
                raise self._failed(f"cannot read or update the station log {self.store_path}: {e}") from None
            except FleetError as e:
                raise self._failed(str(e)) from None
            except Exception as e:
                import psycopg

                if not isinstance(e, psycopg.Error):
                    raise
                self._drop_pg()
                if isinstance(e, psycopg.errors.UniqueViolation):
                    msg = (
                        f"the fleet store already holds other events with this log's id ({self._log_id}) "
                        "and seq: two stations write copies of one log file, which also means two station "
                        "logs use one station id; give each station a log file of its own and its own id "
                        f"(station: in the station configuration) [{e.diag.message_detail or e}]"
                    )
                else:
                    msg = f"fleet store {self.where}: {str(e).strip()}"
                raise self._failed(scrub(msg, self._dsn)) from None

    def _failed(self, message: str) -> FleetError:
        self._failures += 1
        self._last_error = message
        return FleetError(message)

    def _forward_all(self) -> int:
        pg = self._connection()
        local = self._sqlite()
        self._log_id = self._read_log_id(local)
        total = 0
        while True:
            events, sessions, s_rowid, still_open = self._read_batch(local)
            if not events and not sessions:
                break
            with pg.transaction():
                if events:
                    total += self._send_events(pg, events)
                if sessions:
                    pg.cursor().executemany(_UPSERT_SESSION, sessions)
            self._save_cursor(local, int(events[-1][1]) if events else self._cursor_seq, s_rowid, still_open)
            if len(events) < self.batch_size or (self._stop.is_set() and self._thread is not None):
                break
        if self._failures:
            log.info("fleet: %s reachable again; forwarding resumed", self.where)
        self._failures, self._last_error, self._last_ok = 0, "", utc_now()
        self._forwarded += total
        return total

    def _send_events(self, pg: Connection[Any], events: list[tuple[Any, ...]]) -> int:
        pg.execute("CREATE TEMP TABLE IF NOT EXISTS fleet_in (LIKE events) ON COMMIT DELETE ROWS")
        with pg.cursor().copy(f"COPY fleet_in ({_EV_COLS_CENTRAL}) FROM STDIN") as cp:
            for row in events:
                cp.write_row((*row, self._log_id))
        new = pg.execute(
            f"INSERT INTO events ({_EV_COLS_CENTRAL}) SELECT {_EV_COLS_CENTRAL} FROM fleet_in "
            "ON CONFLICT (id) DO NOTHING RETURNING station, utc"
        ).fetchall()
        spans: dict[str, tuple[Any, Any]] = {}
        for station, utc in new:
            lo, hi = spans.get(station, (utc, utc))
            spans[station] = (min(lo, utc), max(hi, utc))
        for station, (lo, hi) in sorted(spans.items()):
            self._claim_span(pg, station, lo, hi)
        return len(new)

    def _claim_span(self, pg: Connection[Any], station: str, lo: Any, hi: Any) -> None:
        """Widen this log's time span for ``station`` by the new events (``lo`` to ``hi``); refuse them
        when another log of the same station overlaps it in time (a replaced log does not: it ended
        before this one began). Events sent before are left out: a batch sent again widens nothing."""
        pg.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_SPAN_LOCK, station))
        row = pg.execute(_UPSERT_SPAN, (station, self._log_id, lo, hi)).fetchone()
        assert row is not None  # RETURNING gives the row inserted or updated
        first, last = row
        other = pg.execute(_OVERLAP, (station, self._log_id, last, first)).fetchone()
        if other is not None:
            raise FleetError(
                f"station {station!r} has another log in the fleet store (log id {other[0] or 'from before log ids'}, "
                f"events from {other[1]:%Y-%m-%d %H:%M:%S} to {other[2]:%Y-%m-%d %H:%M:%S} UTC) that was written "
                f"at the same time as this one ({self.store_path}, {first:%Y-%m-%d %H:%M:%S} to "
                f"{last:%Y-%m-%d %H:%M:%S} UTC): two station logs use one station id; give each station "
                "its own id (station: in the station configuration). A new log that replaced an older "
                "one is fine: their times do not overlap"
            )

    # -- the station's side -------------------------------------------------------------------------

    def _sqlite(self) -> sqlite3.Connection:
        if self._local is None:
            conn = sqlite3.connect(
                self.store_path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
            for stmt in _SIDE_DDL:
                conn.execute(stmt)
            self._local = conn
        return self._local

    @staticmethod
    def _read_log_id(local: sqlite3.Connection) -> str:
        """The log file's own id; a log made by an older OSS is given one now."""
        row = local.execute("SELECT value FROM meta WHERE key = 'log_id'").fetchone()
        if row is None:
            local.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('log_id', ?)", (uuid.uuid4().hex,))
            row = local.execute("SELECT value FROM meta WHERE key = 'log_id'").fetchone()
        return str(row[0])

    def _close_local(self) -> None:
        if self._local is not None:
            self._local.close()
            self._local = None

    def _load_cursor(self) -> None:
        row = (
            self._sqlite()
            .execute("SELECT events_seq FROM fleet_cursor WHERE target = ?", (self._target,))
            .fetchone()
        )
        self._cursor_seq = int(row[0]) if row else 0

    def _read_batch(
        self, local: sqlite3.Connection
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int, list[str]]:
        """One consistent snapshot: the next events, the sessions that are new or closed since sent."""
        local.execute("BEGIN")
        try:
            events = local.execute(
                f"SELECT {_EV_COLS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                (self._cursor_seq, self.batch_size),
            ).fetchall()
            row = local.execute(
                "SELECT sessions_rowid FROM fleet_cursor WHERE target = ?", (self._target,)
            ).fetchone()
            s_hwm = int(row[0]) if row else 0
            rows = local.execute(
                f"SELECT rowid, {_SE_COLS} FROM sessions WHERE rowid > ? OR (ended_utc IS NOT NULL AND id IN "
                "(SELECT id FROM fleet_open_sessions WHERE target = ?)) ORDER BY rowid",
                (s_hwm, self._target),
            ).fetchall()
            open_before = [
                r[0]
                for r in local.execute("SELECT id FROM fleet_open_sessions WHERE target = ?", (self._target,))
            ]
        finally:
            local.execute("COMMIT")
        sessions = [tuple(r[1:]) for r in rows]
        s_rowid = max([s_hwm, *(int(r[0]) for r in rows)])
        ended = SESSION_FIELDS.index("ended_utc")
        closed_now = {s[0] for s in sessions if s[ended] is not None}
        still_open = [i for i in open_before if i not in closed_now]
        still_open += [s[0] for s in sessions if s[ended] is None and s[0] not in still_open]
        return events, sessions, s_rowid, still_open

    def _save_cursor(self, local: sqlite3.Connection, seq: int, s_rowid: int, still_open: list[str]) -> None:
        local.execute("BEGIN IMMEDIATE")
        try:
            local.execute(
                "INSERT INTO fleet_cursor (target, events_seq, sessions_rowid, updated_utc) "
                "VALUES (?, ?, ?, ?) "
                "ON CONFLICT (target) DO UPDATE SET events_seq = excluded.events_seq, "
                "sessions_rowid = excluded.sessions_rowid, updated_utc = excluded.updated_utc",
                (self._target, seq, s_rowid, utc_now()),
            )
            local.execute("DELETE FROM fleet_open_sessions WHERE target = ?", (self._target,))
            local.executemany(
                "INSERT INTO fleet_open_sessions (target, id) VALUES (?, ?)",
                [(self._target, i) for i in still_open],
            )
            local.execute("COMMIT")
        except BaseException:
            if local.in_transaction:
                local.execute("ROLLBACK")
            raise
        self._cursor_seq = seq

    # -- the central side ---------------------------------------------------------------------------

    def _connection(self) -> Connection[Any]:
        if self._pg is not None and not self._pg.closed and not self._pg.broken:
            return self._pg
        self._drop_pg()
        pg = connect(self._dsn, connect_timeout_s=self.connect_timeout_s)
        try:
            pg.autocommit = True
            ensure_schema(pg)
            info = pg.info
            self._target = f"{info.host}:{info.port}/{info.dbname}"
        except BaseException:
            pg.close()
            raise
        self._pg = pg
        self._load_cursor()
        return pg

    def _drop_pg(self) -> None:
        if self._pg is not None:
            try:
                self._pg.close()
            except Exception as e:  # closing a broken connection may fail; it is dropped either way
                log.debug("fleet: closing the connection: %s", e)
            self._pg = None
