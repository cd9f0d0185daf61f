"""The ``oss`` command. Each subcommand lives in its own module; this file only dispatches."""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Callable, Sequence

from oss.records import OssError

Command = Callable[[argparse.Namespace], int]


def _validate(args: argparse.Namespace) -> int:
    from oss.instructions import parse_instruction
    from oss.perception.taught import teach_problems

    failed = False
    for path in args.files:
        parsed = parse_instruction(path)
        problems = parsed.problems
        for p in problems:
            print(p, file=sys.stdout)
        taught = teach_problems(parsed.instruction) if parsed.instruction is not None else []
        for line in taught:  # the taught looks beside it, which the station would ignore
            print(line, file=sys.stdout)
        errors = sum(1 for p in problems if p.severity == "error")
        warnings = len(problems) - errors + len(taught)
        if errors or (args.strict and warnings):
            failed = True
        if not args.quiet:
            verdict = "ok" if not errors and not (args.strict and warnings) else "FAILED"
            print(
                f"{path}: {verdict} ({errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)})",
                file=sys.stderr,
            )
    return 1 if failed else 0


def _schema(args: argparse.Namespace) -> int:
    import json

    from oss.instructions.schema import instruction_schema

    print(json.dumps(instruction_schema(), indent=2, ensure_ascii=False))
    return 0


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    from oss.package_data import package_version

    parser = argparse.ArgumentParser(prog="oss", description="OSS operator support system")
    parser.add_argument(
        "--version",
        action="version",
        version=f"oss {package_version()} (Python {platform.python_version()})",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands: dict[str, Command] = {}

    p = sub.add_parser(
        "validate", help="check instruction files; print FILE:LINE:COL: message for each problem"
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--strict", action="store_true", help="fail on warnings too (a missing translation, ...)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the problems")
    commands["validate"] = _validate

    p = sub.add_parser("schema", help="print the JSON Schema of the instruction format")
    commands["schema"] = _schema

    from oss import authoring_cli, calibration_cli, devices_cli, hands_cli, operator_cli, report_cli
    from oss.doctor.command import add_commands as doctor_commands
    from oss.station.command import add_commands as station_commands

    station_commands(sub, commands)
    calibration_cli.add_commands(sub, commands)
    devices_cli.add_commands(sub, commands)
    report_cli.add_commands(sub, commands)
    authoring_cli.add_commands(sub, commands)
    hands_cli.add_commands(sub, commands)
    operator_cli.add_commands(sub, commands)
    doctor_commands(sub, commands)

    return parser, commands


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return commands[args.command](args)
    except OssError as e:
        print(f"oss {args.command}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
