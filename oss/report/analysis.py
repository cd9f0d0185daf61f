"""The report's tables, from the per-unit rows and per-step aggregates the database computed.

Definitions (docs/reports.md explains them for supervisors):
    cycle time        seconds from a unit's first step start to its last step end, pauses left out;
    standard time     sum of the expected_s of the unit's steps (unknown when a step has none);
    pace              standard time / cycle time over the units with a standard (100 % = at standard,
                      more is faster);
    first-time-right  share of units without an error event (a wrong pick, ...).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from oss.report import learning
from oss.report.model import Table, make_table
from oss.report.queries import QUANTILES, UNIT_COLUMNS, Counts

Row = tuple[Any, ...]
_HIST_BINS = 24


@dataclass(frozen=True, eq=False)
class Units:
    """The completed units as columns (numpy arrays), in the order of ``queries.units``."""

    rows: list[Row]
    station: list[str]
    operator: list[str]
    product: list[str]
    version: list[str]
    variant: list[str]
    local: list[str]  # local time "YYYY-MM-DD HH:MM"
    duration: np.ndarray
    paused: np.ndarray
    errors: np.ndarray
    help: np.ndarray
    expected: np.ndarray  # nan where unknown
    unit_no: np.ndarray

    @classmethod
    def from_rows(cls, rows: list[Row], tz: ZoneInfo) -> Units:
        col = {c: i for i, c in enumerate(UNIT_COLUMNS)}

        def s(name: str) -> list[str]:
            return [str(r[col[name]]) for r in rows]

        def f(name: str) -> np.ndarray:
            return np.array(
                [np.nan if r[col[name]] is None else float(r[col[name]]) for r in rows], dtype=float
            )

        minutes = {str(r[col["utc"]])[:16] for r in rows}
        local = {m: local_minute(m, tz) for m in minutes}
        return cls(
            rows=rows,
            station=s("station"),
            operator=s("operator"),
            product=s("product_id"),
            version=s("version"),
            variant=s("variant"),
            local=[local[str(r[col["utc"]])[:16]] for r in rows],
            duration=f("duration_s"),
            paused=f("paused_s"),
            errors=f("errors"),
            help=f("help"),
            expected=f("expected_s"),
            unit_no=np.array([int(r[col["unit_no"]]) for r in rows], dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.rows)

    def group(self, *names: str) -> dict[tuple[str, ...], np.ndarray]:
        cols = [getattr(self, n) for n in names]
        return group_index(list(zip(*cols, strict=True)) if cols else [])

    def pace(self, idx: np.ndarray) -> float | None:
        """Standard time / cycle time over the units in ``idx`` that have a standard."""
        e, d = self.expected[idx], self.duration[idx]
        m = ~np.isnan(e) & (e > 0)
        return float(e[m].sum() / d[m].sum()) if m.any() and d[m].sum() > 0 else None

    def ftr(self, idx: np.ndarray) -> float | None:
        return float(np.mean(self.errors[idx] == 0)) if len(idx) else None

    def standard(self, idx: np.ndarray) -> float | None:
        e = self.expected[idx]
        e = e[~np.isnan(e)]
        return float(np.median(e)) if e.size else None


def local_minute(utc_minute: str, tz: ZoneInfo) -> str:
    """``YYYY-MM-DDTHH:MM`` in UTC → ``YYYY-MM-DD HH:MM`` in ``tz``."""
    dt = datetime.fromisoformat(utc_minute + ":00+00:00").astimezone(tz)
    return dt.strftime("%Y-%m-%d %H:%M")


def group_index(keys: Sequence[Hashable]) -> dict[Any, np.ndarray]:
    out: dict[Any, list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        out[k].append(i)
    return {k: np.array(v, dtype=np.int64) for k, v in sorted(out.items())}


def pct(x: float | None) -> float | None:
    return None if x is None else 100.0 * x


def median(a: np.ndarray) -> float | None:
    a = a[~np.isnan(a)]
    return float(np.median(a)) if a.size else None


# ---------------------------------------------------------------------------------------------------


def all_tables(
    u: Units, steps: list[Row], helps: list[Row], pauses: list[Row], counts: Counts, tz: ZoneInfo
) -> list[Table]:
    help_local = [(local_minute(str(h[0])[:16], tz), *h[1:]) for h in helps]
    pause_local = [(local_minute(str(p[0])[:16], tz), *p[1:]) for p in pauses]
    return [
        summary(u, counts, help_local, pause_local),
        per_day(u, help_local, pause_local),
        *per_hour(u),
        cycle_times(u),
        histogram(u),
        time_lost(u, help_local, pause_local),
        step_table(steps),
        versions(u),
        *operators(u),
        competence(u),
        unit_table(u),
    ]


def summary(u: Units, c: Counts, helps: list[Row], pauses: list[Row]) -> Table:
    idx = np.arange(len(u))
    help_s = sum(h[6] or 0.0 for h in helps)
    rows: list[tuple[str, Any]] = [
        ("first_unit", min(u.local) if len(u) else None),
        ("last_unit", max(u.local) if len(u) else None),
        ("stations", len(set(u.station))),
        ("operators", len(set(u.operator))),
        ("products", len(set(u.product))),
        ("events", c.events),
        ("sessions", c.sessions),
        ("units", c.units),
        ("steps_done", c.steps_done),
        ("steps_skipped", c.steps_skipped),
        ("steps_back", c.steps_back),
        ("units_restarted", c.units_restarted),
        ("errors", c.errors),
        ("errors_in_units", int(u.errors.sum()) if len(u) else 0),
        ("help_requests", c.help_requests),
        ("pauses", c.pauses),
        ("picks", c.picks),
        ("median_cycle_s", median(u.duration)),
        ("first_time_right_pct", pct(u.ftr(idx))),
        ("pace_pct", pct(u.pace(idx))),
        ("paused_min", sum(p[5] for p in pauses) / 60.0),
        ("help_min", help_s / 60.0),
    ]
    return make_table("summary", "Summary", ("item", "value"), rows)


def per_day(u: Units, helps: list[Row], pauses: list[Row]) -> Table:
    by_day = group_index([s[:10] for s in u.local])
    p_day: dict[str, list[float]] = defaultdict(list)
    for p in pauses:
        p_day[p[0][:10]].append(float(p[5]))
    h_day: dict[str, list[float]] = defaultdict(list)
    for h in helps:
        h_day[h[0][:10]].append(float(h[6] or 0.0))
    rows = []
    for day in sorted(set(by_day) | set(p_day) | set(h_day)):
        idx = by_day.get(day, np.zeros(0, dtype=np.int64))
        rows.append(
            (
                day,
                len(idx),
                len({u.station[i] for i in idx}),
                len({u.operator[i] for i in idx}),
                median(u.duration[idx]),
                pct(u.ftr(idx)),
                pct(u.pace(idx)),
                len(p_day[day]),
                sum(p_day[day]) / 60.0,
                len(h_day[day]),
                sum(h_day[day]) / 60.0,
            )
        )
    cols = (
        "date",
        "units",
        "stations",
        "operators",
        "median_cycle_s",
        "first_time_right_pct",
        "pace_pct",
        "pauses",
        "paused_min",
        "help_requests",
        "help_min",
    )
    return make_table("units_per_day", "Units per day", cols, rows)


def per_hour(u: Units) -> list[Table]:
    by_hour = group_index([s[:13] for s in u.local])
    detail = make_table(
        "units_per_hour",
        "Units per hour",
        ("date", "hour", "units"),
        [(k[:10], int(k[11:13]), len(v)) for k, v in by_hour.items()],
    )
    prof: dict[int, list[int]] = defaultdict(list)
    for k, v in by_hour.items():
        prof[int(k[11:13])].append(len(v))
    profile = make_table(
        "hour_profile",
        "Units per hour of the day (hours with work)",
        ("hour", "units", "active_hours", "units_per_active_hour"),
        [(h, sum(n), len(n), sum(n) / len(n)) for h, n in sorted(prof.items())],
    )
    return [detail, profile]


def _quantiles(a: np.ndarray) -> list[float | None]:
    a = a[~np.isnan(a)]
    if not a.size:
        return [None] * len(QUANTILES)
    return [float(x) for x in np.percentile(a, QUANTILES)]


def cycle_times(u: Units) -> Table:
    rows = []
    for (prod, var, ver), idx in u.group("product", "variant", "version").items():
        d = u.duration[idx]
        rows.append(
            (prod, var, ver, len(idx), *_quantiles(d), float(d.mean()), u.standard(idx), pct(u.pace(idx)))
        )
    cols = (
        "product",
        "variant",
        "version",
        "units",
        *(f"p{q}_s" for q in QUANTILES),
        "mean_s",
        "standard_s",
        "pace_pct",
    )
    return make_table("cycle_times", "Cycle time distribution", cols, rows)


def nice_width(span: float, bins: int) -> float:
    raw = max(span, 1.0) / bins
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def histogram(u: Units) -> Table:
    rows = []
    for (prod, var), idx in u.group("product", "variant").items():
        d = u.duration[idx]
        hi = float(np.percentile(d, 99))
        w = nice_width(hi - float(d.min()), _HIST_BINS)
        start = math.floor(float(d.min()) / w)
        top = max(start, math.floor(hi / w))
        k = np.clip(np.floor(d / w).astype(np.int64) - start, 0, top - start)
        counts = np.bincount(k, minlength=top - start + 1)
        for i, n in enumerate(counts):
            last = i == len(counts) - 1 and d.max() >= (start + i + 1) * w
            rows.append((prod, var, (start + i) * w, None if last else (start + i + 1) * w, int(n)))
    return make_table(
        "cycle_time_histogram",
        "Cycle time histogram",
        ("product", "variant", "from_s", "to_s", "units"),
        rows,
        note="to_s empty: this bin holds everything from from_s up",
    )


def time_lost(u: Units, helps: list[Row], pauses: list[Row]) -> Table:
    agg: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0, 0.0, 0])
    for p in pauses:
        a = agg[(p[1], p[2])]
        a[0] += 1
        a[1] += float(p[5]) / 60.0
    for h in helps:
        a = agg[(h[1], h[2])]
        a[2] += 1
        a[3] += float(h[6] or 0.0) / 60.0
    for key, idx in u.group("station", "operator").items():
        agg[(key[0], key[1])][4] = len(idx)
    rows = [
        (st, op, *a, (a[1] + a[3]) / a[4] * 60.0 if a[4] else None) for (st, op), a in sorted(agg.items())
    ]
    cols = (
        "station",
        "operator",
        "pauses",
        "paused_min",
        "help_requests",
        "help_min",
        "units",
        "lost_s_per_unit",
    )
    return make_table("time_lost", "Time lost to pauses and help requests", cols, rows)


def step_table(steps: list[Row]) -> Table:
    rows = []
    for prod, var, uid, ver, idx, exp, done, *q, errors, helps, skips, backs in steps:
        med = q[QUANTILES.index(50)]
        ratio = 100.0 * med / exp if med is not None and exp else None

        def per(x: float, runs: float = float(done or 0)) -> float | None:
            return 100.0 * float(x) / runs if runs else None

        rows.append(
            (
                prod,
                var,
                uid,
                ver,
                idx,
                int(done or 0),
                exp,
                *q,
                ratio,
                errors,
                per(errors),
                helps,
                per(helps),
                skips,
                backs,
            )
        )
    cols = (
        "product",
        "variant",
        "step",
        "version",
        "index",
        "runs",
        "expected_s",
        *(f"p{p}_s" for p in QUANTILES),
        "median_vs_expected_pct",
        "errors",
        "errors_per_100",
        "help",
        "help_per_100",
        "skips",
        "backs",
    )
    return make_table(
        "steps",
        "Steps: duration against expected, errors and help, per instruction version",
        cols,
        rows,
        note="durations of the runs completed normally, pauses left out; per_100 = per 100 runs",
    )


def versions(u: Units) -> Table:
    rows = []
    for (prod, var, ver), idx in u.group("product", "variant", "version").items():
        days = sorted(u.local[i][:10] for i in idx)
        rows.append(
            (
                prod,
                var,
                ver,
                len(idx),
                days[0],
                days[-1],
                median(u.duration[idx]),
                u.standard(idx),
                pct(u.pace(idx)),
                pct(u.ftr(idx)),
                float(u.errors[idx].mean()),
                float(u.help[idx].mean()),
            )
        )
    cols = (
        "product",
        "variant",
        "version",
        "units",
        "first_date",
        "last_date",
        "median_cycle_s",
        "standard_s",
        "pace_pct",
        "first_time_right_pct",
        "errors_per_unit",
        "help_per_unit",
    )
    return make_table("versions", "Instruction versions compared", cols, rows)


def operators(u: Units) -> list[Table]:
    rows, curve = [], []
    for (op, prod, var), idx in u.group("operator", "product", "variant").items():
        idx = idx[np.argsort(u.unit_no[idx], kind="stable")]
        n, d, e = u.unit_no[idx], u.duration[idx], u.expected[idx]
        std = u.standard(idx)
        fit = learning.fit_learning_curve(n, d, std)
        recent = idx[-learning.RECENT_UNITS :]
        days = sorted(u.local[i][:10] for i in idx)
        rows.append(
            (
                op,
                prod,
                var,
                len(idx),
                days[0],
                days[-1],
                median(d),
                std,
                pct(u.pace(idx)),
                pct(u.ftr(idx)),
                pct(u.pace(recent)),
                pct(u.ftr(recent)),
                fit.t1_s if fit else None,
                pct(fit.rate) if fit else None,
                fit.units_to_standard if fit else None,
                learning.reached_at(d, e),
            )
        )
        for lo, hi in learning.curve_bins(int(n.max())):
            sel = (n >= lo) & (n <= hi)
            if sel.any():
                mid = math.sqrt(lo * hi)
                fitted = fit.t1_s * mid**fit.b if fit else None
                curve.append((op, prod, var, lo, hi, median(d[sel]), fitted, std))
    cols = (
        "operator",
        "product",
        "variant",
        "units",
        "first_date",
        "last_date",
        "median_cycle_s",
        "standard_s",
        "pace_pct",
        "first_time_right_pct",
        "recent_pace_pct",
        "recent_first_time_right_pct",
        "fitted_first_unit_s",
        "learning_rate_pct",
        "units_to_standard_fitted",
        "reached_standard_at_unit",
    )
    note = (
        f"recent = the last {learning.RECENT_UNITS} units; learning rate = 2^b of T_n = T_1·n^b "
        f"(fitted from {learning.MIN_FIT_UNITS} units on); reached = the median of {learning.ROLLING} "
        "units in a row at or under the standard time"
    )
    return [
        make_table("operators", "Operators: pace, first-time-right and learning", cols, rows, note=note),
        make_table(
            "learning_curve",
            "Learning curves (median cycle time per range of unit numbers)",
            (
                "operator",
                "product",
                "variant",
                "unit_from",
                "unit_to",
                "median_cycle_s",
                "fitted_s",
                "standard_s",
            ),
            curve,
        ),
    ]


def competence(u: Units) -> Table:
    rows = []
    for (op, prod, var), idx in u.group("operator", "product", "variant").items():
        idx = idx[np.argsort(u.unit_no[idx], kind="stable")]
        recent = idx[-learning.RECENT_UNITS :]
        ftr, pace = u.ftr(recent), u.pace(recent)
        lv = learning.competence(len(idx), ftr, pace)
        rows.append(
            (op, prod, var, len(idx), pct(ftr), pct(pace), lv.rank if lv else 0, lv.name if lv else "")
        )
    cols = (
        "operator",
        "product",
        "variant",
        "units",
        "recent_first_time_right_pct",
        "recent_pace_pct",
        "level",
        "level_name",
    )
    return make_table(
        "competence",
        "Competence matrix",
        cols,
        rows,
        note=f"judged on the last {learning.RECENT_UNITS} units; levels in docs/reports.md",
    )


def unit_table(u: Units) -> Table:
    cols = ("local_time", *UNIT_COLUMNS)
    return make_table("units", "Units", cols, [(loc, *r) for loc, r in zip(u.local, u.rows, strict=True)])
