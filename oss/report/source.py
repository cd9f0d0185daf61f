"""Where a report reads the event log from: station SQLite files or the fleet's PostgreSQL store.

Both speak one SQL with a few dialect pieces (JSON fields, timestamps, placeholders), so every figure is
computed by the same query in both stores. SQLite files are attached one after the other to an
in-memory database; the report reduces each file's events into working tables there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from oss.log.central import FleetError, connect, mask_dsn
from oss.log.schema import EVENT_FIELDS
from oss.log.store import readonly_uri, unread_wal
from oss.records import OssError

Progress = Callable[[str], None]


class ReportError(OssError):
    """The report cannot be made (no log, unreadable log, bad filter); the message says what to do."""


def no_progress(message: str) -> None:
    """The default progress sink: says nothing."""


@dataclass(frozen=True)
class Filters:
    """Which events a report covers. Times are UTC ISO strings (``since`` inclusive, ``until`` not)."""

    since_utc: str | None = None
    until_utc: str | None = None
    stations: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()

    def where(self, ph: str, utc_param: str) -> tuple[str, list[Any]]:
        """An SQL condition on ``events`` (``TRUE`` when nothing is filtered) and its parameters."""
        parts: list[str] = []
        args: list[Any] = []
        if self.since_utc:
            parts.append(f"utc >= {utc_param}")
            args.append(self.since_utc)
        if self.until_utc:
            parts.append(f"utc < {utc_param}")
            args.append(self.until_utc)
        for col, values in (
            ("station", self.stations),
            ("operator", self.operators),
            ("product_id", self.products),
            ("variant", self.variants),
        ):
            if values:
                parts.append(f"{col} IN ({', '.join([ph] * len(values))})")
                args.extend(values)
        return (" AND ".join(parts) or "1 = 1"), args


class Source(Protocol):
    """A database a report runs its queries on (see :class:`SqliteSource`, :class:`PostgresSource`)."""

    dialect: str
    label: str
    notes: tuple[str, ...]  # what the reader should know: a log that looks incomplete, ...

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def execute(self, sql: str, args: Sequence[Any] = ()) -> None: ...
    def num(self, key: str) -> str: ...
    def text(self, key: str) -> str: ...
    def true(self, key: str) -> str: ...
    def utc_text(self, col: str = "utc") -> str: ...
    def event_tables(self, progress: Progress = no_progress) -> Iterator[str]: ...
    def close(self) -> None: ...


class _Sql:
    dialect = "sqlite"
    label = ""
    notes: tuple[str, ...] = ()

    def num(self, key: str) -> str:
        """A numeric field of ``data`` (NULL when missing or null)."""
        return f"CAST(json_extract(data, '$.{key}') AS REAL)"

    def text(self, key: str) -> str:
        return f"json_extract(data, '$.{key}')"

    def true(self, key: str) -> str:
        """A condition: the ``data`` field is JSON true."""
        return f"json_extract(data, '$.{key}') = 1"

    def utc_text(self, col: str = "utc") -> str:
        """The timestamp as ``YYYY-MM-DDTHH:MM:SS.fff`` in UTC (the log writes ``...SS.fff+00:00``: cut)."""
        return (
            f"CASE WHEN length({col}) = 29 AND substr({col}, 24) = '+00:00' THEN substr({col}, 1, 23) "
            f"ELSE strftime('%Y-%m-%dT%H:%M:%f', {col}) END"
        )


class SqliteSource(_Sql):
    """Station log files, each attached read-only in turn to an in-memory database that holds the
    report's working tables (see ``event_tables``)."""

    def __init__(self, paths: Sequence[str | Path], filters: Filters | None = None) -> None:
        if not paths:
            raise ReportError(
                "no event log given: name one or more station .sqlite files, or --db postgresql://..."
            )
        unique = dict.fromkeys(Path(p).resolve() for p in paths)
        self.paths = list(unique)
        for p in self.paths:
            if not p.is_file():
                raise ReportError(f"no event log at {p}: check the path (the station's 'log:' setting)")
        self.label = ", ".join(str(Path(p)) for p in paths)
        self.conn = sqlite3.connect("file::memory:", uri=True, isolation_level=None)
        self.conn.execute("PRAGMA temp_store = MEMORY")
        self._check_overlap()

    def _attach(self, path: Path) -> None:
        try:
            self.conn.execute("ATTACH DATABASE ? AS src", (readonly_uri(path),))
            self.conn.execute(f"SELECT {', '.join(EVENT_FIELDS)} FROM src.events LIMIT 1")
        except sqlite3.DatabaseError as e:
            if any(r[1] == "src" for r in self.conn.execute("PRAGMA database_list")):
                self.conn.execute("DETACH DATABASE src")
            raise ReportError(
                f"{path} is not an OSS event log ({e}); give the station's .sqlite log"
            ) from None

    def _check_overlap(self) -> None:
        """Two files with the same sessions are copies of one log: counting both would double it."""
        owner: dict[str, Path] = {}
        notes: list[str] = []
        for p in self.paths:
            self._attach(p)
            try:
                ids = [r[0] for r in self.conn.execute("SELECT id FROM src.sessions")]
                notes += self._incomplete(p)
            finally:
                self.conn.execute("DETACH DATABASE src")
            for i in ids:
                if i in owner:
                    raise ReportError(
                        f"{owner[i]} and {p} hold the same sessions (one is a copy of the other): give each "
                        "station's log once"
                    )
                owner[i] = p
        self.notes = tuple(notes)

    def _incomplete(self, path: Path) -> list[str]:
        """Signs that the attached log misses events it once had (see docs/reports.md)."""
        q = self.conn.execute
        out: list[str] = []
        wal = path.with_name(path.name + "-wal")
        unread = unread_wal(path)
        if unread is not None:
            out.append(
                f"{path}: its {unread.name} file could not be read (the folder is read-only for this user), "
                "so the newest events may be missing: copy the log together with its -wal file to a "
                "writable folder and make the report from there"
            )
        n, lo, hi = q("SELECT COUNT(*), MIN(seq), MAX(seq) FROM src.events").fetchone()
        if n and hi - lo + 1 > n:
            out.append(
                f"{path}: {hi - lo + 1 - n} event(s) are missing between seq {lo} and {hi} (gaps in the "
                "numbering): the file was changed or damaged; report from the station's own log"
            )
        if q("SELECT 1 FROM src.sqlite_master WHERE name = 'fleet_cursor'").fetchone():
            (sent,) = q("SELECT COALESCE(MAX(events_seq), 0) FROM src.fleet_cursor").fetchone()
            if sent > (hi or 0):
                out.append(
                    f"{path}: the fleet store was sent events up to seq {sent}, but this file ends at seq "
                    f"{hi or 0}: it is an older or partial copy of the log"
                )
        last = q(
            "SELECT id, operator, started_utc FROM src.sessions WHERE ended_utc IS NULL "
            "AND rowid = (SELECT MAX(rowid) FROM src.sessions)"
        ).fetchone()
        if last is not None and unread is None and not (wal.is_file() and wal.stat().st_size > 0):
            ended = q(
                "SELECT 1 FROM src.events WHERE session_id = ? AND kind = 'session_end' LIMIT 1", (last[0],)
            ).fetchone()
            if ended is None:
                out.append(
                    f"{path} looks incomplete: its last session ({last[1]}, started {last[2]}) never ended, "
                    f"and no station is writing it (there is no {wal.name}). A copy made while the station "
                    f"ran must include {wal.name} (or copy after the station stopped); a station that lost "
                    "power leaves its unit in progress cut short like this"
                )
        return out

    def event_tables(self, progress: Progress = no_progress) -> Iterator[str]:
        for i, p in enumerate(self.paths, 1):
            if len(self.paths) > 1:
                progress(f"reading {p.name} ({i}/{len(self.paths)})")
            self._attach(p)
            try:
                yield "src.events"
            finally:
                self.conn.execute("DETACH DATABASE src")

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, tuple(args)).fetchall()

    def execute(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.conn.execute(sql, tuple(args))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class PostgresSource(_Sql):
    """The fleet's central store (read only; temporary tables live in the session)."""

    dialect = "postgres"

    def __init__(self, dsn: str) -> None:
        self.label = mask_dsn(dsn)
        try:
            self.conn = connect(dsn, autocommit=True)
        except FleetError as e:
            raise ReportError(str(e)) from None
        row = self.conn.execute("SELECT to_regclass('events') IS NOT NULL").fetchone()
        if not row or not row[0]:
            self.conn.close()
            raise ReportError(
                f"{self.label} holds no OSS events table: is this the fleet store? (oss sync creates it)"
            )

    def num(self, key: str) -> str:
        return f"CAST(data->>'{key}' AS DOUBLE PRECISION)"

    def text(self, key: str) -> str:
        return f"(data->>'{key}')"

    def true(self, key: str) -> str:
        return f"(data->'{key}') = 'true'::jsonb"

    def utc_text(self, col: str = "utc") -> str:
        return f"to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS')"

    @staticmethod
    def _pg(sql: str) -> str:
        return sql.replace("?", "%s")

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(self._pg(sql), tuple(args)).fetchall()  # type: ignore[arg-type]

    def execute(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.conn.execute(self._pg(sql), tuple(args))  # type: ignore[arg-type]

    def event_tables(self, progress: Progress = no_progress) -> Iterator[str]:
        yield "events"

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_source(
    paths: Sequence[str | Path] = (), dsn: str | None = None, filters: Filters | None = None
) -> SqliteSource | PostgresSource:
    """The source for ``oss report``: PostgreSQL when ``dsn`` is given, else the SQLite ``paths``."""
    if dsn is not None and paths:
        raise ReportError("give either station log files or --db, not both")
    if dsn is not None:
        return PostgresSource(dsn)
    return SqliteSource(paths, filters)
