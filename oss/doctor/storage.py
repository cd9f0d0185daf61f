"""Where the events go: the station's log file (writable, free space, days left) and the fleet store."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from oss.config import StationConfig
from oss.doctor.result import CheckResult, DataValue, fail, ok, skipped, warn

MB = 1_000_000
# A busy station writes about 75 events per unit at about 500 bytes each (SQLite pages and indexes
# included): some 240 units in an 8 h shift make about 9 MB a day. A new log is given at least this rate.
TYPICAL_BYTES_PER_DAY = 10 * MB
SETTLED_DAYS = 7.0  # a log this old tells its own rate
FAIL_DAYS, WARN_DAYS = 2.0, 30.0
MIN_FREE = 100 * MB


@dataclass(frozen=True)
class LogGrowth:
    """What the log says about its own growth: size on disk (with the WAL), events, their time span."""

    bytes: int
    events: int
    span_days: float


def _existing_ancestor(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _writable(folder: Path) -> str:
    """ "" when a file can be made in ``folder`` (tried, not guessed from mode bits), else why not."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".oss-doctor-"):
            pass
    except OSError as e:
        return e.strerror or str(e)
    return ""


def _growth(path: Path) -> LogGrowth | str:
    """The log's size, event count and the time its events span; a string says why it can't be read."""
    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    try:
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error as e:
        return str(e)
    try:
        n = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        first = conn.execute("SELECT utc FROM events ORDER BY seq LIMIT 1").fetchone()
        last = conn.execute("SELECT utc FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    except sqlite3.Error as e:
        return f"not an OSS event log ({e})"
    finally:
        conn.close()
    span = 0.0
    if first and last:
        try:
            t0, t1 = datetime.fromisoformat(first[0]), datetime.fromisoformat(last[0])
            span = max(0.0, (t1 - t0).total_seconds() / 86400.0)
        except ValueError:
            span = 0.0  # an unreadable time stamp: the log counts as new
    return LogGrowth(size, int(n), span)


def _human(n: float) -> str:
    for unit, f in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= f:
            return f"{n / f:.1f} {unit}"
    return f"{n:.0f} B"


def _days(d: float) -> str:
    return f"{d / 365:.1f} years" if d >= 730 else f"{d:.0f} days"


def check_log(cfg: StationConfig) -> CheckResult:
    name = "event log"
    path = Path(cfg.log)
    if path.is_dir():
        return fail(name, f"{path} is a folder", f"give a file path such as log: {path / 'station.sqlite'}")
    folder = path.parent
    base = _existing_ancestor(folder)
    if base != folder and not base.is_dir():
        return fail(
            name,
            f"cannot make the folder {folder}: {base} is a file",
            "choose a log path in a folder this user can write to (log: in the station file)",
        )
    why = _writable(base)
    if why:
        return fail(
            name,
            f"cannot write in {base} ({why}): the station cannot keep its events",
            f"make the folder writable for the station user (ls -ld {base}; sudo chown USER {base}) or "
            "choose another log path (log: in the station file)",
        )
    if path.exists() and not os.access(path, os.W_OK):
        return fail(
            name,
            f"{path} is read-only ({stat.filemode(path.stat().st_mode)})",
            f"make it writable for the station user (sudo chown USER {path}; chmod u+w {path})",
        )
    free = shutil.disk_usage(base).free
    growth = _growth(path) if path.exists() else None
    if isinstance(growth, str):
        return fail(
            name,
            f"{path} cannot be read: {growth}",
            "move the file aside (the station starts a new log) or choose another log path",
        )
    where = (
        "its folder is writable"
        if base == folder
        else f"its folder {folder} is made too ({base} is writable)"
    )
    rate, how = _rate(growth)
    left = free / rate
    detail = (
        f"{path}: {_state(growth)}, {where}; {_human(free)} free: about {_days(left)} left at "
        f"{_human(rate)}/day ({how})"
    )
    data: dict[str, DataValue] = dict(
        path=str(path), free_bytes=free, bytes_per_day=round(rate), days_left=round(left, 1)
    )
    if growth is not None:
        data.update(log_bytes=growth.bytes, events=growth.events, span_days=round(growth.span_days, 2))
    space_fix = (
        f"free space on that disk (df -h {base}; old recordings, out/ folders), or copy older logs to the "
        "fleet store or an archive and start a new log file"
    )
    if left < FAIL_DAYS or free < MIN_FREE:
        return fail(name, detail, space_fix, **data)
    if left < WARN_DAYS:
        return warn(name, detail, space_fix, **data)
    return ok(name, detail, **data)


def _state(growth: LogGrowth | None) -> str:
    if growth is None:
        return "new (made on the first run)"
    per = f", {growth.bytes / growth.events:.0f} B/event" if growth.events else ""
    return f"{growth.events} events over {growth.span_days:.1f} days, {_human(growth.bytes)}{per}"


def _rate(growth: LogGrowth | None) -> tuple[float, str]:
    """Bytes per day: the log's own (its size over the days its events span) once it is a week old;
    before that at least a busy station's typical rate, since a few hours say little about a day."""
    if growth is None or growth.events == 0:
        return TYPICAL_BYTES_PER_DAY, "a busy station's typical rate: the log is new"
    own = growth.bytes / max(growth.span_days, 1.0)
    if growth.span_days >= SETTLED_DAYS:
        return own, "this log's own rate"
    if own > TYPICAL_BYTES_PER_DAY:
        return own, f"this log's rate so far ({growth.span_days:.1f} days)"
    return (
        TYPICAL_BYTES_PER_DAY,
        f"a busy station's typical rate: the log is only {growth.span_days:.1f} days old",
    )


def _password_source(dsn: str) -> tuple[str, str]:
    """Where libpq gets the password from, and a problem with it ("" if none)."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        in_dsn = bool(conninfo_to_dict(dsn).get("password"))
    except ProgrammingError:
        in_dsn = False  # an unparsable DSN: connecting says what is wrong with it
    if in_dsn:
        return "in the DSN (from the environment; better in ~/.pgpass or PGPASSWORD)", ""
    if os.environ.get("PGPASSWORD"):
        return "PGPASSWORD", ""
    pgpass = Path(os.environ.get("PGPASSFILE") or Path.home() / ".pgpass")
    if pgpass.is_file():
        mode = pgpass.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            return str(pgpass), (
                f"{pgpass} is readable by others ({stat.filemode(mode)}): libpq ignores it; chmod 600 {pgpass}"
            )
        return str(pgpass), ""
    return "none given (the server must trust this host, or use certificates)", ""


def check_fleet(cfg: StationConfig) -> CheckResult:
    name = "fleet store"
    from oss.log.central import ENV_DSN, FleetError, connect, mask_dsn, resolve_dsn

    dsn = resolve_dsn(cfg.fleet_dsn)
    if dsn is None:
        return skipped(
            name,
            "no fleet store configured: the events stay in this station's log",
            f"fleet: {{dsn: postgresql://USER@HOST/DB}} in the station file (or {ENV_DSN}); the password "
            "goes in ~/.pgpass or PGPASSWORD",
        )
    where = mask_dsn(dsn)
    source = (
        "the station file"
        if cfg.fleet_dsn
        else (ENV_DSN if os.environ.get(ENV_DSN) else "libpq's PG* variables")
    )
    password, pw_problem = _password_source(dsn)
    try:
        conn = connect(dsn, connect_timeout_s=5.0, autocommit=True)
    except FleetError as e:
        text = str(e)
        if any(w in text.lower() for w in ("authentication failed", "no password supplied", "password is")):
            fix = (
                "put the password in ~/.pgpass (HOST:PORT:DB:USER:PASSWORD, chmod 600) or PGPASSWORD for the "
                "station user; never in the station file"
            )
        else:
            fix = "check that the server runs and that host, port and database are right (and the firewall)"
        if pw_problem:
            fix = f"{pw_problem}; {fix}"
        return fail(name, f"{text} (DSN from {source}; password: {password})", fix, dsn=where)
    try:
        version = conn.execute("SHOW server_version").fetchone()
        has_meta = conn.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()
        schema = (
            conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if has_meta and has_meta[0]
            else None
        )
    finally:
        conn.close()
    from oss.log.schema import SCHEMA_VERSION

    tables = f"schema {schema[0]}" if schema else "no OSS tables yet (made on the first forward)"
    detail = (
        f"{where} reachable (PostgreSQL {version[0] if version else '?'}, {tables}); DSN from {source}, "
        f"password: {password}"
    )
    data: dict[str, DataValue] = dict(dsn=where, schema=int(schema[0]) if schema else None)
    if schema and int(schema[0]) > SCHEMA_VERSION:
        return fail(
            name,
            detail,
            f"the store was made by a newer OSS (schema {schema[0]}, this one knows {SCHEMA_VERSION}): "
            "upgrade OSS on this station",
            **data,
        )
    if pw_problem:
        return warn(name, detail, pw_problem, **data)
    return ok(name, detail, **data)
