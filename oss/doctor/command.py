"""The ``oss doctor`` command: run every check, print the table (or JSON); exit 1 when one FAILs.

oss doctor                                   the defaults (the virtual bench, no station file)
oss doctor --station stations/line1-st3.yaml
oss doctor --station FILE --json             machine-readable results
oss doctor --station FILE --port /dev/pts/7  also search this port for devices named by serial number
python -m oss.doctor ...                     the same, where 'oss' itself does not start (a package
                                             the other commands import is missing or broken)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

Command = Callable[[argparse.Namespace], int]
HELP = "check the station (camera, projector, calibration, devices, log, ...) and say how to fix problems"


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--station", metavar="FILE", help="station configuration file (default: oss run's defaults)"
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="PORT",
        help="also search this serial port for devices named by serial_number (one a port list does not show)",
    )


def add_commands(subparsers: argparse._SubParsersAction, commands: dict[str, Command]) -> None:  # type: ignore[type-arg]
    _arguments(subparsers.add_parser("doctor", help=HELP))
    commands["doctor"] = run


def run(args: argparse.Namespace) -> int:
    from oss.doctor.checks import DoctorConfig, run_checks, title
    from oss.doctor.result import as_json, failed, table

    config = DoctorConfig(Path(args.station) if args.station else None, tuple(args.port))
    cfg, results = run_checks(config)
    if args.json:
        sid = cfg.station_id if cfg is not None else ""
        print(as_json(sid, str(config.station or ""), results))
    else:
        print(table(title(config, cfg), results))
    sys.stdout.flush()
    return 1 if failed(results) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m oss.doctor``: the doctor without the ``oss`` command's other subcommands."""
    parser = argparse.ArgumentParser(prog="python -m oss.doctor", description=HELP)
    _arguments(parser)
    return run(parser.parse_args(argv))
