"""The event log schema, one definition for the station's SQLite file and the central PostgreSQL store.

Each table is a tuple of ``(column, sqlite type, postgres type, constraint)``; the DDL of both stores is
generated from it, so a column added here appears in both. ``SCHEMA_VERSION`` goes up with every change
and is kept in the ``meta`` table of each store.

``events.id`` is a uuid4 hex string: unique across stations and stable when an event is forwarded.
``events.seq`` is the insertion order within one log file (the fleet sync's cursor). Each log file has
its own random ``log_id`` (in its ``meta`` table); the central store keeps it with every event, and
``(station, log_id, seq)`` is unique there: a log that replaced an older one of the same station
starts again at seq 1 without clashing. The central ``station_logs`` table holds the time span of each
log of a station; two logs of one station that overlap in time are two stations using one station id.

The central store has its own version (``FLEET_SCHEMA_VERSION``, key ``schema_version`` of its
``meta``); version 1 had no ``log_id`` and ``(station, seq)`` unique, and is migrated on connection.
"""

from __future__ import annotations

SCHEMA_VERSION = 1
FLEET_SCHEMA_VERSION = 2

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
    """The same tables for the central store, with ``log_id`` in ``events`` and ``station_logs``.

    The statements run on a store of version 1 too (``postgres_migration`` first adds the column)."""
    stmts = [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        _table("sessions", SESSION_COLUMNS, 2),
        _table("events", (*EVENT_COLUMNS, ("log_id", "TEXT", "TEXT", "NOT NULL DEFAULT ''")), 2),
        "CREATE TABLE IF NOT EXISTS station_logs (station TEXT NOT NULL, log_id TEXT NOT NULL, "
        "first_utc TIMESTAMPTZ NOT NULL, last_utc TIMESTAMPTZ NOT NULL, PRIMARY KEY (station, log_id))",
    ]
    return tuple(stmts)


def postgres_indexes() -> tuple[str, ...]:
    stmts = ["CREATE UNIQUE INDEX IF NOT EXISTS events_station_log_seq ON events (station, log_id, seq)"]
    stmts += [f"CREATE INDEX IF NOT EXISTS {n} ON {t} ({c})" for n, t, c in _INDEXES]
    return tuple(stmts)


def postgres_migration(version: int) -> tuple[str, ...]:
    """What turns a central store of ``version`` into the current one (run before the indexes)."""
    if version >= FLEET_SCHEMA_VERSION:
        return ()
    return (
        "ALTER TABLE events ADD COLUMN IF NOT EXISTS log_id TEXT NOT NULL DEFAULT ''",
        # the logs forwarded before log ids: one per station (log_id ''), over the time it covers
        "INSERT INTO station_logs (station, log_id, first_utc, last_utc) "
        "SELECT station, log_id, MIN(utc), MAX(utc) FROM events GROUP BY station, log_id "
        "ON CONFLICT (station, log_id) DO NOTHING",
        "DROP INDEX IF EXISTS events_station_seq",
    )
