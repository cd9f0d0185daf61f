"""Perception time per frame on the virtual bench, optimised and plain, as JSON.

    .venv/bin/python benchmarks/bench_perception.py [--scenario led_basic] [--seconds 60]

The station loop (virtual bench → perception → engine → renderer) runs with the optimised perception;
a second, plain perception (``plain=True``: every map recomputed, markers searched in the whole frame,
every frame) processes the very same frames and projector images. Reported per frame: wall-clock
milliseconds (``time.perf_counter``: the frame processing time), the CPU milliseconds of the loop's
thread (``time.thread_time``) and of the whole process (``time.process_time``: the perception's worker
thread and OpenCV's threads too; the optimised perception shares a frame's work with its worker
thread, so this is more than its wall time). Other load on the machine inflates the wall figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import oss  # noqa: E402, F401  (first: one BLAS thread, as at the station, set before numpy loads)

# isort: split
import numpy as np  # noqa: E402

from oss.perception.pipeline import Perception  # noqa: E402
from tests.perception.simloop import Run, run_station  # noqa: E402


def stats(xs: list[float]) -> dict[str, float]:
    a = np.asarray(xs, np.float64)
    return {
        "median": round(float(np.median(a)), 2),
        "p95": round(float(np.percentile(a, 95)), 2),
        "max": round(float(a.max()), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="led_basic")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--no-plain", action="store_true", help="skip the plain approach")
    args = ap.parse_args()
    plain: dict[str, Perception] = {}
    plain_wall: list[float] = []
    plain_cpu: list[float] = []
    plain_process: list[float] = []

    def on_frame(run: Run, i: int) -> None:
        if args.no_plain or run.last_frame is None:
            return
        if "p" not in plain:
            p = run.perception
            plain["p"] = Perception(p.instruction, p.calibration, p.variant, plain=True)
        t0, c0, p0 = time.perf_counter(), time.thread_time(), time.process_time()
        plain["p"].process(run.last_frame, run.last_projector)
        plain_wall.append((time.perf_counter() - t0) * 1000.0)
        plain_cpu.append((time.thread_time() - c0) * 1000.0)
        plain_process.append((time.process_time() - p0) * 1000.0)

    t_start = time.perf_counter()
    run = run_station(args.scenario, args.seconds, on_frame=on_frame)
    out = {
        "scenario": args.scenario,
        "simulated_s": round(run.bench.t, 2),
        "frames": len(run.ms),
        "frame_size": list(run.perception.calibration.camera_size),
        "bench_px": list(run.perception.rectifier.size),
        "optimised_ms": stats(run.ms),
        "optimised_thread_cpu_ms": stats(run.cpu_ms),
        "optimised_process_cpu_ms": stats(run.process_cpu_ms),
        "plain_ms": stats(plain_wall) if plain_wall else None,
        "plain_thread_cpu_ms": stats(plain_cpu) if plain_cpu else None,
        "plain_process_cpu_ms": stats(plain_process) if plain_process else None,
        "cpus": os.cpu_count(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "wall_s": round(time.perf_counter() - t_start, 1),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
