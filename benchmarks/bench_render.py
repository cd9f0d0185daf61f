"""Renderer speed at projector 1280×800 on the LED-fixture sample, with a moving hand mask.

    python benchmarks/bench_render.py [--frames N]

Prints JSON: per-frame render time (median, p95) in ms over all run steps of both variants, the time
to build a step's static layer (first frame of a step), and the same with the jig pose changing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from oss.instructions.loader import load_instruction  # noqa: E402
from oss.records import FixturePose, Observation, Phase, StationState  # noqa: E402
from oss.render import Renderer  # noqa: E402
from oss.render.preview import synthetic_calibration  # noqa: E402


def hand(t: float) -> tuple[tuple[float, float], ...]:
    """An arm reaching in from the operator's edge towards the jig, swaying with time."""
    x = 500 + 150 * np.sin(t)
    tip = (x + 40 * np.cos(t * 1.3), 330 + 40 * np.sin(t * 0.7))
    return ((x - 60, 0.0), (x + 60, 0.0), (tip[0] + 45, tip[1] - 30), tip, (tip[0] - 45, tip[1] - 30))


def stats(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {
        "median_ms": round(float(np.median(a)), 3),
        "p95_ms": round(float(np.percentile(a, 95)), 3),
        "frames": len(ms),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=30, help="frames per step")
    args = ap.parse_args(argv)
    ins = load_instruction(ROOT / "instructions" / "led_fixture.yaml")
    cal = synthetic_calibration(projector_size=(1280, 800))
    steady: list[float] = []
    first: list[float] = []
    moving: list[float] = []
    for variant in ("w40", "w60"):
        r = Renderer(ins, cal, variant, language="nl")
        for rs in r.run_steps:
            for i in range(args.frames):
                t = rs.index * 10 + i / 30
                st = StationState(
                    Phase.RUNNING, rs.index, rs.uid, variant, 0, "nl", progress=i / args.frames, t=t
                )
                obs = Observation(
                    t=t,
                    frame_index=i,
                    hand_mask_mm=(hand(t),),
                    fixtures=(FixturePose("jig", 400.0, 200.0, 0.0),),
                )
                t0 = time.perf_counter()
                r.render(st, obs)
                (first if i == 0 else steady).append((time.perf_counter() - t0) * 1000)
                jiggle = (FixturePose("jig", 400.0 + 3 * np.sin(t * 5), 200.0, 1.5 * np.cos(t * 5)),)
                t0 = time.perf_counter()
                r.render(st, Observation(t=t, frame_index=i, hand_mask_mm=(hand(t),), fixtures=jiggle))
                moving.append((time.perf_counter() - t0) * 1000)
    out = {
        "projector": "1280x800",
        "instruction": "led_fixture.yaml (w40 + w60, nl)",
        "steady_frame": stats(steady),
        "first_frame_of_step": stats(first),
        "jig_moving_every_frame": stats(moving),
    }
    sys.stdout.write(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
