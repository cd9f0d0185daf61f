"""Calibration figures as JSON: real-data RMS values and accuracy on the virtual bench.

.venv/bin/python benchmarks/bench_calibration.py [--poses 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import cv2
import numpy as np

from oss.calibration.bench_target import default_target
from oss.calibration.boards import BoardSpec
from oss.calibration.drift import DriftMonitor
from oss.calibration.graycode import GrayCode
from oss.calibration.intrinsics import calibrate_camera_files
from oss.calibration.procam import calibrate_procam_dirs
from oss.calibration.station import StationCalibrator, StationSetup
from oss.calibration.virtual import VirtualStation, overlay_error_mm, with_bench_markers
from oss.sim.bench import VirtualBench
from oss.sim.scenario import Deviation, load_scenario

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def rel(k: np.ndarray, ref_file: Path) -> dict[str, float]:
    fs = cv2.FileStorage(str(ref_file), cv2.FILE_STORAGE_READ)
    ref = fs.getNode("camera_matrix").mat()
    fs.release()
    return {
        n: round(100 * (k[i, j] - ref[i, j]) / ref[i, j], 3)
        for n, (i, j) in {"fx": (0, 0), "fy": (1, 1), "cx": (0, 2), "cy": (1, 2)}.items()
    }


def real_data() -> dict[str, object]:
    out: dict[str, object] = {}
    chess = calibrate_camera_files(
        sorted((DATA / "chessboard").glob("left[0-9]*.jpg")), BoardSpec.parse("chessboard:9x6:25")
    )
    out["chessboard"] = {
        "rms_px": round(chess.rms_px, 4),
        "views": len(chess.views),
        "diff_percent_vs_left_intrinsics": rel(
            chess.camera_matrix, DATA / "chessboard" / "left_intrinsics.yml"
        ),
    }
    ch = calibrate_camera_files(
        sorted((DATA / "charuco").glob("img_*.jpg")), BoardSpec.parse("charuco:5x7:40:20:DICT_6X6_250")
    )
    out["charuco"] = {
        "rms_px": round(ch.rms_px, 4),
        "views": len(ch.views),
        "diff_percent_vs_tutorial": rel(ch.camera_matrix, DATA / "charuco" / "tutorial_camera_charuco.yml"),
    }
    t = time.perf_counter()
    res, st, _ = calibrate_procam_dirs(
        [DATA / "procam" / f"capture_{i}" for i in range(3)],
        BoardSpec.parse("chessboard:9x7:75"),
        GrayCode((1024, 768), 1, 40, 5),
    )
    out["procam"] = {
        "captures": [
            {"corners_decoded": len(r.corner_ids), "homography_rms_proj_px": round(r.rms_px, 4)} for r in res
        ],
        "camera_rms_px": round(st.camera_rms_px, 4) if st else None,
        "projector_rms_px": round(st.projector_rms_px, 4) if st else None,
        "stereo_rms_px": round(st.stereo_rms_px, 4) if st else None,
        "seconds": round(time.perf_counter() - t, 2),
    }
    return out


def sim(poses: int) -> dict[str, object]:
    sc = load_scenario("led_basic")
    ins = sc.load_instruction()
    target = default_target((ins.bench.width_mm, ins.bench.depth_mm))
    bench = VirtualBench(sc, with_bench_markers(ins, target))
    board = BoardSpec.parse("chessboard:9x6:40")
    station = VirtualStation(bench, board)
    setup = StationSetup(
        bench.camera_size,
        bench.projector_size,
        (ins.bench.width_mm, ins.bench.depth_mm),
        target,
        board,
        poses,
    )
    t = time.perf_counter()
    result = StationCalibrator(setup, station.project, station.capture, station.prompt).run()
    seconds = time.perf_counter() - t
    cal = result.calibration
    fig: dict[str, object] = {
        "board_poses": poses,
        "frames_captured": station.captures,
        "seconds": round(seconds, 1),
    }
    for name, z, full in (
        ("bench_homography_z0", 0.0, False),
        ("full_model_z0", 0.0, True),
        ("full_model_z80", 80.0, True),
        ("bench_homography_z80", 80.0, False),
    ):
        rms, worst = overlay_error_mm(cal, bench, z, full)
        fig[name] = {"rms_mm": round(rms, 3), "max_mm": round(worst, 3)}
    fig["report"] = {k: v for k, v in result.report.items() if k != "created_utc"}
    return fig


def drift() -> dict[str, object]:
    sc = load_scenario("led_basic")
    ins = sc.load_instruction()
    target = default_target((ins.bench.width_mm, ins.bench.depth_mm))
    bump_at = 2.0
    sc = dataclasses.replace(
        sc, deviations=(Deviation("bump_camera", at_s=bump_at, params=(("dx_mm", 3.0),)),)
    )
    bench = VirtualBench(sc, with_bench_markers(ins, target))
    mon = DriftMonitor(bench.true_calibration(), target)
    before: list[float] = []
    t = time.perf_counter()
    while bench.t < bump_at + 2.0:
        f = bench.next_frame(None)
        w = mon.check(f.image, f.t)
        if f.t < bump_at and mon.last_shift_mm is not None:
            before.append(mon.last_shift_mm)
        if w is not None:
            return {
                "bump_mm": 3.0,
                "detected_after_s": round(w.t - bump_at, 3),
                "shift_mm": round(w.shift_mm, 3),
                "max_shift_before_bump_mm": round(max(before), 3),
                "check_ms_per_frame": round(1000 * (time.perf_counter() - t) / max(1, f.index + 1), 1),
            }
    return {"bump_mm": 3.0, "detected_after_s": None}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--poses", type=int, default=5)
    args = ap.parse_args()
    print(
        json.dumps({"real_data": real_data(), "virtual_bench": sim(args.poses), "drift": drift()}, indent=2)
    )


if __name__ == "__main__":
    main()
