"""The station's event log: an append-only SQLite file that survives a killed process and a power cut.

Every append is its own transaction in WAL mode with ``synchronous=FULL``: when ``append`` returns,
the event is on disk, so the station may show its consequence to the operator. When the disk is full
(or the drive fails) the events are kept in memory, ``append`` raises :class:`LogStorageError` so the
station can say so, and every later write first retries them, oldest first.

    with EventStore("var/events.db", "station-1") as log:
        sid = log.open_session("anna", instruction, "w40")
        log.append(sid, LogEvent("cycle_start", t, utc, cycle=1))
        ...
        log.close_session(sid)
    resume = EventStore(path, "station-1").unfinished_unit(instruction)

Several ``EventStore`` objects (threads or processes) may use one file; readers never block the writer.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

from oss.instructions.model import Instruction
from oss.log.resume import find_resume_point
from oss.log.rows import ResumePoint, SessionInfo, StoredEvent, data_to_json
from oss.log.schema import EVENT_FIELDS, SCHEMA_VERSION, SESSION_FIELDS, sqlite_ddl
from oss.records import EVENT_KINDS, LogEvent, OssError

log = logging.getLogger(__name__)

_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(EVENT_FIELDS)}) VALUES "
    f"(?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM events), {', '.join('?' * (len(EVENT_FIELDS) - 2))})"
)
_INSERT_SESSION = (
    f"INSERT INTO sessions ({', '.join(SESSION_FIELDS)}) VALUES ({', '.join('?' * len(SESSION_FIELDS))})"
)
_CLOSE_SESSION = "UPDATE sessions SET ended_utc = ? WHERE id = ? AND ended_utc IS NULL"
_MAX_PAGES = 1073741823  # SQLite's default SQLITE_MAX_PAGE_COUNT

Write = tuple[str, tuple[Any, ...]]


class LogError(OssError):
    """The event log cannot be opened or used; the message says where and what to do."""


class LogStorageError(LogError):
    """Writing failed (disk full, read-only, I/O error). Nothing is lost yet: ``pending`` writes are
    kept in memory and retried before the next write. ``event_ids`` are the events of the failed call."""

    def __init__(self, message: str, pending: int, event_ids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.pending = pending
        self.event_ids = event_ids


def utc_now() -> str:
    """Now, as the log writes it (ISO 8601, UTC, milliseconds)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class EventStore:
    """The event log of one station in one SQLite file. See the module docstring."""

    def __init__(
        self,
        path: str | Path,
        station_id: str,
        *,
        readonly: bool = False,
        size_limit_bytes: int | None = None,
        busy_timeout_s: float = 10.0,
    ) -> None:
        self.path = Path(path)
        self.station_id = station_id
        self.readonly = readonly
        self._lock = threading.RLock()
        self._spill: list[Write] = []
        self._sessions: dict[str, SessionInfo] = {}
        self._conn: sqlite3.Connection | None = self._connect(busy_timeout_s)
        self._size_limit: int | None = None
        if size_limit_bytes is not None:
            self.size_limit_bytes = size_limit_bytes

    # -- opening ------------------------------------------------------------------------------------

    def _connect(self, busy_timeout_s: float) -> sqlite3.Connection:
        where = f"event log {self.path}"
        if self.readonly:
            if not self.path.is_file():
                raise LogError(f"no {where}: check the path (the station creates it on its first run)")
            target, uri = f"file:{quote(str(self.path.resolve()))}?mode=ro", True
        else:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise LogError(
                    f"cannot create the folder for the {where}: {e.strerror or e}. "
                    "Choose a path in a folder this user can write to."
                ) from e
            if self.path.is_dir():
                raise LogError(f"{where} is a folder; give a file path such as {self.path / 'events.db'}")
            target, uri = str(self.path), False
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(
                target, uri=uri, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA synchronous=FULL")
            if not self.readonly:
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    log.warning("%s: WAL not available on this filesystem, using %s journal", where, mode)
                self._create_schema(conn)
            self._check_schema(conn)
        except (sqlite3.DatabaseError, LogError) as e:
            if conn is not None:
                conn.close()
            if isinstance(e, LogError):
                raise
            raise LogError(self._open_problem(e)) from e
        return conn

    def _open_problem(self, e: sqlite3.DatabaseError) -> str:
        code = (getattr(e, "sqlite_errorcode", 0) or 0) & 0xFF
        where = f"event log {self.path}"
        if code == sqlite3.SQLITE_NOTADB:
            return f"{where} is not an OSS event log (not an SQLite file): move it aside or use another path"
        if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
            return (
                f"cannot open the {where} for writing ({e}): make the file and its folder writable for "
                f"this user (ls -ld {self.path.parent}) or use another path"
            )
        if code == sqlite3.SQLITE_FULL:
            return f"cannot create the {where}: the disk is full. Free space (df -h {self.path.parent})"
        return f"cannot open the {where}: {e}"

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in sqlite_ddl():
                conn.execute(stmt)
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?), ('created_utc', ?), "
                "('station', ?)",
                (str(SCHEMA_VERSION), utc_now(), self.station_id),
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise LogError(
                f"event log {self.path} has schema {version}, written by a newer OSS; this one reads up to "
                f"schema {SCHEMA_VERSION}. Upgrade OSS on this station or use another log path."
            )
        if version < 1:
            raise LogError(f"event log {self.path} has no schema version: it is not an OSS event log")

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LogError(f"event log {self.path} is closed")
        return self._conn

    @property
    def closed(self) -> bool:
        return self._conn is None

    @property
    def size_limit_bytes(self) -> int | None:
        """A cap on the file's size (None: none). When reached, writes fail as on a full disk."""
        return self._size_limit

    @size_limit_bytes.setter
    def size_limit_bytes(self, limit: int | None) -> None:
        with self._lock:
            page = int(self._db.execute("PRAGMA page_size").fetchone()[0])
            pages = _MAX_PAGES if limit is None else max(1, limit // page)
            self._db.execute(f"PRAGMA max_page_count = {int(pages)}")
            self._size_limit = limit

    # -- context manager ----------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(raise_on_loss=exc is None)

    def close(self, raise_on_loss: bool = True) -> None:
        """Write what is still pending and close. Pending writes that still fail are logged in full
        (as JSON) at ERROR level and, with ``raise_on_loss``, raise :class:`LogStorageError`."""
        with self._lock:
            if self._conn is None:
                return
            lost: list[Write] = []
            if self._spill:
                try:
                    self._write([])
                except LogStorageError:
                    lost = list(self._spill)
            self._conn.close()
            self._conn = None
            if lost:
                for sql, params in lost:
                    log.error("event log %s: write lost: %s %r", self.path, sql.split(" (")[0], params)
                if raise_on_loss:
                    raise LogStorageError(
                        f"event log {self.path}: {len(lost)} write(s) could not be saved before closing "
                        "(they are in the error log). Free space on the drive before the next session.",
                        pending=0,
                    )

    # -- writing ------------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Writes kept in memory because the last attempt failed."""
        return len(self._spill)

    def flush(self) -> int:
        """Retry the pending writes now; returns how many were written (raises if they still fail)."""
        with self._lock:
            n = len(self._spill)
            if n:
                self._write([])
            return n

    def _write(self, writes: list[Write], event_ids: tuple[str, ...] = (), spill: bool = True) -> None:
        """Pending writes, then ``writes``, in one transaction; durable when this returns."""
        if self.readonly:
            raise LogError(f"event log {self.path} was opened read-only")
        batch = self._spill + writes
        conn = self._db
        try:
            conn.execute("BEGIN IMMEDIATE")
            for sql, params in batch:
                conn.execute(sql, params)
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if not isinstance(e, sqlite3.OperationalError):
                raise  # a bug (constraint, misuse), not the drive: do not retry it forever
            if spill:
                self._spill = batch
            raise LogStorageError(self._write_problem(e), len(self._spill), event_ids) from e
        self._spill = []

    def _write_problem(self, e: sqlite3.OperationalError) -> str:
        code = (getattr(e, "sqlite_errorcode", 0) or 0) & 0xFF
        kept = f"{len(self._spill)} write(s) are kept in memory and retried with the next event"
        folder = self.path.resolve().parent
        if code == sqlite3.SQLITE_FULL:
            if self._size_limit is not None:
                what = f"it reached its size limit of {self._size_limit / 1e6:.1f} MB"
                todo = "raise the limit or archive the log (the fleet store keeps a copy)"
            else:
                what = "the disk is full"
                todo = f"free space on the drive holding {folder} (df -h {folder})"
            return f"event log {self.path}: {what}; {kept}. To fix: {todo}."
        if code == sqlite3.SQLITE_READONLY:
            return f"event log {self.path} became read-only ({e}); {kept}. Check the drive (mount, ls -l)."
        if code == sqlite3.SQLITE_BUSY:
            return f"event log {self.path} is locked by another program ({e}); {kept}."
        return f"event log {self.path}: cannot write ({e}); {kept}. Check the drive holding {folder}."

    def open_session(
        self, operator: str, instruction: Instruction, variant: str | None = None, utc: str | None = None
    ) -> str:
        """Start a session; returns its id. Raises :class:`LogStorageError` (nothing spilled) when the
        log cannot be written, so a session does not start on a full disk."""
        info = SessionInfo(
            id=uuid.uuid4().hex,
            station=self.station_id,
            operator=operator,
            product_id=instruction.product_id,
            instruction_version=instruction.version,
            instruction_hash=instruction.content_hash,
            variant=variant,
            started_utc=utc or utc_now(),
        )
        with self._lock:
            self._write([(_INSERT_SESSION, tuple(getattr(info, f) for f in SESSION_FIELDS))], spill=False)
            self._sessions[info.id] = info
        return info.id

    def close_session(self, session_id: str, utc: str | None = None) -> None:
        """Mark the session ended (a second call changes nothing)."""
        with self._lock:
            self.session(session_id)
            self._write([(_CLOSE_SESSION, (utc or utc_now(), session_id))])
            self._sessions.pop(session_id, None)

    def append(self, session_id: str, event: LogEvent) -> str:
        """Write one event; returns its id once it is on disk."""
        return self.append_many(session_id, (event,))[0]

    def append_many(self, session_id: str, events: Iterable[LogEvent]) -> tuple[str, ...]:
        """Write several events in one transaction; returns their ids once they are on disk.

        The row takes operator, product, instruction version/hash and variant from the session; an
        event whose data has a ``variant`` (chosen per unit) overrides the session's variant.
        Raises :class:`LogStorageError` when the drive refuses (the events are kept and retried).
        """
        with self._lock:
            info = self.session(session_id)
            writes: list[Write] = []
            ids: list[str] = []
            for ev in events:
                if ev.kind not in EVENT_KINDS:
                    kinds = ", ".join(EVENT_KINDS)
                    raise ValueError(f"unknown event kind {ev.kind!r}; expected one of {kinds}")
                eid = uuid.uuid4().hex
                variant = ev.get("variant")
                params = (
                    eid, info.station, info.id, info.operator, info.product_id, info.instruction_version,
                    info.instruction_hash, variant if isinstance(variant, str) else info.variant,
                    int(ev.cycle), ev.step_uid, ev.kind, float(ev.t), ev.utc, data_to_json(ev.data),
                )  # fmt: skip
                writes.append((_INSERT_EVENT, params))
                ids.append(eid)
            self._write(writes, tuple(ids))
            return tuple(ids)

    # -- reading ------------------------------------------------------------------------------------

    def session(self, session_id: str) -> SessionInfo:
        """One session (raises LogError for an unknown id)."""
        with self._lock:
            if session_id in self._sessions:
                return self._sessions[session_id]
            row = self._db.execute(
                f"SELECT {', '.join(SESSION_FIELDS)} FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
        if row is None:
            raise LogError(f"event log {self.path} has no session {session_id!r}: call open_session first")
        return SessionInfo(*row)

    def sessions(self, station: str | None = None) -> tuple[SessionInfo, ...]:
        """All sessions (of ``station`` if given), oldest first."""
        sql = f"SELECT {', '.join(SESSION_FIELDS)} FROM sessions"
        args: tuple[Any, ...] = ()
        if station is not None:
            sql, args = sql + " WHERE station = ?", (station,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY rowid", args).fetchall()
        return tuple(SessionInfo(*r) for r in rows)

    def events(
        self,
        session_id: str | None = None,
        kinds: Iterable[str] | None = None,
        after_seq: int = 0,
        limit: int | None = None,
    ) -> tuple[StoredEvent, ...]:
        """Stored events in the order they were written, filtered by session, kind and ``seq``."""
        where: list[str] = ["seq > ?"]
        args: list[Any] = [after_seq]
        if session_id is not None:
            where.append("session_id = ?")
            args.append(session_id)
        if kinds is not None:
            ks = list(kinds)
            where.append(f"kind IN ({', '.join('?' * len(ks))})")
            args.extend(ks)
        sql = f"SELECT {', '.join(EVENT_FIELDS)} FROM events WHERE {' AND '.join(where)} ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return tuple(StoredEvent.from_row(r) for r in rows)

    def unfinished_unit(self, instruction: Instruction | None = None) -> ResumePoint | None:
        """The unit this station's last session started and never ended, or None.

        The newest session with any ``cycle_start``/``cycle_end`` decides; with ``instruction`` only
        sessions that ran that very file (same content hash) count, and step uids are turned into
        indexes of ``instruction.run_steps(variant)``.
        """
        with self._lock:
            candidates = list(reversed(self.sessions(self.station_id)))
            if instruction is not None:
                candidates = [s for s in candidates if _same_instruction(s, instruction)]
            for s in candidates:
                unit = self.events(s.id, kinds=("cycle_start", "cycle_end"))
                if not unit:
                    continue
                if unit[-1].kind == "cycle_end":
                    return None
                start = unit[-1]
                later = self.events(s.id, kinds=("step_start", "step_end"), after_seq=start.seq)
                return find_resume_point(s, start, later, instruction)
        return None


def _same_instruction(s: SessionInfo, instruction: Instruction) -> bool:
    if instruction.content_hash or s.instruction_hash:
        return s.instruction_hash == instruction.content_hash
    return (s.product_id, s.instruction_version) == (instruction.product_id, instruction.version)
