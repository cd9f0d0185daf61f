"""A plausible calibration for previews, tests and benchmarks, and a preview of every step.

    python -m oss.render.preview instructions/led_fixture.yaml --out /tmp/preview \
        [--variant w40] [--language nl]

writes one projector-sized PNG per run step (and per special phase) using a synthetic calibration,
so an author sees the layout without a station.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from oss.calibration.model import Calibration
from oss.records import Phase, StationState


def synthetic_calibration(
    bench_mm: tuple[float, float] = (1200.0, 700.0),
    projector_size: tuple[int, int] = (1280, 800),
    camera_size: tuple[int, int] = (1280, 720),
    keystone_px: float = 24.0,
) -> Calibration:
    """A ceiling projector and camera over the bench, with some keystone.

    The projector's top row lies over the far edge of the bench (large y), its left column over the
    operator's left; the bench fills the image less a margin, the far edge narrowed by ``keystone_px``.
    """
    bw, bd = bench_mm
    pw, ph = projector_size
    m = 0.03 * pw
    bench = np.array([[0, 0], [bw, 0], [bw, bd], [0, bd]], np.float32)
    proj = np.array(
        [[m, ph - m], [pw - m, ph - m], [pw - m - keystone_px, m], [m + keystone_px, m]], np.float32
    )
    cw, ch = camera_size
    c = 0.05 * cw
    cam = np.array([[c + 10, ch - c], [cw - c, ch - c - 6], [cw - c - 8, c], [c, c + 4]], np.float32)
    return Calibration(
        camera_size=camera_size,
        projector_size=projector_size,
        bench_size_mm=(bw, bd),
        cam_from_bench=cv2.getPerspectiveTransform(bench, cam).astype(np.float64),
        proj_from_bench=cv2.getPerspectiveTransform(bench, proj).astype(np.float64),
        source="synthetic",
    )


def main(argv: list[str] | None = None) -> int:
    from oss.instructions.loader import load_instruction

    from .renderer import Renderer

    ap = argparse.ArgumentParser(description="Write projector previews of every step of an instruction.")
    ap.add_argument("instruction")
    ap.add_argument("--out", required=True)
    ap.add_argument("--variant")
    ap.add_argument("--language", default="en")
    ap.add_argument("--calibration", help="a station calibration file (default: a synthetic one)")
    args = ap.parse_args(argv)
    ins = load_instruction(args.instruction)
    cal = (
        Calibration.load(args.calibration)
        if args.calibration
        else synthetic_calibration((ins.bench.width_mm, ins.bench.depth_mm))
    )
    r = Renderer(ins, cal, args.variant, language=args.language)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    states = [StationState(Phase.WAITING, -1, "", args.variant, 0, args.language)]
    for rs in r.run_steps:
        states.append(
            StationState(Phase.RUNNING, rs.index, rs.uid, args.variant, 0, args.language, progress=0.5)
        )
    states.append(StationState(Phase.DONE, len(r.run_steps) - 1, "", args.variant, 1, args.language))
    for st in states:
        name = f"{st.step_index + 1:02d}_{st.phase.value}_{st.step_uid.replace('#', '-') or 'unit'}.png"
        cv2.imwrite(str(out / name), r.render(st))
        sys.stdout.write(f"{out / name}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
