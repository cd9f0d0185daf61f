"""Pictures of what the operator sees, for docs/operator.md: each guidance level, hesitation, sign-in.

    python -m oss.operator.pictures docs/images [--instructions instructions/led_fixture.yaml]

Each picture is the bench seen from the operator's side (operator's edge at the bottom), a plain
drawing of the bench, bins and jig with the station's projection added as light.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from oss.engine.guidance import GuidanceView
from oss.instructions import load_instruction
from oss.instructions.model import BENCH_FRAME, Instruction
from oss.operator.profile import OperatorProfile, ProfileBook
from oss.operator.signin import SignInScreen
from oss.package_data import sample_instruction
from oss.records import Phase, StationState
from oss.render.preview import synthetic_calibration
from oss.render.renderer import Renderer
from oss.render.strings import ui_text
from oss.render.tiles import Tile, TileScreen

STEP = "thermal_pad"
MM_PER_PX = 1.0
PEOPLE = ("Anna de Vries", "Bo Jansen", "Chen Li", "Dana Kowalski", "Emre Yilmaz", "Fatima Benali")


def bench_drawing(ins: Instruction, mm_per_px: float = MM_PER_PX) -> np.ndarray:
    """The bench from the operator's side: grey top, bins and jig places outlined."""
    w, d = ins.bench.width_mm, ins.bench.depth_mm
    img = np.full((round(d / mm_per_px), round(w / mm_per_px), 3), 70, np.uint8)

    def px(pts: list[tuple[float, float]]) -> np.ndarray:
        return np.array([[x / mm_per_px, (d - y) / mm_per_px] for x, y in pts], np.int32)

    for z in ins.zones.values():
        fx = ins.fixtures.get(z.frame) if z.frame != BENCH_FRAME else None
        pts = [fx.to_bench(x, y) for x, y in z.points] if fx else list(z.points)
        if z.is_bin:
            cv2.fillPoly(img, [px(pts)], (95, 95, 95))
        cv2.polylines(img, [px(pts)], True, (120, 120, 120), 1, cv2.LINE_AA)
    return img


def on_bench(base: np.ndarray, light: np.ndarray) -> np.ndarray:
    return np.clip(base.astype(np.int32) * 0.7 + light.astype(np.int32), 0, 255).astype(np.uint8)


def pictures(ins: Instruction) -> dict[str, np.ndarray]:
    cal = synthetic_calibration((ins.bench.width_mm, ins.bench.depth_mm))
    variant = ins.default_variant()
    base = bench_drawing(ins)
    r = Renderer(ins, cal, variant)
    idx = next(rs.index for rs in r.run_steps if rs.uid == STEP)
    st = StationState(Phase.RUNNING, idx, STEP, variant, 0, progress=0.0, t=0.45)

    def shot(renderer: Renderer, state: StationState, g: GuidanceView | None) -> np.ndarray:
        return on_bench(base, renderer.overlay_bench_image(state, None, MM_PER_PX, True, g))

    out = {
        "operator_full": shot(r, st, GuidanceView("full", "full", animate=True)),
        "operator_reduced": shot(r, st, GuidanceView("reduced", "reduced", animate=False)),
        "operator_minimal": shot(r, st, GuidanceView("minimal", "minimal", animate=False)),
        "operator_hesitation": shot(
            r, st, GuidanceView("minimal", "full", stage=2, animate=True, help_hint=True)
        ),
        "operator_supervisor": shot(r, StationState(Phase.HELP, idx, STEP, variant, 0, t=0.45), None),
    }
    book = ProfileBook(tuple(OperatorProfile(f"op{i}", name=n) for i, n in enumerate(PEOPLE)))
    screen = SignInScreen(book, r.tile_rects)
    screen.cursor = 2
    signin = screen.screen()
    out["operator_signin"] = on_bench(base, _tiles_bench(r, signin, panel=True))
    paused = StationState(Phase.PAUSED, idx, STEP, variant, 0, t=0.45)
    brk = TileScreen(
        "", tiles=(Tile(ui_text("signout", "en"), face=False),), message=ui_text("signout_hint", "en")
    )
    out["operator_break"] = on_bench(
        base,
        np.maximum(r.overlay_bench_image(paused, None, MM_PER_PX, True), _tiles_bench(r, brk, panel=False)),
    )
    special = Renderer(ins, cal, variant, palette_name="colorblind", hand="left", text_scale=1.25)
    err = StationState(
        Phase.ERROR, idx, STEP, variant, 0, error_bin="bin_lens", error_hint="Take one thermal pad", t=0.45
    )
    out["operator_colorblind_left"] = shot(special, err, GuidanceView("full", "full", animate=False))
    return out


def _tiles_bench(r: Renderer, screen: TileScreen, panel: bool) -> np.ndarray:
    """Tiles drawn in the operator's bench view (the tile rectangles are in bench mm)."""
    from oss.render.tiles import draw_tile_screen

    w, d = r.instruction.bench.width_mm, r.instruction.bench.depth_mm
    s = MM_PER_PX
    h = np.array([[1 / s, 0, -0.5], [0, -1 / s, d / s - 0.5], [0, 0, 1]])
    from oss.render.canvas import Canvas
    from oss.render.painter import Painter

    canvas = Canvas(h, (round(w / s), round(d / s)))
    img = canvas.blank()
    p = Painter(canvas, r.scene, r.layout, r.named)
    draw_tile_screen(p, img, screen, r.tile_rects(len(screen.tiles)), r.named, r.text_scale, panel)
    return img


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--instructions", type=Path, help="instruction file (default: the LED fixture sample)")
    args = ap.parse_args(argv)
    ins = load_instruction(args.instructions or sample_instruction())
    args.out.mkdir(parents=True, exist_ok=True)
    for name, img in pictures(ins).items():
        cv2.imwrite(str(args.out / f"{name}.png"), img)
        print(args.out / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
