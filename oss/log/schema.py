"""The event log schema, one definition for the station's SQLite file and the central PostgreSQL store.

Each table is a tuple of ``(column, sqlite type, postgres type, constraint)``; the DDL of both stores is
generated from it, so a column added here appears in both. ``SCHEMA_VERSION`` goes up with every change
and is kept in the ``meta`` table of each store.

``events.id`` is a uuid4 hex string: unique across stations and stable when an event is forwarded.
``events.seq`` is the station-local insertion order (the fleet sync's cursor); ``(station, seq)`` is
unique only within one log file, ``id`` everywhere.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

Column = tuple[str, str, str, str]

EVENT_COLUMNS: tuple[Column, ...] = (
    ("id", "TEXT", "TEXT", "PRIMARY KEY"),
    ("seq", "INTEGER", "BIGINT", "NOT NULL"),
    ("station", "TEXT", "TEXT", "NOT NULL"),
    ("session_id", "TEXT", "TEXT", "NOT NULL"),
    ("operator", "TEXT", "TEXT", "NOT NULL"),
    ("product_id", "TEXT", "TEXT", "NOT NULL"),
    ("instruction_version", "TEXT", "TEXT", "NOT NULL"),
    ("instruction_hash", "TEXT", "TEXT", "NOT NULL"),
    ("variant", "TEXT", "TEXT", ""),
    ("cycle", "INTEGER", "INTEGER", "NOT NULL"),
    ("step_uid", "TEXT", "TEXT", "NOT NULL"),
    ("kind", "TEXT", "TEXT", "NOT NULL"),
    ("t_mono", "REAL", "DOUBLE PRECISION", "NOT NULL"),
    ("utc", "TEXT", "TIMESTAMPTZ", "NOT NULL"),
    ("data", "TEXT", "JSONB", "NOT NULL"),
)

SESSION_COLUMNS: tuple[Column, ...] = (
    ("id", "TEXT", "TEXT", "PRIMARY KEY"),
    ("station", "TEXT", "TEXT", "NOT NULL"),
    ("operator", "TEXT", "TEXT", "NOT NULL"),
    ("product_id", "TEXT", "TEXT", "NOT NULL"),
    ("instruction_version", "TEXT", "TEXT", "NOT NULL"),
    ("instruction_hash", "TEXT", "TEXT", "NOT NULL"),
    ("variant", "TEXT", "TEXT", ""),
    ("started_utc", "TEXT", "TIMESTAMPTZ", "NOT NULL"),
    ("ended_utc", "TEXT", "TIMESTAMPTZ", ""),
)

EVENT_FIELDS: tuple[str, ...] = tuple(c[0] for c in EVENT_COLUMNS)
SESSION_FIELDS: tuple[str, ...] = tuple(c[0] for c in SESSION_COLUMNS)

_INDEXES: tuple[tuple[str, str, str], ...] = (
    ("events_session", "events", "session_id, seq"),
    ("events_kind", "events", "kind, utc"),
    ("sessions_station", "sessions", "station, started_utc"),
)


def _table(name: str, cols: tuple[Column, ...], dialect: int) -> str:
    body = ",\n  ".join(f"{c[0]} {c[dialect]} {c[3]}".rstrip() for c in cols)
    return f"CREATE TABLE IF NOT EXISTS {name} (\n  {body}\n)"


def sqlite_ddl() -> tuple[str, ...]:
    """The statements that create the station's tables (``events.seq`` is also unique there)."""
    stmts = [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        _table("sessions", SESSION_COLUMNS, 1),
        _table("events", EVENT_COLUMNS, 1),
        "CREATE UNIQUE INDEX IF NOT EXISTS events_seq ON events (seq)",
    ]
    stmts += [f"CREATE INDEX IF NOT EXISTS {n} ON {t} ({c})" for n, t, c in _INDEXES]
    return tuple(stmts)


def postgres_ddl() -> tuple[str, ...]:
    """The same tables for the central store (``(station, seq)`` unique there)."""
    stmts = [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        _table("sessions", SESSION_COLUMNS, 2),
        _table("events", EVENT_COLUMNS, 2),
        "CREATE UNIQUE INDEX IF NOT EXISTS events_station_seq ON events (station, seq)",
    ]
    stmts += [f"CREATE INDEX IF NOT EXISTS {n} ON {t} ({c})" for n, t, c in _INDEXES]
    return tuple(stmts)
