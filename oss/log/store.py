"""The station's event log: an append-only SQLite file that survives a killed process and a power cut.

Every append is its own transaction in WAL mode with ``synchronous=FULL``: when ``append`` returns,
the event is on disk, so the station may show its consequence to the operator. When the disk is full
(or the drive fails) the events are kept in memory and saved at once in a spill journal on another
place (``oss.log.spill``); ``append`` raises :class:`LogStorageError` so the station can say so, and
every later write first retries them, oldest first. A journal left by a stop or a crash while the disk
was full is merged back when the log is next opened for writing (or by ``oss sync``), exactly once.

The log is checkpointed (the WAL copied into the main file) at each unit's and session's end and when
it is closed, so a copy of the main file alone holds every finished unit. Each log file has its own
random ``log_id`` (table ``meta``): the fleet store tells a new log of a station from the old one by it.

    with EventStore("var/events.db", "station-1") as log:
        sid = log.open_session("anna", instruction, "w40")
        log.append(sid, LogEvent("cycle_start", t, utc, cycle=1))
        ...
        log.close_session(sid)
    resume = EventStore(path, "station-1").unfinished_unit(instruction)

Several ``EventStore`` objects (threads or processes) may use one file; readers never block the writer.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

from oss.instructions.model import Instruction
from oss.log.resume import find_resume_point
from oss.log.rows import ResumePoint, SessionInfo, StoredEvent, data_to_json
from oss.log.schema import EVENT_FIELDS, SCHEMA_VERSION, SESSION_FIELDS, sqlite_ddl
from oss.log.spill import SpillJournal, find_journals, locked, read_journal
from oss.records import EVENT_KINDS, LogEvent, OssError

log = logging.getLogger(__name__)

_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(EVENT_FIELDS)}) VALUES "
    f"(?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM events), {', '.join('?' * (len(EVENT_FIELDS) - 2))}) "
    "ON CONFLICT (id) DO NOTHING"  # the same event again (merged from its spill journal meanwhile)
)
_INSERT_SESSION = (
    f"INSERT INTO sessions ({', '.join(SESSION_FIELDS)}) VALUES ({', '.join('?' * len(SESSION_FIELDS))})"
)
_CLOSE_SESSION = "UPDATE sessions SET ended_utc = ? WHERE id = ? AND ended_utc IS NULL"
_MAX_PAGES = 1073741823  # SQLite's default SQLITE_MAX_PAGE_COUNT
_OPS = {"event": _INSERT_EVENT, "close_session": _CLOSE_SESSION}  # what a spill journal may hold
_OP_OF = {sql: op for op, sql in _OPS.items()}
_OP_SIZES = {"event": len(EVENT_FIELDS) - 1, "close_session": 2}
_OWN_TABLES = {"meta", "sessions", "events"}
_CHECKPOINT_KINDS = ("cycle_end", "session_end")

Write = tuple[str, tuple[Any, ...]]


class LogError(OssError):
    """The event log cannot be opened or used; the message says where and what to do."""


class LogStorageError(LogError):
    """Writing failed (disk full, read-only, I/O error). Nothing is lost: ``pending`` writes are kept
    in memory, saved in the spill journal (``EventStore.spill_path``) and retried before the next write.
    ``event_ids`` are the events of the failed call."""

    def __init__(self, message: str, pending: int, event_ids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.pending = pending
        self.event_ids = event_ids


def readonly_uri(path: Path) -> str:
    """The SQLite URI to read ``path`` without writing anything beside it. Where this user cannot write
    (a read-only share or mount), the file is opened as immutable: SQLite then needs no ``-shm`` file,
    and reads what the main file holds (a ``-wal`` beside it is not read: see :func:`unread_wal`)."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    if not (os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)):
        uri += "&immutable=1"
    return uri


