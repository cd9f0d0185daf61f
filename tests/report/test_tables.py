"""Report tables on a synthetic log whose every figure is known (see builders.scenario)."""

from __future__ import annotations

import math
import random
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from oss.report import Filters, ReportError, build_report
from oss.report.learning import competence, fit_learning_curve, reached_at, units_to
from oss.report.queries import QUANTILES, quantile_sql
from oss.report.source import SqliteSource
from tests.report.builders import anna_durations

TZ = "Europe/Amsterdam"


def _rows(report, name: str, **match: object) -> list[dict]:
    return [d for d in report.table(name).as_dicts() if all(d[k] == v for k, v in match.items())]


@pytest.fixture(scope="module")
def report(scenario_logs: list[Path]):
    return build_report(scenario_logs, tz=TZ)


def test_summary_counts(report) -> None:
    s = report.table("summary").as_dict()
    assert s["units"] == 6 + 3 + 30
    assert s["steps_done"] == 6 * 3 + (2 * 3 + 2 + 3) + 30 * 3  # ben: 2 full, 1 with a skip, 1 unfinished
    assert s["steps_skipped"] == 1
    assert (s["errors"], s["errors_in_units"], s["help_requests"], s["pauses"]) == (1, 1, 1, 1)
    assert (s["stations"], s["operators"], s["sessions"]) == (2, 3, 3)
    assert s["paused_min"] == 1.0 and s["help_min"] == round(5 / 60, 3)
    assert s["first_unit"].startswith("2025-03-03 08:0")  # 07:0x UTC in Amsterdam


def test_units_per_day_and_hour_in_local_time(report) -> None:
    days = {d["date"]: d for d in report.table("units_per_day").as_dicts()}
    assert {k: v["units"] for k, v in days.items()} == {"2025-03-03": 6, "2025-03-04": 33}
    assert days["2025-03-03"]["first_time_right_pct"] == round(100 * 5 / 6, 3)
    assert days["2025-03-03"]["paused_min"] == 1.0 and days["2025-03-04"]["pauses"] == 0
    hours = {(d["date"], d["hour"]): d["units"] for d in report.table("units_per_hour").as_dicts()}
    assert hours == {("2025-03-03", 8): 6, ("2025-03-04", 14): 33}


def test_operator_pace_first_time_right_and_learning(report) -> None:
    (anna,) = _rows(report, "operators", operator="anna")
    totals = [sum(anna_durations(n)) for n in range(1, 7)]
    assert anna["units"] == 6
    assert anna["median_cycle_s"] == round(float(np.median(totals)), 3)
    assert anna["pace_pct"] == round(100 * 6 * 60 / sum(totals), 3)
    assert anna["first_time_right_pct"] == round(100 * 5 / 6, 3)
    assert anna["fitted_first_unit_s"] == 90.0 and anna["learning_rate_pct"] == 80.0
    # 90 · n^log2(0.8) <= 60  ⇔  n >= (2/3)^(1/log2 0.8) = 3.52
    assert anna["units_to_standard_fitted"] == 4
    # ratios 1.5 1.2 1.05 0.96 0.89 0.84: the median of units 2–6 is the first one under 1
    assert anna["reached_standard_at_unit"] == 6
    (cara,) = _rows(report, "operators", operator="cara")
    assert (cara["pace_pct"], cara["learning_rate_pct"], cara["units_to_standard_fitted"]) == (
        100.0,
        100.0,
        1,
    )
    (ben,) = _rows(report, "operators", operator="ben")
    assert ben["learning_rate_pct"] is None  # 3 units are too few to fit
    assert ben["pace_pct"] == round(100 * 150 / (56 + 56 + 39), 3)


def test_learning_curve_points(report) -> None:
    pts = _rows(report, "learning_curve", operator="anna")
    assert [(p["unit_from"], p["unit_to"]) for p in pts] == [(n, n) for n in range(1, 7)]
    for n, p in enumerate(pts, 1):
        assert p["median_cycle_s"] == pytest.approx(sum(anna_durations(n)), abs=1e-3)
        assert p["fitted_s"] == pytest.approx(sum(anna_durations(n)), abs=1e-3)
        assert p["standard_s"] == 60.0


def test_steps_compared_between_versions(report) -> None:
    s0 = {d["version"]: d for d in _rows(report, "steps", step="s0")}
    assert set(s0) == {"1", "2"}
    v1_durations = [anna_durations(n)[0] for n in range(1, 7)] + [10.0] * 30
    q = np.percentile(v1_durations, QUANTILES)
    assert [s0["1"][f"p{p}_s"] for p in QUANTILES] == [round(float(x), 3) for x in q]
    assert (s0["1"]["runs"], s0["1"]["help"], s0["1"]["expected_s"]) == (36, 1.0, 10.0)
    assert (s0["2"]["runs"], s0["2"]["p50_s"], s0["2"]["median_vs_expected_pct"]) == (4, 12.0, 120.0)
    (s1v1,) = _rows(report, "steps", step="s1", version="1")
    assert s1v1["errors"] == 1.0 and s1v1["errors_per_100"] == round(100 / 36, 3)
    (s2v2,) = _rows(report, "steps", step="s2", version="2")
    assert (s2v2["runs"], s2v2["skips"]) == (3, 1)  # the skipped run is not a duration
    versions = {d["version"]: d for d in report.table("versions").as_dicts()}
    assert (versions["1"]["units"], versions["2"]["units"]) == (36, 3)
    assert versions["2"]["standard_s"] == 50.0


