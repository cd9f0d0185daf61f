"""The written report: one self-contained HTML file, CSVs of the same tables, skills records, the CLI."""

from __future__ import annotations

import argparse
import csv
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from oss.report import build_report, write_report
from oss.report_cli import add_commands


@pytest.fixture(scope="module")
def written(scenario_logs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    report = build_report(scenario_logs, tz="Europe/Amsterdam")
    out = tmp_path_factory.mktemp("report")
    write_report(report, out)
    return report, out


def test_html_is_self_contained_and_well_formed(written) -> None:
    _, out = written
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"<script|<link|<img|<iframe|src=|url\(|@import", html, re.IGNORECASE)
    svgs = re.findall(r"<svg.*?</svg>", html, re.DOTALL)
    assert len(svgs) >= 6  # per day, per hour, histogram, step boxes, learning curves
    for s in svgs:
        ET.fromstring(s)  # each plot is well-formed XML
    for heading in ("Output", "Cycle time", "Steps", "Operators", "Learning curves", "Competence matrix"):
        assert f">{heading}<" in html
    assert "@media print" in html
    assert "3 at standard" in html  # cara's cell in the matrix


def test_csv_holds_the_same_tables(written) -> None:
    report, out = written
    for t in report.tables.values():
        with (out / f"{t.name}.csv").open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        assert tuple(rows[0]) == t.columns
        assert len(rows) - 1 == len(t.rows)
    with (out / "operators.csv").open(newline="", encoding="utf-8") as f:
        anna = next(r for r in csv.DictReader(f) if r["operator"] == "anna")
    assert float(anna["learning_rate_pct"]) == 80.0


def test_skills_record_per_operator(written) -> None:
    _, out = written
    pages = sorted(p.name for p in (out / "skills").iterdir())
    assert pages == ["anna.html", "ben.html", "cara.html"]
    cara = (out / "skills" / "cara.html").read_text(encoding="utf-8")
    assert "Skills record: cara" in cara and "at standard" in cara and "http" not in cara


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="oss")
    sub = parser.add_subparsers(dest="command")
    commands: dict = {}
    add_commands(sub, commands)
    args = parser.parse_args(argv)
    return commands[args.command](args)


def test_cli_report_with_filters(
    scenario_logs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "r"
    argv = [
        "report",
        *map(str, scenario_logs),
        "--out",
        str(out),
        "--tz",
        "Europe/Amsterdam",
        "--since",
        "2025-03-04",
        "--until",
        "2025-03-04",
        "--operator",
        "cara",
    ]
    assert _cli(argv) == 0
    said = capsys.readouterr()
    assert "30 units" in said.out and "oss report:" in said.err  # result on stdout, progress on stderr
    with (out / "summary.csv").open(newline="", encoding="utf-8") as f:
        summary = {r["item"]: r["value"] for r in csv.DictReader(f)}
    assert summary["units"] == "30" and summary["operators"] == "1"
    assert (
        _cli(
            [
                "report",
                *map(str, scenario_logs),
                "--out",
                str(tmp_path / "q"),
                "--until",
                "2025-03-03",
                "--tz",
                "UTC",
                "-q",
                "--no-skills",
            ]
        )
        == 0
    )
    assert not (tmp_path / "q" / "skills").exists()
    assert "6 units" in capsys.readouterr().out
