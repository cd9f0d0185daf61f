"""The report as data: named tables of plain values, written as CSV and drawn as HTML.

    report = build_report(["out/st1.sqlite"], filters=Filters(operators=("anna",)), tz="Europe/Amsterdam")
    report.table("summary").as_dict()          # {"units": 42, "steps_done": 504, "errors": 3, ...}
    report.table("steps").as_dicts()           # one dict per step and instruction version
    report.write_csv("out/report")             # one CSV per table

Every table is computed from the SQL aggregates of ``oss.report.queries``; see docs/reports.md for what
each column means.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from oss.report.source import Filters, ReportError

Value = str | int | float | bool | None


@dataclass(frozen=True)
class Table:
    """One table of the report: ``rows`` hold plain values in ``columns`` order."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]
    note: str = ""

    def as_dicts(self) -> list[dict[str, Value]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]

    def as_dict(self) -> dict[str, Value]:
        """A two-column (key, value) table as one dict."""
        return {str(r[0]): r[1] for r in self.rows}

    def column(self, name: str) -> list[Value]:
        i = self.columns.index(name)
        return [r[i] for r in self.rows]

    def write_csv(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(self.columns)
            w.writerows(["" if v is None else v for v in r] for r in self.rows)


@dataclass(frozen=True)
class Report:
    """All tables of one report, and what it covers."""

    tables: Mapping[str, Table]
    source: str
    filters: Filters
    tz: str
    generated_utc: str
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"no table {name!r}; the report has {', '.join(self.tables)}") from None

    def write_csv(self, folder: str | Path) -> list[Path]:
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for t in self.tables.values():
            p = out / f"{t.name}.csv"
            t.write_csv(p)
            paths.append(p)
        return paths


_PLAIN = (str, int, bool, type(None))


def make_table(
    name: str, title: str, columns: Sequence[str], rows: Iterable[Sequence[object]], note: str = ""
) -> Table:
    """A table with plain values: floats rounded to 3 decimals, NaN as None, numpy/Decimal converted."""
    return Table(
        name,
        title,
        tuple(columns),
        tuple(tuple(_clean(v) for v in r) for r in rows),
        note,
    )


def _clean(v: object) -> Value:
    if type(v) in _PLAIN:
        return v  # type: ignore[return-value]  # str, int, bool or None
    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return None if v != v else round(v, 3)
    try:
        f = float(v)  # type: ignore[arg-type]  # numpy scalars, Decimal
    except (TypeError, ValueError):
        return str(v)
    return int(f) if f.is_integer() and "int" in type(v).__name__ else (None if f != f else round(f, 3))


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(f"unknown time zone {tz!r}: use a name like Europe/Amsterdam or UTC") from None
