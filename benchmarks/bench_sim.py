"""Virtual bench speed: frames per second at the scenario's camera resolution (default 1280x720).

Run: ``.venv/bin/python -m benchmarks.bench_sim [scenario] [frames]``; prints one JSON object.
The projector shows a typical step image (lit bins, outlined zones, a text panel) that follows the true step,
as a station would.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from oss.sim.bench import VirtualBench
from oss.sim.preview import step_projection
from oss.sim.scenario import load_scenario


def main(argv: list[str]) -> None:
    name = argv[0] if argv else "led_basic"
    frames = int(argv[1]) if len(argv) > 1 else 300
    scenario = load_scenario(name)
    instruction = scenario.load_instruction()
    t0 = time.perf_counter()
    vb = VirtualBench(scenario, instruction, self_paced=True)
    setup_s = time.perf_counter() - t0
    cal = vb.true_calibration()
    images = {
        r.uid: step_projection(instruction, r, cal.proj_from_bench, vb.projector_size, vb.poses)
        for r in vb.operator.runs
    }
    # warm up over the first frames (first scene render), then time
    for _ in range(5):
        vb.next_frame(images[vb.operator.runs[0].uid])
    times = []
    for _ in range(frames):
        uid = vb.tracker.frames[-1].step_uid
        img = images.get(uid) if uid else None
        t = time.perf_counter()
        vb.next_frame(img)
        times.append(time.perf_counter() - t)
    ts = np.array(times)
    print(
        json.dumps(
            {
                "benchmark": "sim_render",
                "scenario": name,
                "camera_size": list(vb.camera_size),
                "projector_size": list(vb.projector_size),
                "frames": frames,
                "simulated_s": round(frames / vb.fps, 2),
                "setup_s": round(setup_s, 3),
                "fps": round(frames / ts.sum(), 1),
                "ms_per_frame_median": round(float(np.median(ts)) * 1000, 2),
                "ms_per_frame_p95": round(float(np.percentile(ts, 95)) * 1000, 2),
                "realtime_factor": round(frames / vb.fps / ts.sum(), 2),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
