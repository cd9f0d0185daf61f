"""``oss doctor``: checks a station at the bench and says, for each problem, how to fix it.

    results = run_checks(DoctorConfig(Path("station.yaml")))[1]
    print(table("oss doctor", results))

One :class:`CheckResult` per line: ok, warn, FAIL or skipped, with what was found and what to do.
"""

from oss.doctor.checks import DoctorConfig, default_station, run_checks
from oss.doctor.result import CheckResult, Status, as_json, failed, table

__all__ = [
    "CheckResult",
    "DoctorConfig",
    "Status",
    "as_json",
    "default_station",
    "failed",
    "run_checks",
    "table",
]
