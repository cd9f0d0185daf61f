"""``oss report`` against the fleet store gives the report of the union of the stations' files."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from oss.log.fleet import FleetForwarder
from oss.report import Filters, build_report, render_html
from oss.report.model import Report
from tests.report.builders import scenario

pytestmark = pytest.mark.postgres


def _same(a: Report, b: Report) -> None:
    assert list(a.tables) == list(b.tables)
    for name, ta in a.tables.items():
        tb = b.tables[name]
        assert ta.columns == tb.columns, name
        assert len(ta.rows) == len(tb.rows), name
        for ra, rb in zip(ta.rows, tb.rows, strict=True):
            for va, vb in zip(ra, rb, strict=True):
                if isinstance(va, float) or isinstance(vb, float):
                    assert math.isclose(float(va), float(vb), abs_tol=1.5e-3), (name, ra, rb)  # type: ignore[arg-type]
                else:
                    assert va == vb, (name, ra, rb)


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(operators=("anna", "cara")),
        Filters(since_utc="2025-03-04T13:10:00.000+00:00"),
        Filters(stations=("st2",), products=("widget",)),
    ],
    ids=["all", "operators", "since", "station"],
)
def test_postgres_report_equals_union_of_files(tmp_path: Path, fleet_db: str, filters: Filters) -> None:
    paths = scenario(tmp_path)
    for p in paths:
        fwd = FleetForwarder(p, fleet_db)
        assert fwd.forward_once() > 0
        fwd.close()
    from_files = build_report(paths, filters=filters, tz="Europe/Amsterdam")
    from_pg = build_report(dsn=fleet_db, filters=filters, tz="Europe/Amsterdam")
    assert from_pg.table("summary").as_dict()["units"] == from_files.table("summary").as_dict()["units"] > 0
    _same(from_files, from_pg)
    assert "oss_test_" in render_html(from_pg)  # the source is named (password-free)