def unread_wal(path: Path) -> Path | None:
    """The ``-wal`` file of ``path`` when it holds writes that an immutable reading misses, else None."""
    wal = path.with_name(path.name + "-wal")
    try:
        size = wal.stat().st_size
    except OSError:
        return None
    return wal if size > 0 and "immutable=1" in readonly_uri(path) else None


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
        spill_dirs: Sequence[Path] | None = None,
    ) -> None:
        """``spill_dirs``: where spill journals go when the log's own folder does not take them
        (default ``oss.log.spill.fallback_dirs()``); journals found there are merged at opening."""
        self.path = Path(path)
        self.station_id = station_id
        self.readonly = readonly
        self._lock = threading.RLock()
        self._spill: list[Write] = []
        self._journaled = 0  # how many of the first ``_spill`` writes are in the spill journal
        self._journal_problem = ""
        self._last_failure: sqlite3.OperationalError | None = None
        self._retry_at = 0.0
        self.retry_backlog = 500  # pending writes from which the log is retried only every retry_every_s
        self.retry_every_s = 5.0
        self._spill_dirs = spill_dirs
        self._sessions: dict[str, SessionInfo] = {}
        self._conn: sqlite3.Connection | None = self._connect(busy_timeout_s)
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'log_id'").fetchone()
        self.log_id = str(row[0]) if row else ""
        self._journal = SpillJournal(self.path, self.log_id, station_id, spill_dirs)
        self._size_limit: int | None = None
        if size_limit_bytes is not None:
            self.size_limit_bytes = size_limit_bytes
        self._unmerged = False
        self.merged = 0  # events merged from spill journals when the log was opened
        if not readonly:
            self.merged = self._merge_at_open()

    # -- opening ------------------------------------------------------------------------------------

    def _connect(self, busy_timeout_s: float) -> sqlite3.Connection:
        where = f"event log {self.path}"
        if self.readonly:
            if not self.path.is_file():
                raise LogError(f"no {where}: check the path (the station creates it on its first run)")
            target, uri = readonly_uri(self.path), True
            wal = unread_wal(self.path)
            if wal is not None:
                log.warning(
                    "%s is read-only for this user: what its %s holds (the newest events) is not read",
                    where, wal.name,
                )  # fmt: skip
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
                self._refuse_foreign(conn)
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

    def _refuse_foreign(self, conn: sqlite3.Connection) -> None:
        """A database that holds tables but is no OSS log is someone else's: never add ours to it."""
        tables = [
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND name NOT LIKE 'fleet_%' ORDER BY name"
            )
        ]
        if not tables:
            return  # a new or empty file: it becomes the log
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError:
            row = None
        if row is None or not set(tables) >= _OWN_TABLES:
            shown = ", ".join(tables[:8]) + (", ..." if len(tables) > 8 else "")
            raise LogError(
                f"event log {self.path} is an SQLite database but not an OSS event log (it holds the "
                f"tables {shown}); OSS adds nothing to it. Give the event log a path of its own "
                "(--log FILE, or log: in the station file): a new file, or an empty one."
            )

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in sqlite_ddl():
                conn.execute(stmt)
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?), ('created_utc', ?), "
                "('station', ?), ('log_id', ?)",
                (str(SCHEMA_VERSION), utc_now(), self.station_id, uuid.uuid4().hex),
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
        """Write what is still pending, checkpoint and close. Pending writes that still fail stay in the
        spill journal (a warning says where), merged at the next opening or by ``oss sync``. Only those
        that no place would take are logged in full at ERROR level and, with ``raise_on_loss``, raise
        :class:`LogStorageError`."""
        with self._lock:
            if self._conn is None:
                return
            lost: list[Write] = []
            if self._spill:
                try:
                    self._write([], force=True)
                except LogStorageError:
                    lost = self._spill[self._journaled :]
                    if self._journaled:
                        log.warning(
                            "event log %s: %d write(s) could not be written before closing; they are saved "
                            "in %s and go into the log at its next opening or with `oss sync %s`",
                            self.path, self._journaled, self._journal.path, self.path,
                        )  # fmt: skip
            if not self.readonly and not self._spill:
                self._conn.execute("PRAGMA busy_timeout = 2000")  # a long report must not hold the stop
                self._checkpoint("TRUNCATE")
            self._conn.close()
            self._conn = None
            if lost:
                for sql, params in lost:
                    log.error("event log %s: write lost: %s %r", self.path, sql.split(" (")[0], params)
                if raise_on_loss:
                    raise LogStorageError(
                        f"event log {self.path}: {len(lost)} write(s) could not be saved before closing, "
                        f"neither in the log nor in a spill journal ({self._journal_problem}); they are in "
                        "the error log. Free space on the drive before the next session.",
                        pending=0,
                    )

    def _checkpoint(self, mode: str) -> None:
        """Copy the WAL into the main file (a copy of that file alone then holds it all)."""
        try:
            busy = self._db.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
            if busy and busy[0]:
                log.debug("event log %s: checkpoint %s not complete (a reader is busy)", self.path, mode)
        except sqlite3.Error as e:  # a full disk: the WAL keeps it all, nothing is lost
            log.debug("event log %s: checkpoint %s failed: %s", self.path, mode, e)

    # -- writing ------------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Writes kept in memory because the last attempt failed."""
        return len(self._spill)

    @property
    def unmerged(self) -> bool:
        """True while spill journals found at opening could not be merged yet (the log was full)."""
        return self._unmerged

    @property
    def spill_path(self) -> Path | None:
        """The spill journal this store last saved pending writes in (None when it never had to)."""
        return self._journal.path

    def flush(self) -> int:
        """Retry the pending writes now; returns how many were written (raises if they still fail)."""
        with self._lock:
            n = len(self._spill)
            if n:
                self._write([], force=True)
            return n

    def _write(
        self, writes: list[Write], event_ids: tuple[str, ...] = (), spill: bool = True, force: bool = False
    ) -> None:
        """Pending writes, then ``writes``, in one transaction; durable when this returns.

        With a long backlog that is all in the spill journal, the log is tried again only every
        ``retry_every_s`` (unless ``force``): each try writes the whole backlog, and the station's
        loop must not slow down while the disk stays full. Meanwhile new writes go to the journal."""
        if self.readonly:
            raise LogError(f"event log {self.path} was opened read-only")
        batch = self._spill + writes
        if (
            spill
            and not force
            and self._last_failure is not None
            and len(self._spill) >= self.retry_backlog
            and self._journaled == len(self._spill)
            and time.monotonic() < self._retry_at
        ):
            self._spill = batch
            self._save_spill()
            raise LogStorageError(self._write_problem(self._last_failure), len(self._spill), event_ids)
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
                self._save_spill()
                self._last_failure, self._retry_at = e, time.monotonic() + self.retry_every_s
            raise LogStorageError(self._write_problem(e), len(self._spill), event_ids) from e
        self._spill, self._journaled, self._last_failure = [], 0, None
        self._journal.discard()  # what it held is in the log now
        if self._unmerged:
            self._merge_quietly()

    def _save_spill(self) -> None:
        """Put the pending writes that are not in the spill journal yet into it (synced)."""
        todo = self._spill[self._journaled :]
        if not todo:
            return
        try:
            self._journal.save([(_OP_OF[sql], params) for sql, params in todo])
        except OSError as e:
            self._journal_problem = str(e)
            log.error("event log %s: %s", self.path, e)
            return
        self._journaled = len(self._spill)

    def _write_problem(self, e: sqlite3.OperationalError) -> str:
        code = (getattr(e, "sqlite_errorcode", 0) or 0) & 0xFF
        n = len(self._spill)
        if self._spill and self._journaled == n:
            kept = (
                f"{n} write(s) are saved in {self._journal.path} and go into the log as soon as it takes "
                f"them (with the next event, at the next start, or with `oss sync {self.path}`)"
            )
        elif self._spill:
            kept = (
                f"{n} write(s) are kept in memory only ({self._journal_problem}) and retried with the "
                "next event: do not stop the station before there is room"
            )
        else:
            kept = "nothing was written"
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

    # -- spill journals -----------------------------------------------------------------------------

    def merge_spills(self) -> int:
        """Write the events of this log's spill journals (left by a stop or crash while the disk was
        full) into it, and remove the journals; returns how many events were new. Each event goes in
        once, however often this runs. Raises :class:`LogStorageError` when the log still cannot take
        them (the journals stay)."""
        with self._lock:
            own = set(self._journal.written)
            total = 0
            for path in find_journals(self.path, self.log_id, self._spill_dirs):
                if path not in own:
                    total += self._merge_journal(path)
            self._unmerged = False
            return total

    def _merge_at_open(self) -> int:
        try:
            n = self.merge_spills()
        except LogStorageError as e:
            self._unmerged = True
            log.warning("event log %s: spill journals not merged yet: %s", self.path, e)
            return 0
        if n:
            log.info("event log %s: %d event(s) merged from spill journals", self.path, n)
        return n

    def _merge_quietly(self) -> None:
        try:
            n = self.merge_spills()
        except LogStorageError as e:
            log.debug("event log %s: spill journals still not merged: %s", self.path, e)
            return
        if n:
            log.info("event log %s: %d event(s) merged from spill journals", self.path, n)

    def _merge_journal(self, path: Path) -> int:
        try:
            with locked(path, "r+") as f:
                log_id, entries, problems = read_journal(f, _OP_SIZES)
                if log_id != self.log_id:
                    problems.append(f"it belongs to the log with id {log_id!r}")
                    entries = []
                n = self._merge_entries(entries, problems)
                if problems:
                    kept = path.with_name(path.name + ".unreadable")
                    path.rename(kept)
                    log.warning(
                        "event log %s: spill journal %s: %s. What could be read is merged; the file is "
                        "kept as %s: look at it, then delete it",
                        self.path, path, "; ".join(problems[:5]), kept,
                    )  # fmt: skip
                else:
                    path.unlink()
        except FileNotFoundError:
            return 0  # merged meanwhile by another process
        except OSError as e:
            log.warning("event log %s: cannot read the spill journal %s: %s", self.path, path, e)
            return 0
        return n

    def _merge_entries(self, entries: list[tuple[str, tuple[Any, ...]]], problems: list[str]) -> int:
        """Write the journal's ``entries`` in one transaction; one that does not fit is left out and
        named in ``problems``. Returns how many events were new."""
        if not entries:
            return 0
        conn = self._db
        new = 0
        try:
            conn.execute("BEGIN IMMEDIATE")
            for i, (op, values) in enumerate(entries, 1):
                why = _misfit(op, values)
                try:
                    if why:
                        raise sqlite3.IntegrityError(why)
                    cur = conn.execute(_OPS[op], values)
                except sqlite3.IntegrityError as e:  # only this entry is undone
                    problems.append(f"entry {i}: {e}")
                    continue
                new += max(0, cur.rowcount) if op == "event" else 0
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise LogStorageError(
                f"event log {self.path} cannot take the spill journal's events yet ({e})", len(self._spill)
            ) from e
        return new

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
            try:
                self._write([(_CLOSE_SESSION, (utc or utc_now(), session_id))])
            except LogStorageError as e:
                if self._journaled < len(self._spill):
                    raise
                log.warning("%s", e)  # saved in the spill journal: the session may end
            else:
                self._checkpoint("PASSIVE")
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
            batch = tuple(events)
            for ev in batch:
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
            if any(ev.kind in _CHECKPOINT_KINDS for ev in batch):
                self._checkpoint("PASSIVE")  # a unit is done: a copy of the main file alone holds it
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


