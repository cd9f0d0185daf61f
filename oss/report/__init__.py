"""Supervisor reports from the event log (station SQLite files or the fleet's PostgreSQL store).

from oss.report import Filters, build_report, write_report
report = build_report(["out/st1.sqlite", "out/st2.sqlite"], filters=Filters(products=("led",)))
report.table("summary").as_dict()   # units, steps_done, errors, help_requests, ...
write_report(report, "out/report")  # report.html, one CSV per table, skills/<operator>.html
"""

from pathlib import Path

from oss.report.build import build_report, report_from_source
from oss.report.html import render_html, skills_html, write_html
from oss.report.model import Report, Table
from oss.report.source import Filters, ReportError, open_source


def write_report(report: Report, folder: str | Path, skills: bool = True) -> list[Path]:
    """Write ``report.html``, ``<table>.csv`` for every table and the operators' skills records."""
    return write_html(report, folder, skills) + report.write_csv(folder)


__all__ = [
    "Filters",
    "Report",
    "ReportError",
    "Table",
    "build_report",
    "open_source",
    "render_html",
    "report_from_source",
    "skills_html",
    "write_report",
]