def test_competence_levels(report) -> None:
    levels = {d["operator"]: (d["level"], d["level_name"]) for d in report.table("competence").as_dicts()}
    assert levels == {"anna": (1, "learning"), "ben": (1, "learning"), "cara": (3, "at standard")}


def test_time_lost(report) -> None:
    lost = {d["operator"]: d for d in report.table("time_lost").as_dicts()}
    assert (lost["anna"]["pauses"], lost["anna"]["paused_min"], lost["anna"]["help_requests"]) == (1, 1.0, 1)
    assert lost["anna"]["help_min"] == round(5 / 60, 3)
    assert lost["anna"]["lost_s_per_unit"] == round(65 / 6, 3)
    assert lost["cara"]["pauses"] == 0


def test_cycle_time_histogram_holds_every_unit(report) -> None:
    hist = report.table("cycle_time_histogram").as_dicts()
    assert sum(h["units"] for h in hist) == 39
    (at_60,) = [h for h in hist if h["from_s"] <= 60 and (h["to_s"] is None or h["to_s"] > 60)]
    assert at_60["units"] >= 30  # cara's 30 units of exactly 60 s
    assert hist[-1]["to_s"] is None  # the last bin is open-ended, so anna's 90 s unit is counted


def test_filters(scenario_logs: list[Path]) -> None:
    only_anna = build_report(scenario_logs, filters=Filters(operators=("anna",)), tz=TZ)
    assert only_anna.table("summary").as_dict()["units"] == 6
    st2 = build_report(scenario_logs[1:], filters=Filters(since_utc="2025-03-04T00:00:00.000+00:00"), tz=TZ)
    assert st2.table("summary").as_dict()["units"] == 33
    before = build_report(scenario_logs, filters=Filters(until_utc="2025-03-04T00:00:00.000+00:00"), tz=TZ)
    assert before.table("summary").as_dict()["units"] == 6
    v2 = build_report(scenario_logs, filters=Filters(stations=("st2",), operators=("ben",)), tz=TZ)
    assert {d["version"] for d in v2.table("versions").as_dicts()} == {"2"}
    none = build_report(scenario_logs, filters=Filters(products=("other",)), tz=TZ)
    assert none.table("summary").as_dict()["units"] == 0 and not none.table("operators").rows


def test_one_file_and_merged_files_agree(scenario_logs: list[Path], report) -> None:
    alone = build_report(scenario_logs[:1], tz=TZ)
    merged_anna = _rows(report, "operators", operator="anna")
    assert _rows(alone, "operators", operator="anna") == merged_anna
    twice = build_report([*scenario_logs, scenario_logs[0]], tz=TZ)  # the same file twice: no doubles
    assert twice.table("summary").as_dict()["units"] == 39


def test_a_copy_of_a_log_is_refused(scenario_logs: list[Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy.sqlite"
    shutil.copy(scenario_logs[0], copy)
    with pytest.raises(ReportError, match="same sessions"):
        build_report([*scenario_logs, copy])


def test_progress_is_reported(scenario_logs: list[Path]) -> None:
    said: list[str] = []
    build_report(scenario_logs, progress=said.append)
    assert any(s.startswith("reading st2.sqlite (2/2)") for s in said) and said[-1].startswith("done")


@pytest.mark.parametrize("n", [1, 2, 3, 7, 100])
def test_quantiles_in_sql_match_numpy(n: int) -> None:
    rng = random.Random(n)
    values = [(g, rng.uniform(0, 100)) for g in ("a", "b") for _ in range(n)]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (g TEXT, v REAL)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", values)
    got = {r[0]: r[1:] for r in conn.execute(quantile_sql("t", ("g",), "v"))}
    for g in ("a", "b"):
        want = np.percentile([v for k, v in values if k == g], QUANTILES)
        assert got[g][0] == n
        assert np.allclose(got[g][1:], want, rtol=0, atol=1e-9)


def test_learning_functions() -> None:
    n = np.arange(1, 41)
    fit = fit_learning_curve(n, 100 * n ** math.log2(0.9), 50.0)
    assert fit is not None and fit.rate == pytest.approx(0.9) and fit.t1_s == pytest.approx(100)
    assert fit.units_to_standard == math.ceil(0.5 ** (1 / math.log2(0.9)))
    assert fit_learning_curve(n[:4], n[:4] * 1.0, 1.0) is None
    assert (
        units_to(100, 0.1, 50) is None and units_to(40, -0.2, 50) == 1 and units_to(100, -0.2, None) is None
    )
    assert reached_at(np.array([3.0, 3, 3, 1, 1, 1, 1]), np.full(7, 2.0)) == 6
    assert reached_at(np.array([3.0] * 9), np.full(9, 2.0)) is None
    assert competence(0, None, None) is None
    assert competence(200, 1.0, None).name == "expert"  # no expected times: pace is not judged
    assert competence(200, 0.9, 1.2).name == "independent"


def test_errors_a_person_can_act_on(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no event log at"):
        build_report([tmp_path / "missing.sqlite"])
    bad = tmp_path / "bad.sqlite"
    sqlite3.connect(bad).execute("CREATE TABLE x (a)").close()
    with pytest.raises(ReportError, match="not an OSS event log"):
        SqliteSource([bad], Filters())
    with pytest.raises(ReportError, match="no event log given"):
        build_report([])
    with pytest.raises(ReportError, match="time zone"):
        build_report([bad], tz="Mars/Olympus")
