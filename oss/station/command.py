"""``oss run`` (and ``python run_station.py``): build a station from flags and the station file, run it."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from oss.config import StationConfig, calibration_problem, load_station_config
from oss.records import OssError

DEFAULT_SCENARIO = "sim:led_basic"
log = logging.getLogger("oss.station")


def add_commands(
    sub: argparse._SubParsersAction, commands: dict[str, Callable[[argparse.Namespace], int]]
) -> None:
    p = sub.add_parser(
        "run",
        help="run a station (default: the LED fixture on the virtual bench)",
        description="Run a station. Flags override the station file (--station).",
    )
    p.add_argument(
        "--station", metavar="FILE", help="station configuration file (camera, projector, devices, log)"
    )
    p.add_argument(
        "--instructions", metavar="FILE", help="instruction file (default: the LED fixture sample)"
    )
    p.add_argument("--variant", help="product variant (default: the instruction's first)")
    p.add_argument("--camera", help="camera index, device, URL, video file, image folder, or sim:SCENARIO")
    p.add_argument("--calibration", metavar="FILE", help="calibration file (a sim: camera calibrates itself)")
    p.add_argument(
        "--display", choices=("window", "none"), help="projector output (default: window if a display exists)"
    )
    p.add_argument("--screen", type=int, help="screen number of the projector")
    p.add_argument(
        "--record", metavar="FILE", help="write a video of the projector and camera views side by side"
    )
    p.add_argument("--log", metavar="FILE", help="event log (SQLite)")
    p.add_argument("--operator", default="", help="operator id")
    p.add_argument("--language", help="operator language (default: the instruction's)")
    p.add_argument("--max-cycles", type=int, help="stop after this many units")
    p.add_argument("--max-frames", type=int, help="stop after this many camera frames (trials, tests)")
    p.add_argument(
        "--summary-json",
        metavar="FILE",
        help="write a run summary (with a sim: camera, against ground truth)",
    )
    p.add_argument("--truth-json", metavar="FILE", help="with a sim: camera, write its ground truth")
    p.add_argument(
        "--resume",
        choices=("ask", "yes", "no"),
        default="ask",
        help="an unfinished unit in the log: ask on the projection, resume it, or start a new one",
    )
    p.add_argument(
        "--hand-tracking", action="store_true", help="fuse MediaPipe hand landmarks into hand tracking"
    )
    p.add_argument(
        "--no-touch-buttons", action="store_true", help="don't project the next/back/help touch buttons"
    )
    p.add_argument(
        "--monitor",
        action="store_true",
        help="open the supervisor monitor window (PIN from the station file or OSS_SUPERVISOR_PIN)",
    )
    p.add_argument("--monitor-screen", type=int, help="screen number of the supervisor monitor window")
    p.add_argument(
        "--realtime", action="store_true", help="pace a sim: run like a real camera (default with a window)"
    )
    p.add_argument(
        "--demo", action="store_true", help="the demo: LED fixture, virtual bench, 2 units, files under out/"
    )
    commands["run"] = run_command


def _settings(args: argparse.Namespace) -> tuple[StationConfig, dict[str, object]]:
    cfg = load_station_config(args.station) if args.station else StationConfig()
    extra: dict[str, object] = {}
    if args.demo:
        out = Path("out")
        out.mkdir(exist_ok=True)
        cfg = replace(cfg, log=str(out / "demo.sqlite"))
        extra.update(
            record=str(out / "demo.mp4"),
            summary=str(out / "demo_summary.json"),
            truth=str(out / "demo_truth.json"),
            max_cycles=args.max_cycles or 2,
        )
    if args.camera:
        cfg = replace(cfg, camera=args.camera)
    if args.calibration:
        cfg = replace(cfg, calibration=args.calibration, calibration_at="--calibration")
    if args.log:
        cfg = replace(cfg, log=args.log)
    if args.language:
        cfg = replace(cfg, language=args.language, language_at="--language")
    if args.hand_tracking:
        cfg = replace(cfg, hand_tracking=True)
    if args.no_touch_buttons:
        cfg = replace(cfg, touch_buttons=False)
    if args.screen is not None:
        cfg = replace(cfg, screen=args.screen)
    if args.monitor:
        cfg = replace(cfg, monitor=True)
    if args.monitor_screen is not None:
        cfg = replace(cfg, monitor=True, monitor_screen=args.monitor_screen)
    display = args.display or cfg.display if args.station else args.display
    if display is None:
        display = "window" if os.environ.get("DISPLAY") else "none"
    cfg = replace(cfg, display=display)
    extra.setdefault("record", args.record)
    extra.setdefault("summary", args.summary_json)
    extra.setdefault("truth", args.truth_json)
    extra.setdefault("max_cycles", args.max_cycles)
    extra["max_frames"] = args.max_frames
    return cfg, extra


def run_command(args: argparse.Namespace) -> int:
    from oss.station.build import build_and_run

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    cfg, extra = _settings(args)
    instructions = Path(args.instructions) if args.instructions else None
    check_language(cfg, instructions)
    problem = calibration_problem(cfg)
    if problem:
        raise OssError(problem)
    summary = build_and_run(cfg, instructions, args.variant, args.operator, extra, args.resume, args.realtime)
    text = json.dumps(summary, indent=2)
    if extra.get("summary"):
        Path(str(extra["summary"])).write_text(text + "\n")
    if args.demo:
        print("Demo finished.")
        for label, key in (("video", "record"), ("summary", "summary"), ("ground truth", "truth")):
            if extra.get(key):
                print(f"  {label:13s} {Path(str(extra[key])).resolve()}")
        print(f"  {'event log':13s} {Path(cfg.log).resolve()}")
    short = {k: summary[k] for k in summary if k not in ("problems",)}
    print(json.dumps(short, indent=2))
    if summary.get("error"):
        raise OssError(str(summary["error"]))
    return 0


def check_language(cfg: StationConfig, instructions: Path | None) -> None:
    """Refuse an operator language that neither the instruction nor OSS's own screen texts have.

    The station file's reader knows only the screen languages; the instruction (given, or the sim
    scenario's) is read here, before anything starts. Problems of the instruction itself are left to
    the station, which reports them with their lines.
    """
    from oss.config import screen_languages
    from oss.instructions import parse_instruction

    lang = cfg.language
    if not lang or lang in screen_languages():
        return
    path = instructions
    if path is None and cfg.camera.startswith("sim:"):
        from oss.sim.scenario import load_scenario

        path = load_scenario(cfg.camera.removeprefix("sim:"), check=False).instructions
    if path is None:
        return
    ins = parse_instruction(path).instruction
    if ins is None or lang in ins.languages:
        return
    where = cfg.language_at or "language"
    raise OssError(
        f"{where}: language '{lang}' is not one of the instruction's languages ({', '.join(ins.languages)}), "
        f"nor one OSS has screen texts in ({', '.join(screen_languages())}); choose one of those"
    )
