"""Report time for a synthetic year of a workshop: SQLite files and the PostgreSQL fleet store.

    .venv/bin/python benchmarks/bench_report.py [--events 1000000] [--stations 20] [--dsn postgresql://...]

Generates ``--events`` events (a year of 250 working days; per unit a cycle_start, per step a step_start,
a pick and a step_end, then a cycle_end; about 3 % of units with a wrong pick, 1 % with a help request,
pauses twice a day; 30 operators learning at 85-90 %; 3 products, 2 variants, a new instruction version
in the middle of the year), one SQLite file per station. Then times the report from the station files
(merged), from one file holding everything, and, when a server is given (``--dsn``, else OSS_TEST_PG_DSN
or OSS_FLEET_DSN), forwards everything with FleetForwarder into a new database and times the report from
PostgreSQL. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from oss.log.schema import EVENT_FIELDS
from oss.log.store import EventStore

PRODUCTS = {"pump": (6, 40.0), "valve": (5, 30.0), "motor": (8, 45.0)}  # steps, expected_s per step


def _rows(station: str, n_events: int, seed: int, operators: list[str]) -> list[tuple[object, ...]]:
    rng = random.Random(seed)
    rows: list[tuple[object, ...]] = []
    seq = 0
    day0 = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
    days = [day0 + timedelta(days=d) for d in range(365) if (day0 + timedelta(days=d)).weekday() < 5][:250]
    per_day = max(1, -(-n_events // (250 * 19)))  # a little more than needed: stops at n_events
    experience: dict[tuple[str, str], int] = {}
    mono = 0.0

    def add(sess: tuple[str, ...], cycle: int, uid: str, kind: str, now: datetime, data: str) -> None:
        nonlocal seq, mono
        seq += 1
        rows.append(
            (
                uuid.uuid4().hex,
                seq,
                station,
                *sess,
                cycle,
                uid,
                kind,
                mono,
                now.isoformat(timespec="milliseconds"),
                data,
            )
        )

    for day in days:
        if len(rows) >= n_events:
            break
        op = rng.choice(operators)
        product = rng.choice(list(PRODUCTS))
        variant = rng.choice(("a", "b"))
        version = "1" if day.month < 7 else "2"
        n_steps, exp = PRODUCTS[product]
        sid = uuid.uuid4().hex
        sess = (sid, op, product, version, f"{product}{version}".ljust(16, "0"), variant)
        now = day + timedelta(minutes=rng.uniform(0, 30))
        add(sess, 0, "", "session_start", now, json.dumps({"operator": op, "product": product}))
        rate = 0.85 + 0.05 * (sum(map(ord, op)) % 3) / 2
        for cycle in range(1, per_day + 1):
            k = experience.get((op, product), 0) + 1
            experience[(op, product)] = k
            slow = 1.8 * k ** (-0.234 if rate < 0.87 else -0.152)
            add(sess, cycle, "", "cycle_start", now, f'{{"resumed":false,"steps":{n_steps}}}')
            total = 0.0
            errors = helps = 0
            for i in range(n_steps):
                uid = f"s{i}"
                add(sess, cycle, uid, "step_start", now, f'{{"expected_s":{exp:.1f},"index":{i}}}')
                d = exp * max(0.5, rng.lognormvariate(0, 0.25)) * max(1.0, slow)
                now += timedelta(seconds=d * 0.6)
                mono += d * 0.6
                add(sess, cycle, uid, "pick", now, f'{{"bin":"b{i}","correct":true,"counted":true}}')
                err = int(rng.random() < 0.03 / n_steps * 1.0)
                if err:
                    add(sess, cycle, uid, "error", now, '{"bin":"bx","cleared":false,"rule":"wrong_pick"}')
                    add(sess, cycle, uid, "error", now, '{"bin":"bx","by":"put_back","cleared":true}')
                h = int(rng.random() < 0.01 / n_steps * 6)
                if h:
                    add(sess, cycle, uid, "help", now, '{"on":true,"source":"pedal"}')
                    now += timedelta(seconds=30)
                    mono += 30
                    add(sess, cycle, uid, "help", now, '{"on":false,"source":"pedal"}')
                now += timedelta(seconds=d * 0.4)
                mono += d * 0.4
                add(
                    sess,
                    cycle,
                    uid,
                    "step_end",
                    now,
                    f'{{"duration_s":{d:.3f},"errors":{err},"expected_s":{exp:.1f},'
                    f'"help":{h},"index":{i},"paused_s":0.0,"result":"done"}}',
                )
                total += d
                errors += err
                helps += h
            add(
                sess,
                cycle,
                "",
                "cycle_end",
                now,
                f'{{"duration_s":{total:.3f},"errors":{errors},"help":{helps},"paused_s":0.0,'
                f'"skips":0,"steps":{n_steps}}}',
            )
            if cycle % max(1, per_day // 2) == 0:
                add(sess, cycle, "", "pause", now, '{"source":"pedal"}')
                now += timedelta(minutes=10)
                mono += 600
                add(sess, cycle, "", "resume", now, '{"paused_s":600.0,"source":"pedal"}')
            now += timedelta(seconds=rng.uniform(5, 40))
        add(sess, per_day, "", "session_end", now, f'{{"units":{per_day}}}')
    return rows


def _write(path: Path, station: str, rows: list[tuple[object, ...]]) -> None:
    EventStore(path, station).close()  # the schema
    with sqlite3.connect(path) as c:
        c.executemany(
            f"INSERT INTO events ({', '.join(EVENT_FIELDS)}) VALUES ({', '.join('?' * len(EVENT_FIELDS))})",
            rows,
        )


def _time_report(**kw: object) -> tuple[float, dict[str, object]]:
    from oss.report import build_report, render_html

    t0 = time.perf_counter()
    r = build_report(**kw)  # type: ignore[arg-type]
    render_html(r)
    return time.perf_counter() - t0, r.table("summary").as_dict()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--stations", type=int, default=20)
    ap.add_argument("--dsn", default=os.environ.get("OSS_TEST_PG_DSN") or os.environ.get("OSS_FLEET_DSN"))
    ap.add_argument("--dir", default=None, help="folder for the generated files (default: a temporary one)")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(dir=a.dir, prefix="oss-bench-report-"))
    out: dict[str, object] = {"events_requested": a.events, "stations": a.stations}
    try:
        operators = [f"op{i:02d}" for i in range(30)]
        t0 = time.perf_counter()
        paths, everything = [], []
        for s in range(a.stations):
            rows = _rows(f"st{s:02d}", a.events // a.stations, s, operators)
            p = tmp / f"st{s:02d}.sqlite"
            _write(p, f"st{s:02d}", rows)
            paths.append(p)
            everything.extend(rows)
        _write(tmp / "all.sqlite", "all", [(r[0], i + 1, *r[2:]) for i, r in enumerate(everything)])
        out["events"] = len(everything)
        out["generate_s"] = round(time.perf_counter() - t0, 2)
        del everything
        print(f"generated {out['events']} events", file=sys.stderr)
        secs, summary = _time_report(paths=paths, tz="UTC")
        out["report_sqlite_station_files_s"] = round(secs, 2)
        secs, summary_all = _time_report(paths=[tmp / "all.sqlite"], tz="UTC")
        out["report_sqlite_one_file_s"] = round(secs, 2)
        out["units"] = summary["units"]
        out["report_summaries_agree"] = {k: v for k, v in summary.items() if k != "stations"} == {
            k: v for k, v in summary_all.items() if k != "stations"
        }
        if a.dsn:
            out.update(_postgres(a.dsn, paths, summary))
        else:
            out["postgres"] = "skipped: no --dsn, OSS_TEST_PG_DSN or OSS_FLEET_DSN"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out, indent=2))


def _postgres(admin_dsn: str, paths: list[Path], summary: dict[str, object]) -> dict[str, object]:
    import psycopg
    from psycopg.conninfo import make_conninfo

    from oss.log.fleet import FleetForwarder

    name = f"oss_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    dsn = make_conninfo(admin_dsn, dbname=name)
    res: dict[str, object] = {}
    try:
        t0 = time.perf_counter()
        n = 0
        for p in paths:
            fwd = FleetForwarder(p, dsn, batch_size=10_000)
            n += fwd.forward_once()
            fwd.close()
        secs = time.perf_counter() - t0
        res["forward_events_per_s"] = round(n / secs)
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("VACUUM ANALYZE events")
        print(f"forwarded {n} events to PostgreSQL", file=sys.stderr)
        secs, pg_summary = _time_report(dsn=dsn, tz="UTC")
        res["report_postgres_s"] = round(secs, 2)
        res["postgres_summary_equals_sqlite"] = pg_summary == summary
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return res


if __name__ == "__main__":
    main()
