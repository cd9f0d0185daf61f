"""The SQL of a report: events are reduced in the database to one row per unit and per step group.

Everything here runs unchanged on SQLite and PostgreSQL (the dialect pieces come from the source), so
a report from the fleet store equals the report from the union of the stations' files.

Temporary tables made by :func:`prepare`, first filled from each event table (each station file, or
the fleet store's one table), then derived:

``r_steps``  one row per ``step_end`` (result, duration without pauses, expected_s, errors, help);
``r_unit_raw`` one row per ``cycle_end`` (a completed unit); ``r_help``, ``r_pause`` one row per help
             request / ended pause; ``r_counts`` events per kind (with errors raised, help turned on and
             actions taken, i.e. not ``refused``: skips, restarts);
``r_sg``     per step group (product, variant, step, version): counts and sums, with an integer ``gid``;
``r_sq``     the duration quantiles per step group;
``r_std``    the standard time per product, version and variant: the sum of the steps' expected_s
             (NULL when a step has none);
``r_units``  the units with their standard time and their number in the operator's experience of that
             product and variant (``unit_no``, 1 = the first unit in the report's period).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from oss.report.source import Filters, Source

UNIT_COLUMNS = (
    "station",
    "operator",
    "product_id",
    "version",
    "variant",
    "session_id",
    "cycle",
    "utc",
    "duration_s",
    "paused_s",
    "errors",
    "help",
    "skips",
    "expected_s",
    "unit_no",
)

STEP_KEYS = ("product_id", "variant", "step_uid", "version")
QUANTILES = (10, 25, 50, 75, 90)


@dataclass(frozen=True)
class Counts:
    """How many of each thing the filtered log holds (the report's summary)."""

    events: int
    sessions: int
    units: int
    steps_done: int
    steps_skipped: int
    steps_back: int
    errors: int  # wrong picks and other mistakes raised (error events that are not a clearing)
    help_requests: int
    pauses: int
    picks: int
    units_restarted: int = 0  # a supervisor started a unit over (``restart`` events not refused)


_CTX = (
    "session_id, station, operator, product_id, instruction_version AS version, "
    "COALESCE(variant, '') AS variant, cycle"
)
_CTX_COLS = (
    "session_id TEXT, station TEXT, operator TEXT, product_id TEXT, version TEXT, variant TEXT, cycle INTEGER"
)
_WORK = {
    "r_steps": f"{_CTX_COLS}, step_uid TEXT, idx INTEGER, result TEXT, duration_s DOUBLE PRECISION, "
    "expected_s DOUBLE PRECISION, errors DOUBLE PRECISION, help DOUBLE PRECISION",
    "r_unit_raw": f"{_CTX_COLS}, utc TEXT, duration_s DOUBLE PRECISION, paused_s DOUBLE PRECISION, "
    "errors DOUBLE PRECISION, help DOUBLE PRECISION, skips DOUBLE PRECISION",
    "r_help": "utc TEXT, station TEXT, operator TEXT, product_id TEXT, variant TEXT, step_uid TEXT, "
    "seconds DOUBLE PRECISION",
    "r_pause": "utc TEXT, station TEXT, operator TEXT, product_id TEXT, variant TEXT, "
    "seconds DOUBLE PRECISION",
    "r_counts": "kind TEXT, n BIGINT, raised BIGINT, help_on BIGINT, taken BIGINT",
}
_DERIVED = ("r_sg", "r_std", "r_units", "r_sq")


def prepare(src: Source, filters: Filters, progress: Callable[[str], None] | None = None) -> None:
    """Reduce the filtered events of every event table of ``src`` into the working tables, then derive
    the step groups (``r_sg``), standard times (``r_std``), units (``r_units``) and quantiles (``r_sq``)."""
    where, args = filters.where("?", _utc_param(src))
    for t in (*_WORK, *_DERIVED):
        src.execute(f"DROP TABLE IF EXISTS {t}")
    for t, cols in _WORK.items():
        src.execute(f"CREATE TEMP TABLE {t} ({cols})")
    on = f"CASE WHEN {src.true('on')} THEN 1 ELSE 0 END"
    for ev in src.event_tables(progress or (lambda m: None)):
        src.execute(
            f"INSERT INTO r_steps SELECT {_CTX}, step_uid, CAST({src.num('index')} AS INTEGER), "
            f"{src.text('result')}, {src.num('duration_s')}, {src.num('expected_s')}, "
            f"COALESCE({src.num('errors')}, 0), COALESCE({src.num('help')}, 0) "
            f"FROM {ev} WHERE kind = 'step_end' AND {where}",
            args,
        )
        src.execute(
            f"INSERT INTO r_unit_raw SELECT {_CTX}, {src.utc_text()}, COALESCE({src.num('duration_s')}, 0), "
            f"COALESCE({src.num('paused_s')}, 0), COALESCE({src.num('errors')}, 0), "
            f"COALESCE({src.num('help')}, 0), COALESCE({src.num('skips')}, 0) "
            f"FROM {ev} WHERE kind = 'cycle_end' AND {where}",
            args,
        )
        src.execute(
            "INSERT INTO r_help SELECT utc, station, operator, product_id, variant, step_uid, "
            "CASE WHEN next_on = 0 THEN next_t - t_mono END FROM ("
            f"SELECT {src.utc_text()} AS utc, station, operator, product_id, "
            "COALESCE(variant, '') AS variant, "
            f"step_uid, t_mono, {on} AS is_on, LEAD(t_mono) OVER w AS next_t, LEAD({on}) OVER w AS next_on "
            f"FROM {ev} WHERE kind = 'help' AND {where} "
            "WINDOW w AS (PARTITION BY session_id ORDER BY seq)) h "
            "WHERE is_on = 1",
            args,
        )
        src.execute(
            f"INSERT INTO r_pause SELECT {src.utc_text()}, station, operator, product_id, "
            "COALESCE(variant, ''), "
            f"COALESCE({src.num('paused_s')}, 0) FROM {ev} WHERE kind = 'resume' AND {where}",
            args,
        )
        raised = f"CASE WHEN kind = 'error' AND NOT COALESCE({src.true('cleared')}, FALSE) THEN 1 ELSE 0 END"
        taken = f"CASE WHEN COALESCE({src.true('refused')}, FALSE) THEN 0 ELSE 1 END"
        src.execute(
            f"INSERT INTO r_counts SELECT kind, COUNT(*), SUM({raised}), "
            f"SUM(CASE WHEN kind = 'help' AND {src.true('on')} THEN 1 ELSE 0 END), SUM({taken}) "
            f"FROM {ev} WHERE {where} GROUP BY kind",
            args,
        )
        src.execute(
            "INSERT INTO r_counts SELECT '_sessions', COUNT(DISTINCT session_id), 0, 0, 0 "
            f"FROM {ev} WHERE {where}",
            args,
        )
    _derive(src)


def _derive(src: Source) -> None:
    k = ", ".join(STEP_KEYS)
    src.execute(
        f"CREATE TEMP TABLE r_sg AS SELECT ROW_NUMBER() OVER (ORDER BY {k}) AS gid, g.* FROM ("
        f"SELECT {k}, MIN(idx) AS idx, MAX(expected_s) AS expected_s, "
        "COUNT(*) - COUNT(expected_s) AS no_expected, "
        "SUM(CASE WHEN result = 'done' THEN 1 ELSE 0 END) AS done, SUM(errors) AS errors, SUM(help) AS help, "
        "SUM(CASE WHEN result = 'skip' THEN 1 ELSE 0 END) AS skips, "
        f"SUM(CASE WHEN result = 'back' THEN 1 ELSE 0 END) AS backs FROM r_steps GROUP BY {k}) g"
    )
    src.execute(f"CREATE INDEX r_sg_key ON r_sg ({k})")
    # The standard time of a unit: the expected_s of every step of its instruction version and variant.
    src.execute(
        "CREATE TEMP TABLE r_std AS SELECT product_id, version, variant, "
        "CASE WHEN SUM(no_expected) = 0 THEN SUM(expected_s) END AS expected_s "
        "FROM r_sg GROUP BY product_id, version, variant"
    )
    src.execute(
        "CREATE TEMP TABLE r_units AS SELECT u.*, x.expected_s, ROW_NUMBER() OVER ("
        "PARTITION BY u.operator, u.product_id, u.variant ORDER BY u.utc, u.session_id, u.cycle) AS unit_no "
        "FROM r_unit_raw u LEFT JOIN r_std x "
        "ON x.product_id = u.product_id AND x.version = u.version AND x.variant = u.variant"
    )
    join = " AND ".join(f"g.{c} = s.{c}" for c in STEP_KEYS)
    src.execute(
        "CREATE TEMP TABLE r_sq AS "
        + quantile_sql(
            f"(SELECT g.gid, s.duration_s FROM r_steps s JOIN r_sg g ON {join} "
            "WHERE s.result = 'done' AND s.duration_s IS NOT NULL) d0",
            ("gid",),
            "duration_s",
        )
    )


def _utc_param(src: Source) -> str:
    return "CAST(? AS TIMESTAMPTZ)" if src.dialect == "postgres" else "?"


def units(src: Source) -> list[tuple[Any, ...]]:
    """Every completed unit (``UNIT_COLUMNS``), by operator, product, variant and unit number."""
    return src.query(
        f"SELECT {', '.join(UNIT_COLUMNS)} FROM r_units ORDER BY operator, product_id, variant, unit_no"
    )


def quantile_sql(table: str, keys: tuple[str, ...], value: str, where: str = "1 = 1") -> str:
    """Per group of ``keys``: n, and the QUANTILES of ``value`` (linear interpolation, as numpy's
    default), computed with window functions so the database does the sorting."""
    k = ", ".join(keys)
    cols = []
    for p in QUANTILES:
        lo = f"((n - 1) * {p}) / 100"
        frac = f"(CAST((n - 1) * {p} - {lo} * 100 AS DOUBLE PRECISION) / 100)"
        cols.append(
            f"SUM(CASE WHEN r = {lo} THEN v * (1 - {frac}) "
            f"WHEN r = {lo} + 1 THEN v * {frac} ELSE 0 END) AS q{p}"
        )
    return (
        f"SELECT {k}, MAX(n) AS n, {', '.join(cols)} FROM (SELECT {k}, {value} AS v, "
        f"ROW_NUMBER() OVER (PARTITION BY {k} ORDER BY {value}) - 1 AS r, "
        f"COUNT(*) OVER (PARTITION BY {k}) AS n FROM {table} WHERE {value} IS NOT NULL AND {where}) d "
        f"GROUP BY {k}"
    )


def step_groups(src: Source) -> list[tuple[Any, ...]]:
    """Per product, variant, step and instruction version: index, expected_s, runs done, the duration
    quantiles of the runs done, errors, help requests, skips and backs (over every run)."""
    qcols = ", ".join(f"q.q{p}" for p in QUANTILES)
    return src.query(
        f"SELECT {', '.join('g.' + c for c in STEP_KEYS)}, g.idx, g.expected_s, g.done, {qcols}, "
        "g.errors, g.help, g.skips, g.backs FROM r_sg g LEFT JOIN r_sq q ON q.gid = g.gid "
        "ORDER BY g.product_id, g.variant, g.idx, g.step_uid, g.version"
    )


def help_requests(src: Source) -> list[tuple[Any, ...]]:
    """Each help request: utc, station, operator, product, variant, step, seconds until help was off
    (None when the session ended first)."""
    return src.query("SELECT * FROM r_help ORDER BY utc, station")


def pauses(src: Source) -> list[tuple[Any, ...]]:
    """Each pause that ended: utc of the resume, station, operator, product, variant, seconds paused."""
    return src.query("SELECT * FROM r_pause ORDER BY utc, station")


def counts(src: Source) -> Counts:
    rows = src.query("SELECT kind, SUM(n), SUM(raised), SUM(help_on), SUM(taken) FROM r_counts GROUP BY kind")
    by_kind = {str(k): (int(n), int(r or 0), int(h or 0), int(x or 0)) for k, n, r, h, x in rows}
    none = (0, 0, 0, 0)
    res = dict(src.query("SELECT result, COUNT(*) FROM r_steps GROUP BY result"))
    (n_units,) = src.query("SELECT COUNT(*) FROM r_units")[0]
    return Counts(
        events=sum(v[0] for k, v in by_kind.items() if k != "_sessions"),
        sessions=by_kind.get("_sessions", none)[0],
        units=int(n_units),
        steps_done=int(res.get("done", 0)),
        steps_skipped=int(res.get("skip", 0)),
        steps_back=int(res.get("back", 0)),
        errors=by_kind.get("error", none)[1],
        help_requests=by_kind.get("help", none)[2],
        pauses=by_kind.get("pause", none)[0],
        picks=by_kind.get("pick", none)[0],
        units_restarted=by_kind.get("restart", none)[3],
    )
