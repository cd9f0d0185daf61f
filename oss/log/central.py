"""The fleet's central store on PostgreSQL: where to find it, how to name it safely, its tables.

Connection settings, first found wins:

1. an explicit DSN (``oss sync --dsn``, the station configuration, ``FleetForwarder(dsn=...)``);
2. the ``OSS_FLEET_DSN`` environment variable;
3. libpq's own environment (``PGHOST``, ``PGDATABASE``, ``PGSERVICE``, ...; the DSN is then ``""``).

Keep passwords out of configuration files: use ``~/.pgpass`` or ``PGPASSWORD``. Wherever a DSN is shown
(logs, error messages) it goes through :func:`mask_dsn` first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from oss.log.schema import FLEET_SCHEMA_VERSION, postgres_ddl, postgres_indexes, postgres_migration
from oss.records import OssError

if TYPE_CHECKING:
    from psycopg import Connection

ENV_DSN = "OSS_FLEET_DSN"
_LIBPQ_ENV = ("PGHOST", "PGHOSTADDR", "PGDATABASE", "PGSERVICE", "PGSERVICEFILE")
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


class FleetError(OssError):
    """The central store cannot be reached or used; the message never contains a password."""


def resolve_dsn(dsn: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """The DSN to use (see the module docstring), or None when nothing says where the store is."""
    env = os.environ if env is None else env
    if dsn:
        return dsn
    if env.get(ENV_DSN):
        return env[ENV_DSN]
    if any(env.get(k) for k in _LIBPQ_ENV):
        return ""
    return None


def _password_of(dsn: str) -> str:
    if "://" in dsn:
        try:
            parts = urlsplit(dsn)
        except ValueError:
            return ""
        if parts.password:
            return parts.password
        dsn = parts.query.replace("&", " ")
    m = _KV_PASSWORD.search(dsn)
    return m.group(2).strip("'") if m else ""


def mask_dsn(dsn: str) -> str:
    """``dsn`` with any password replaced by ``***`` (URL and ``key=value`` forms)."""
    if not dsn:
        return "(libpq environment)"
    if "://" in dsn:
        try:
            parts = urlsplit(dsn)
        except ValueError:
            return "(unparsable DSN)"
        netloc = parts.netloc
        if parts.password is not None:
            user, _, host = netloc.rpartition("@")
            name = user.split(":", 1)[0]
            netloc = f"{name}:***@{host}"
        query = _KV_PASSWORD.sub(r"\1***", parts.query.replace("&", " ")).replace(" ", "&")
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    return _KV_PASSWORD.sub(r"\1***", dsn)


def scrub(message: str, dsn: str | None) -> str:
    """``message`` without the DSN's password (error texts of drivers may quote the DSN)."""
    if not dsn:
        return message
    secret = _password_of(dsn)
    out = message.replace(dsn, mask_dsn(dsn))
    return out.replace(secret, "***") if secret else out


def connect(dsn: str, *, connect_timeout_s: float = 5.0, autocommit: bool = False) -> Connection[Any]:
    """A psycopg connection; raises :class:`FleetError` (password masked) when it cannot connect."""
    import psycopg

    try:
        return psycopg.connect(dsn, connect_timeout=max(1, round(connect_timeout_s)), autocommit=autocommit)
    except psycopg.Error as e:
        raise FleetError(
            f"cannot connect to the fleet store {mask_dsn(dsn)}: {scrub(str(e).strip(), dsn)}. "
            "Check that PostgreSQL runs and the host, port, database, user and password are right "
            f"(passwords belong in ~/.pgpass or PGPASSWORD, not in the DSN)."
        ) from None


def ensure_schema(conn: Connection[Any]) -> None:
    """Create the central tables if missing (same columns as the station's file, ``oss.log.schema``,
    and each event's ``log_id``), migrate a store made by an older OSS, and raise :class:`FleetError`
    when the store was made by a newer OSS."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(4242010)")  # several stations may start at once
        for stmt in postgres_ddl():
            conn.execute(stmt)
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else FLEET_SCHEMA_VERSION  # a new store is made as the current one
        if version > FLEET_SCHEMA_VERSION:
            raise FleetError(
                f"the fleet store has schema {version}, made by a newer OSS (this one knows "
                f"{FLEET_SCHEMA_VERSION}); upgrade OSS on this station"
            )
        for stmt in (*postgres_migration(version), *postgres_indexes()):
            conn.execute(stmt)
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (str(FLEET_SCHEMA_VERSION),),
        )