def merge_spills(path: str | Path, spill_dirs: Sequence[Path] | None = None) -> int:
    """Merge the spill journals of the existing log at ``path`` into it (``oss sync``); returns how
    many events were new. Raises :class:`LogError` when there is no log there, and
    :class:`LogStorageError` when it still cannot take them (the journals stay)."""
    p = Path(path)
    if not p.is_file():
        raise LogError(f"no event log at {p}: check the path (the station's 'log:' setting)")
    with EventStore(p, "", spill_dirs=spill_dirs) as store:
        return store.merged + (store.merge_spills() if store.unmerged else 0)


_TEXT, _OPT_TEXT, _INT, _NUM = (str,), (str, type(None)), (int,), (int, float)
_EVENT_TYPES = (_TEXT,) * 7 + (_OPT_TEXT, _INT, _TEXT, _TEXT, _NUM, _TEXT, _TEXT)  # EVENT_FIELDS without seq


def _misfit(op: str, values: tuple[Any, ...]) -> str:
    """Why a spill journal entry is not one this store wrote ("" when it fits)."""
    types = _EVENT_TYPES if op == "event" else (_TEXT, _TEXT)
    if any(isinstance(v, bool) or not isinstance(v, t) for v, t in zip(values, types, strict=True)):
        return f"a value of the wrong type in {op!r}"
    if op != "event":
        return ""
    kind, data = values[EVENT_FIELDS.index("kind") - 1], values[-1]
    if kind not in EVENT_KINDS:
        return f"unknown event kind {kind!r}"
    try:
        ok = isinstance(json.loads(data), dict)
    except ValueError:
        ok = False
    return "" if ok else "its data is not a JSON object"


def _same_instruction(s: SessionInfo, instruction: Instruction) -> bool:
    if instruction.content_hash or s.instruction_hash:
        return s.instruction_hash == instruction.content_hash
    return (s.product_id, s.instruction_version) == (instruction.product_id, instruction.version)
