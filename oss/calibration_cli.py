"""``oss calibrate``: camera intrinsics and camera↔projector from image folders, and the at-station procedure.

oss calibrate camera IMAGES... --board chessboard:9x6:25 [--json FILE] [--yaml FILE]
oss calibrate procam CAPTURE_DIR... --projector-size 1024x768 --board chessboard:9x7:75 --json FILE
oss calibrate station --markers calibration/bench_markers.yaml [--board chessboard:9x6:40 --poses 5]
                      [--camera 0 --camera-size 1280x720 --screen 1 | --sim led_basic]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from oss.records import OssError

if TYPE_CHECKING:
    from oss.calibration.bench_target import BenchTarget
    from oss.calibration.boards import BoardSpec
    from oss.calibration.station import Progress, StationResult

log = logging.getLogger("oss.calibrate")


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"'{text}' is not a size: write WIDTHxHEIGHT, e.g. 1280x800") from e
    return (w, h)


def _write(doc: dict[str, object], json_path: str | None, yaml_path: str | None) -> None:
    if json_path:
        Path(json_path).write_text(json.dumps(doc, indent=2) + "\n")
    if yaml_path:
        Path(yaml_path).write_text(yaml.safe_dump(doc, sort_keys=False))


def _camera(args: argparse.Namespace) -> int:
    from oss.calibration.boards import BoardSpec
    from oss.calibration.intrinsics import calibrate_camera_files

    res = calibrate_camera_files(args.images, BoardSpec.parse(args.board))
    for v in res.views:
        print(f"{v.name}: {v.corners} corners, RMS {v.rms_px:.3f} px")
    for name, reason in res.skipped:
        print(f"{name}: skipped, {reason}")
    k = res.camera_matrix
    print(
        f"camera {res.image_size[0]}x{res.image_size[1]}: fx {k[0, 0]:.2f} fy {k[1, 1]:.2f} cx {k[0, 2]:.2f} "
        f"cy {k[1, 2]:.2f}, RMS {res.rms_px:.3f} px over {len(res.views)} views"
    )
    _write(res.to_dict(), args.json, args.yaml)
    return 0


def _procam(args: argparse.Namespace) -> int:
    from oss.calibration.boards import BoardSpec
    from oss.calibration.graycode import GrayCode
    from oss.calibration.procam import calibrate_procam_dirs

    code = GrayCode(args.projector_size, args.graycode_step, args.black_threshold, args.white_threshold)
    results, stereo, cam_size = calibrate_procam_dirs(args.capture_dirs, BoardSpec.parse(args.board), code)
    for r in results:
        print(
            f"{r.name}: {len(r.corner_ids)} of {r.corners_total} corners decoded, "
            "camera→projector homography "
            f"RMS {r.rms_px:.3f} projector px"
        )
    doc: dict[str, object] = {
        "camera_size": list(cam_size),
        "projector_size": list(args.projector_size),
        "board": args.board,
        "graycode_step": args.graycode_step,
        "captures": [r.to_dict() for r in results],
    }
    if stereo is not None:
        doc["stereo"] = stereo.to_dict()
        print(
            f"camera RMS {stereo.camera_rms_px:.3f} px, projector RMS {stereo.projector_rms_px:.3f} px, "
            f"stereo RMS {stereo.stereo_rms_px:.3f} px; T = {np.round(stereo.translation, 1).tolist()} mm"
        )
    else:
        print(
            f"{len(results)} capture(s): give 3 or more board poses "
            "for camera and projector matrices, R and T"
        )
    _write(doc, args.json, args.yaml)
    return 0


def load_intrinsics(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """camera_matrix and dist_coeffs from a file written by 'oss calibrate camera --json/--yaml'."""
    try:
        doc = yaml.safe_load(Path(path).read_text())  # JSON is YAML
        return np.array(doc["camera_matrix"], np.float64).reshape(3, 3), np.array(
            doc["dist_coeffs"], np.float64
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as e:
        raise OssError(f"{path}: not an intrinsics file of 'oss calibrate camera' ({e!r})") from e


def _station(args: argparse.Namespace) -> int:
    from oss.calibration.bench_target import BenchTarget, default_target
    from oss.calibration.boards import BoardSpec
    from oss.calibration.station import StationCalibrator, StationSetup, save_versioned

    board = BoardSpec.parse(args.board) if args.board else None
    k, dist = load_intrinsics(args.intrinsics) if args.intrinsics else (None, None)

    def progress(p: Progress) -> None:
        if p.done == p.total or p.stage in ("radiometry", "done"):
            print(p.message, file=sys.stderr)

    if args.sim:
        from oss.calibration.virtual import VirtualStation, with_bench_markers
        from oss.sim.bench import VirtualBench
        from oss.sim.scenario import load_scenario

        scenario = load_scenario(args.sim)
        ins = scenario.load_instruction()
        bench_mm = (ins.bench.width_mm, ins.bench.depth_mm)
        target = BenchTarget.load(args.markers) if args.markers else default_target(bench_mm)
        bench = VirtualBench(scenario, with_bench_markers(ins, target))
        station = VirtualStation(bench, board)
        setup = StationSetup(
            bench.camera_size,
            bench.projector_size,
            bench_mm,
            target,
            board,
            args.poses,
            args.graycode_step,
            args.black_threshold,
            args.white_threshold,
            1,
            k,
            dist,
        )
        result = StationCalibrator(setup, station.project, station.capture, station.prompt, progress).run()
    else:
        if not args.markers or not args.bench_size:
            raise OssError(
                "at the station give --markers FILE (the bench marker layout) and --bench-size WxD (mm)"
            )
        target = BenchTarget.load(args.markers)
        result = _run_real(args, target, board, k, dist, progress)
    name = args.name or (f"sim-{args.sim}" if args.sim else "station")
    path = save_versioned(result.calibration, args.out_dir, name)
    from oss.calibration.station import summary

    print(summary(result.report))
    print(f"saved {path}")
    return 0


def _run_real(
    args: argparse.Namespace,
    target: BenchTarget,
    board: BoardSpec | None,
    k: np.ndarray | None,
    dist: np.ndarray | None,
    progress: Callable[[Progress], None],
) -> StationResult:
    from oss.calibration.station import StationCalibrator, StationSetup
    from oss.camera.opencv_source import open_source
    from oss.display.pyglet_display import PygletDisplay

    display = PygletDisplay(args.screen, fullscreen=True)
    proj_size = display.size
    with open_source(args.camera, size=args.camera_size, exposure=args.exposure) as cam:

        def project(image: np.ndarray) -> None:
            display.show(image)
            time.sleep(args.settle)

        def capture() -> np.ndarray:
            t_end = time.monotonic() + 2.0
            frame = None
            while time.monotonic() < t_end:  # the newest frame after the pattern settled
                f = cam.read_latest(timeout=0.2)
                if f is not None:
                    frame = f
                    if f.t >= 0:
                        break
            if frame is None:
                raise OssError(f"no frame from camera {args.camera} within 2 s: is it connected?")
            return frame.image

        def prompt(step: str, message: str) -> None:
            input(f"{message} [Enter] ")

        w, d = args.bench_size
        setup = StationSetup(
            cam.size,
            proj_size,
            (float(w), float(d)),
            target,
            board,
            args.poses,
            args.graycode_step,
            args.black_threshold,
            args.white_threshold,
            args.frames,
            k,
            dist,
        )
        result = StationCalibrator(setup, project, capture, prompt, progress).run()
        display.show(result.verification_image)
        input("Check the projected grid with a ruler (lines every 100 mm), then press Enter ")
    display.close()
    return result


def _dispatch(args: argparse.Namespace) -> int:
    fn = {"camera": _camera, "procam": _procam, "station": _station}.get(args.calibrate_command or "")
    if fn is None:
        print("oss calibrate: choose camera, procam or station (see oss calibrate --help)", file=sys.stderr)
        return 2
    return fn(args)


def add_commands(
    subparsers: argparse._SubParsersAction, commands: dict[str, Callable[[argparse.Namespace], int]]
) -> None:
    """Register ``calibrate`` and its sub-commands on the ``oss`` parser."""
    cal = subparsers.add_parser(
        "calibrate", help="calibrate camera, projector and bench (at the station or offline)"
    )
    sub = cal.add_subparsers(dest="calibrate_command", metavar="WHAT")

    p = sub.add_parser("camera", help="camera intrinsics from photos of a chessboard or ChArUco board")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument(
        "--board",
        required=True,
        help="chessboard:COLSxROWS:SQUARE_MM (inner corners) or charuco:COLSxROWS:SQUARE_MM:MARKER_MM:DICT",
    )
    p.add_argument("--json", metavar="FILE", help="write the result as JSON")
    p.add_argument("--yaml", metavar="FILE", help="write the result as YAML")

    def graycode_opts(q: argparse.ArgumentParser, black: int) -> None:
        q.add_argument("--graycode-step", type=int, default=1, metavar="N", help="projector px per code step")
        q.add_argument(
            "--black-threshold",
            type=int,
            default=black,
            metavar="N",
            help="white - black grey levels a pixel needs to be decoded",
        )
        q.add_argument(
            "--white-threshold",
            type=int,
            default=5,
            metavar="N",
            help="pattern - inverse grey levels each bit needs",
        )

    p = sub.add_parser("procam", help="camera↔projector from folders of Gray-code captures of a board")
    p.add_argument("capture_dirs", nargs="+", metavar="CAPTURE_DIR")
    p.add_argument("--projector-size", type=_size, required=True, metavar="WxH")
    p.add_argument("--board", required=True, help="chessboard:COLSxROWS:SQUARE_MM (inner corners)")
    graycode_opts(p, 40)
    p.add_argument(
        "--json", metavar="FILE", help="write per-capture homographies and the stereo model as JSON"
    )
    p.add_argument("--yaml", metavar="FILE")

    p = sub.add_parser("station", help="calibrate the station: projector, camera and bench frame in mm")
    p.add_argument(
        "--markers", metavar="FILE", help="bench marker layout (see calibration/bench_markers.yaml)"
    )
    p.add_argument("--bench-size", type=_size, metavar="WxD", help="bench width x depth in mm")
    p.add_argument("--board", help="printed board for the full model, e.g. chessboard:9x6:40")
    p.add_argument("--poses", type=int, default=0, help="board poses (3 or more for overlays at height)")
    p.add_argument(
        "--intrinsics", metavar="FILE", help="camera intrinsics from 'oss calibrate camera --json'"
    )
    p.add_argument("--camera", default="0", help="camera index, device or URL")
    p.add_argument("--camera-size", type=_size, default=(1280, 720), metavar="WxH")
    p.add_argument("--exposure", type=float, default=None, help="fixed camera exposure")
    p.add_argument("--screen", type=int, default=1, help="the projector's screen number")
    p.add_argument("--settle", type=float, default=0.25, help="seconds to wait after each pattern")
    p.add_argument("--frames", type=int, default=2, help="camera frames averaged per pattern")
    p.add_argument("--sim", metavar="SCENARIO", help="run on the virtual bench instead (e.g. led_basic)")
    p.add_argument("--out-dir", default="calibration", help="where the versioned YAML goes")
    p.add_argument("--name", help="file name stem (default: station, or sim-SCENARIO)")
    graycode_opts(p, 20)
    commands["calibrate"] = _dispatch
