"""Building a report: SQL aggregates (``queries``) turned into tables (``analysis``).

report = build_report(["out/st1.sqlite"], filters=Filters(operators=("anna",)), tz="Europe/Amsterdam")
report.table("summary").as_dict()          # {"units": 42, "steps_done": 504, "errors": 3, ...}
report.table("steps").as_dicts()           # one dict per step and instruction version
report.write_csv("out/report")             # one CSV per table
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from oss.report import analysis, queries
from oss.report.model import Report, zone
from oss.report.source import Filters, Progress, Source, no_progress, open_source


def build_report(
    paths: Sequence[str | Path] = (),
    dsn: str | None = None,
    filters: Filters | None = None,
    tz: str = "UTC",
    progress: Progress = no_progress,
) -> Report:
    """The report of station log files ``paths`` or of the fleet store at ``dsn`` (one of the two)."""
    filters = filters or Filters()
    zone(tz)
    t0 = time.perf_counter()
    progress("opening the event log")
    with open_source(paths, dsn, filters) as src:
        report = report_from_source(src, filters, tz, progress)
    return Report(
        report.tables,
        report.source,
        filters,
        tz,
        report.generated_utc,
        time.perf_counter() - t0,
        report.notes,
    )


def report_from_source(
    src: Source, filters: Filters, tz: str = "UTC", progress: Progress = no_progress
) -> Report:
    """The report's tables from an open source (see :func:`build_report`)."""
    t0 = time.perf_counter()
    step = _stepper(progress, t0)
    step("reducing events to units and steps")
    queries.prepare(src, filters, step)
    step("reading units")
    units = analysis.Units.from_rows(queries.units(src), zone(tz))
    step("step statistics")
    steps = queries.step_groups(src)
    step("help requests and pauses")
    helps = queries.help_requests(src)
    pauses = queries.pauses(src)
    counts = queries.counts(src)
    step("building tables")
    tables = analysis.all_tables(units, steps, helps, pauses, counts, zone(tz))
    step("done")
    return Report(
        {t.name: t for t in tables},
        src.label,
        filters,
        tz,
        datetime.now(UTC).isoformat(timespec="seconds"),
        time.perf_counter() - t0,
        src.notes,
    )


def _stepper(progress: Progress, t0: float) -> Progress:
    def step(msg: str) -> None:
        progress(f"{msg} ({time.perf_counter() - t0:.1f} s)")

    return step
