"""``oss report`` and ``oss sync``: the command-line side of reports and the fleet store.

The lead wires them in ``oss/cli.py`` with ``add_commands(sub, commands)``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from oss.records import OssError

Command = Callable[[argparse.Namespace], int]


def add_commands(subparsers: argparse._SubParsersAction, commands: dict[str, Command]) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "report",
        help="write the supervisor report (HTML and CSV) from station logs or the fleet store",
        description="Read station event logs (SQLite) or the fleet store (--db postgresql://...) and write "
        "report.html, one CSV per table and skills/<operator>.html into --out.",
    )
    p.add_argument("logs", nargs="*", metavar="LOG.sqlite", help="station event log files (one or several)")
    p.add_argument(
        "--db",
        metavar="DSN",
        help="the fleet store instead of files: postgresql://user@host/db "
        "('env' = OSS_FLEET_DSN / PG* variables)",
    )
    p.add_argument("--out", default="out/report", help="folder to write into (default: out/report)")
    p.add_argument("--since", help="first day (YYYY-MM-DD, in --tz) or an ISO time")
    p.add_argument("--until", help="last day, included (YYYY-MM-DD) or an ISO time (excluded)")
    p.add_argument("--station", action="append", default=[], help="only this station (repeatable)")
    p.add_argument("--operator", action="append", default=[], help="only this operator (repeatable)")
    p.add_argument("--product", action="append", default=[], help="only this product (repeatable)")
    p.add_argument("--variant", action="append", default=[], help="only this variant (repeatable)")
    p.add_argument(
        "--tz", default=_local_tz(), help="time zone for days and hours (default: this computer's)"
    )
    p.add_argument("--no-skills", action="store_true", help="do not write the per-operator skills records")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    commands["report"] = _report

    s = subparsers.add_parser(
        "sync",
        help="merge a station log's spill journals into it and forward it to the fleet store (PostgreSQL)",
        description="First write into LOG.sqlite the events its station saved in spill journals while the "
        "log's disk was full (each event once), then copy the events the fleet store does not have yet. "
        "The DSN comes from --dsn, else OSS_FLEET_DSN, else libpq's PG* variables; keep passwords in "
        "~/.pgpass. Without any, only the journals are merged.",
    )
    s.add_argument("log", metavar="LOG.sqlite")
    s.add_argument("--dsn", help="postgresql://user@host:port/db (default: OSS_FLEET_DSN or PG* variables)")
    s.add_argument("--follow", action="store_true", help="keep forwarding new events until Ctrl-C")
    s.add_argument(
        "--interval", type=float, default=1.0, help="seconds between looks for new events (--follow)"
    )
    commands["sync"] = _sync


def _local_tz() -> str:
    try:
        from pathlib import Path

        link = Path("/etc/localtime").resolve()
        if "zoneinfo/" in str(link):
            return str(link).split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return "UTC"


def _utc_bound(text: str | None, tz: str, end: bool) -> str | None:
    from datetime import UTC, timedelta
    from zoneinfo import ZoneInfo

    if not text:
        return None
    try:
        if len(text) == 10:
            d = date.fromisoformat(text) + timedelta(days=1 if end else 0)
            dt = datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(tz))
        else:
            dt = datetime.fromisoformat(text)
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=ZoneInfo(tz))
    except ValueError:
        raise OssError(
            f"cannot read the time {text!r}: write a day as 2025-03-01 or a time as 2025-03-01T14:00"
        ) from None
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")


def _report(args: argparse.Namespace) -> int:
    from oss.log.central import resolve_dsn
    from oss.report import Filters, build_report, write_report
    from oss.report.model import zone

    zone(args.tz)
    dsn = args.db
    if dsn == "env":
        dsn = resolve_dsn(None)
        if dsn is None:
            raise OssError("--db env: set OSS_FLEET_DSN or PGHOST/PGDATABASE first")
    filters = Filters(
        since_utc=_utc_bound(args.since, args.tz, end=False),
        until_utc=_utc_bound(args.until, args.tz, end=True),
        stations=tuple(args.station),
        operators=tuple(args.operator),
        products=tuple(args.product),
        variants=tuple(args.variant),
    )
    t0 = time.perf_counter()
    out = _out_folder(args.out)

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"oss report: {msg}", file=sys.stderr, flush=True)

    report = build_report(args.logs, dsn, filters, args.tz, progress)
    for note in report.notes:  # shown even with -q: the figures may be short of the truth
        print(f"oss report: warning: {note}", file=sys.stderr, flush=True)
    try:
        paths = write_report(report, out, skills=not args.no_skills)
    except OSError as e:
        raise OssError(f"cannot write the report into {out}: {e.strerror or e}") from None
    s = report.table("summary").as_dict()
    print(
        f"{paths[0]}  ({s['units']} units, {s['steps_done']} steps, {s['errors']} errors; "
        f"{len(paths)} files in {time.perf_counter() - t0:.1f} s)"
    )
    return 0


def _out_folder(text: str) -> Path:
    """The report folder, made now: a file in the way or a folder that cannot be written is said at once."""
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise OssError(f"--out {out}: this is a file, not a folder; name a folder for the report")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OssError(f"cannot write the report into {out}: {e.strerror or e}") from None
    if not os.access(out, os.W_OK):
        raise OssError(f"cannot write the report into {out}: the folder is read-only")
    return out


def _sync(args: argparse.Namespace) -> int:
    import logging

    from oss.log.central import resolve_dsn
    from oss.log.fleet import FleetForwarder
    from oss.log.store import merge_spills

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    merged = merge_spills(args.log)
    print(f"{merged} event(s) merged from spill journals into {args.log}")
    if resolve_dsn(args.dsn) is None and not args.follow:
        print("no fleet store configured (--dsn, OSS_FLEET_DSN or PGHOST): nothing forwarded")
        return 0
    fwd = FleetForwarder(args.log, args.dsn, interval_s=args.interval)
    if not args.follow:
        try:
            n = fwd.forward_once()
        finally:
            fwd.close()
        print(f"{n} new events forwarded to {fwd.where}")
        return 0
    fwd.start()
    try:
        while True:
            time.sleep(5)
            st = fwd.status
            print(
                f"forwarded {st.forwarded}, pending {st.pending}"
                + (f", {st.last_error}" if st.last_error else ""),
                file=sys.stderr,
            )
    except KeyboardInterrupt:
        pass
    finally:
        fwd.stop()
    return 0
