"""The record of one check and how a list of them is shown: a table for people, JSON for programs."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

DataValue = str | int | float | bool | None


class Status(Enum):
    OK = "ok"
    WARN = "warn"  # works, but something should be looked at
    FAIL = "FAIL"  # the station will not work (or not as set up) until this is fixed
    SKIPPED = "skipped"  # does not apply to this station; ``detail`` says why


@dataclass(frozen=True)
class CheckResult:
    """One line of the report. ``fix`` says what to do (for warn and FAIL; for skipped, how to turn
    the check on where that makes sense); ``data`` holds the measured values for ``--json``."""

    check: str
    status: Status
    detail: str
    fix: str = ""
    data: tuple[tuple[str, DataValue], ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "check": self.check,
            "status": self.status.value,
            "detail": self.detail,
            "fix": self.fix,
            "data": dict(self.data),
        }


def ok(check: str, detail: str, **data: DataValue) -> CheckResult:
    return CheckResult(check, Status.OK, detail, "", tuple(data.items()))


def warn(check: str, detail: str, fix: str, **data: DataValue) -> CheckResult:
    return CheckResult(check, Status.WARN, detail, fix, tuple(data.items()))


def fail(check: str, detail: str, fix: str, **data: DataValue) -> CheckResult:
    return CheckResult(check, Status.FAIL, detail, fix, tuple(data.items()))


def skipped(check: str, why: str, fix: str = "", **data: DataValue) -> CheckResult:
    return CheckResult(check, Status.SKIPPED, why, fix, tuple(data.items()))


def failed(results: Sequence[CheckResult]) -> bool:
    return any(r.status is Status.FAIL for r in results)


def counts(results: Sequence[CheckResult]) -> dict[str, int]:
    return {s.value: sum(1 for r in results if r.status is s) for s in Status}


STATUS_W = 8
CHECK_W = 20
WIDTH = 110


def table(title: str, results: Sequence[CheckResult]) -> str:
    """One line per check (status, check, what was found), a ``how to fix:`` line under each problem."""
    lines = [title]
    indent = " " * (2 + STATUS_W + CHECK_W)
    for r in results:
        head = f"  {r.status.value:<{STATUS_W}}{r.check:<{CHECK_W}}"
        if len(r.check) >= CHECK_W:
            head = f"  {r.status.value:<{STATUS_W}}{r.check} "
        lines += textwrap.wrap(
            r.detail,
            WIDTH,
            initial_indent=head,
            subsequent_indent=indent,
            break_on_hyphens=False,
            break_long_words=False,
        ) or [head.rstrip()]
        if r.fix:
            label = "how to fix: " if r.status in (Status.WARN, Status.FAIL) else "to turn it on: "
            lines += textwrap.wrap(
                label + r.fix,
                WIDTH,
                initial_indent=indent,
                subsequent_indent=indent + "  ",
                break_on_hyphens=False,
                break_long_words=False,
            )
    n = counts(results)
    lines.append("")
    lines.append(", ".join(f"{n[s.value]} {s.value}" for s in Status))
    lines.append("the station is not ready: fix the FAIL lines first" if failed(results) else "nothing FAILs")
    return "\n".join(lines)


def as_json(station: str, source: str, results: Sequence[CheckResult]) -> str:
    doc = {
        "station": station,
        "station_file": source,
        "ok": not failed(results),
        "counts": counts(results),
        "checks": [r.to_json() for r in results],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)
