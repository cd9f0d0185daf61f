"""``oss preview``, ``oss lint`` and ``oss teach``: the authoring commands (see ``docs/authoring.md``).

``oss.cli`` registers them with ``add_commands(subparsers, commands)``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from oss.records import OssError

Command = Callable[[argparse.Namespace], int]


def add_commands(sub: argparse._SubParsersAction, commands: dict[str, Command]) -> None:
    p = sub.add_parser(
        "preview",
        help="render every step as the operator will see it, a contact sheet and a walk-through video",
    )
    p.add_argument("file", metavar="FILE", help="instruction file")
    p.add_argument(
        "-o", "--out", required=True, metavar="DIR", help="folder for the pictures, page and video"
    )
    p.add_argument("--variant", help="product variant (default: the first)")
    p.add_argument("--language", help="operator language (default: the instruction's)")
    p.add_argument("--no-video", action="store_true", help="skip writing walkthrough.mp4 (same run, faster)")
    commands["preview"] = preview_command

    p = sub.add_parser(
        "lint", help="find what makes instruction files hard to follow; FILE:LINE:COL: message"
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--calibration", metavar="CAL", help="a station calibration: also check the projector's reach"
    )
    p.add_argument("--strict", action="store_true", help="fail (exit 1) on any finding")
    commands["lint"] = lint_command

    p = sub.add_parser(
        "teach",
        help="do each step once at the station (or virtual bench); learn zone looks, outlines and times",
    )
    p.add_argument("file", metavar="FILE", help="instruction file")
    p.add_argument(
        "--camera",
        default="sim",
        help="'sim' (the instruction's own virtual bench), 'sim:SCENARIO', or a camera as for 'oss run' "
        "(index, device, URL; needs --calibration or --station)",
    )
    p.add_argument("--variant", help="product variant (default: the first)")
    p.add_argument("--station", metavar="FILE", help="station file (camera, calibration, display, devices)")
    p.add_argument("--calibration", metavar="FILE", help="calibration file (a real camera)")
    p.add_argument("--display", choices=("window", "none"), help="projector output for a real camera")
    p.add_argument("--out", metavar="DIR", help="where to save (default: FILE without .yaml plus .teach/)")
    commands["teach"] = teach_command


# ---------------------------------------------------------------------------------------------------


def preview_command(args: argparse.Namespace) -> int:
    from oss.authoring.preview import preview

    res = preview(args.file, args.out, variant=args.variant, language=args.language, video=not args.no_video)
    for s in res.steps:
        print(f"{s.index + 1:2d} {s.uid:20s} {s.bench_png}")
    print(f"contact sheet: {res.contact_sheet}")
    print(f"page:          {res.html}")
    if res.video is not None:
        print(f"walk-through:  {res.video} ({res.sim_s:.0f} s simulated, {res.frames} frames)")
    return 0


def lint_command(args: argparse.Namespace) -> int:
    from oss.authoring.lint import lint_file

    failed = False
    for path in args.files:
        report = lint_file(path, args.calibration)
        for e in report.errors:
            print(e)
        for f in report.findings:
            print(f)
        n = len(report.findings)
        if report.errors:
            failed = True
            verdict = "does not load: fix the errors first ('oss validate')"
        else:
            failed = failed or (args.strict and n > 0)
            verdict = "clean" if n == 0 else f"{n} finding{'s' * (n != 1)}"
        extra = f", {report.suppressed} accepted by oss-lint comments" if report.suppressed else ""
        print(f"{path}: {verdict}{extra}", file=sys.stderr)
    return 1 if failed else 0


def teach_command(args: argparse.Namespace) -> int:
    from oss.authoring.teach import TeachResult, teach_on_bench
    from oss.instructions import load_instruction

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    ins = load_instruction(args.file)
    result: TeachResult
    if args.camera == "sim" or args.camera.startswith("sim:"):
        scenario = None
        if args.camera.startswith("sim:"):
            from oss.sim.scenario import load_scenario

            scenario = load_scenario(args.camera.removeprefix("sim:"))
        result = teach_on_bench(ins, scenario, variant=args.variant, folder=args.out)
    else:
        result = _teach_at_station(args, ins)
    print(
        f"taught {len(result.steps)} steps of {ins.source} (version {ins.version}); saved in {result.folder}"
    )
    print("step times (put them in the file as expected_s):")
    for s in result.steps:
        was = f"file: {s.file_expected_s:g}" if s.file_expected_s else "file: none"
        print(f"  {s.uid:20s} {s.seconds:6.1f} s  -> expected_s: {s.expected_s:g}   ({was})")
    if result.proposals:
        print("zones as the bench changed (copy under 'zones:' if better than the file's):")
        for p in result.proposals:
            print(f"  {p.yaml()}")
    return 0


def _teach_at_station(args: argparse.Namespace, ins: object):  # type: ignore[no-untyped-def]
    """Teach at a real station: its camera, calibration, projector and NEXT inputs."""
    from dataclasses import replace

    from oss.authoring.teach import TeachSession
    from oss.calibration.model import Calibration
    from oss.calibration.radiometry import measure_radiometry
    from oss.camera.opencv_source import open_source
    from oss.config import StationConfig, load_station_config
    from oss.display import open_display
    from oss.instructions.model import Instruction
    from oss.perception.taught import teach_dir

    assert isinstance(ins, Instruction)
    cfg = load_station_config(args.station) if args.station else StationConfig()
    cfg = replace(cfg, camera=args.camera)
    if args.calibration:
        cfg = replace(cfg, calibration=args.calibration)
    if args.display:
        cfg = replace(cfg, display=args.display)
    if not cfg.calibration:
        raise OssError(
            "teaching at a station needs its calibration: pass --calibration FILE or --station FILE"
        )
    with ExitStack() as stack:
        display = open_display(cfg.display, screen_index=cfg.screen)
        stack.callback(display.close)
        camera = stack.enter_context(
            open_source(
                cfg.camera,
                size=cfg.camera_size,
                fps=cfg.camera_fps,
                exposure=cfg.exposure,
                white_balance=cfg.white_balance,
            )
        )
        cal = Calibration.load(
            cfg.calibration, camera_size=cfg.camera_size, projector_size=cfg.projector_size
        )
        if cal.radiometry is None:
            import time

            def capture(img):  # type: ignore[no-untyped-def]
                display.show(img)
                time.sleep(0.3)
                frame = None
                deadline = time.monotonic() + 5.0
                while frame is None and time.monotonic() < deadline:
                    frame = camera.read_latest(timeout=0.5)
                if frame is None:
                    raise OssError("the camera delivers no frames: check the cable and the --camera setting")
                return frame.image

            cal = cal.with_radiometry(measure_radiometry(capture, cal))
        inputs: list[object] = []
        if cfg.devices:
            from oss.hardware import DeviceManager

            inputs.append(stack.enter_context(DeviceManager.from_station(cfg)))
        session = TeachSession(ins, args.variant, cal, camera, inputs=inputs, display=display)  # type: ignore[arg-type]
        result = session.run()
    out = Path(args.out) if args.out else teach_dir(ins.source)
    result.references.save(out)
    return replace(result, folder=out)
