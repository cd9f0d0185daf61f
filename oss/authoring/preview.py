"""``oss preview``: every step as the operator will see it, without a station.

The instruction's default scenario (:func:`oss.authoring.scenario.default_scenario`) runs once on the
self-paced virtual bench. Each frame the projector shows what an ideal station would show (the step the
scripted operator has not yet truly done, as the renderer draws it), and the bench is lit by that image.
When a step becomes current, the bench is captured without operator and noise: that still, in the
virtual camera's view from above, is the step as the operator sees it, with the parts of the earlier
steps in place. Written to ``out_dir``::

    steps/NN_<uid>_bench.png       the bench from above with the projection on it
    steps/NN_<uid>_projector.png   the raw projector image
    contact_sheet.png              all bench views on one page
    index.html                     per step: both images, text, pictogram, expected time
    walkthrough.mp4                projector | camera, the whole unit (unless video=False)
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from oss.authoring.scenario import default_scenario
from oss.display.recorder import VideoRecorder
from oss.instructions.loader import load_instruction
from oss.instructions.model import Instruction, RunStep
from oss.records import Phase, StationState
from oss.render.renderer import Renderer
from oss.sim.bench import VirtualBench

SHEET_COLUMNS = 4
TILE_W = 480
CAPTION_H = 46


@dataclass(frozen=True)
class StepPreview:
    index: int
    uid: str
    text: str
    expected_s: float | None
    bench_png: Path
    projector_png: Path
    t_shown: float  # simulated seconds into the walk-through


@dataclass(frozen=True)
class PreviewResult:
    instruction: str
    variant: str | None
    steps: tuple[StepPreview, ...]
    contact_sheet: Path
    html: Path
    video: Path | None
    frames: int
    sim_s: float


def _state(rs: RunStep | None, variant: str | None, language: str, t: float, total: int) -> StationState:
    if rs is None:
        return StationState(Phase.DONE, total - 1, "", variant, 1, language, t=t)
    return StationState(Phase.RUNNING, rs.index, rs.uid, variant, 0, language, t=t)


def _safe(uid: str) -> str:
    return uid.replace("#", "-")


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")


def preview(
    path: str | Path,
    out_dir: str | Path,
    *,
    variant: str | None = None,
    language: str | None = None,
    video: bool = True,
    camera_size: tuple[int, int] = (1280, 720),
    video_every: int = 2,
) -> PreviewResult:
    """Write the preview of the instruction file ``path`` to ``out_dir`` (see the module docstring)."""
    ins = load_instruction(path)
    variant = variant or ins.default_variant()
    lang = language or ins.default_language
    out = Path(out_dir)
    (out / "steps").mkdir(parents=True, exist_ok=True)
    scenario = default_scenario(ins, variant, camera_size=camera_size)
    bench = VirtualBench(scenario, ins, self_paced=True)
    renderer = Renderer(ins, bench.true_calibration(), variant, language=lang)
    runs = {rs.uid: rs for rs in renderer.run_steps}
    first = renderer.run_steps[0]
    recorder = (
        VideoRecorder(out / "walkthrough.mp4", fps=bench.fps / video_every, height=360) if video else None
    )
    steps: list[StepPreview] = []
    shown: str | None = None
    try:
        while not bench.finished:
            frames = bench.tracker.frames
            uid = frames[-1].step_uid if frames else first.uid
            rs = runs.get(uid) if uid is not None else None
            if rs is not None and uid != shown and all(s.uid != uid for s in steps):
                steps.append(_still(bench, renderer, rs, variant, lang, out, ins))
            shown = uid
            proj = renderer.render(_state(rs, variant, lang, bench.t, len(runs)))
            frame = bench.next_frame(proj)
            if recorder is not None and frame.index % video_every == 0:
                recorder.write(proj, frame.image)
    finally:
        if recorder is not None:
            recorder.close()
    sheet = out / "contact_sheet.png"
    cv2.imwrite(str(sheet), contact_sheet(steps, len(runs)))
    page = out / "index.html"
    page.write_text(_html(ins, variant, lang, steps, recorder is not None), encoding="utf-8")
    return PreviewResult(
        ins.source,
        variant,
        tuple(steps),
        sheet,
        page,
        out / "walkthrough.mp4" if recorder is not None else None,
        bench.index,
        bench.t,
    )


def _still(
    bench: VirtualBench,
    renderer: Renderer,
    rs: RunStep,
    variant: str | None,
    lang: str,
    out: Path,
    ins: Instruction,
) -> StepPreview:
    proj = renderer.render(_state(rs, variant, lang, 0.0, rs.total))  # t=0: blinking overlays shown
    still = bench.capture_still(proj)
    stem = f"{rs.index + 1:02d}_{_safe(rs.uid)}"
    bench_png, proj_png = out / "steps" / f"{stem}_bench.png", out / "steps" / f"{stem}_projector.png"
    cv2.imwrite(str(bench_png), still)
    cv2.imwrite(str(proj_png), proj)
    text = rs.step.text.get(lang, ins.default_language)
    return StepPreview(rs.index, rs.uid, text, rs.step.expected_s, bench_png, proj_png, bench.t)


def contact_sheet(steps: list[StepPreview], total: int, columns: int = SHEET_COLUMNS) -> np.ndarray:
    """All bench views in a grid, each captioned ``k/n uid`` and the step text."""
    tiles = []
    for s in steps:
        img = cv2.imread(str(s.bench_png))
        h = round(img.shape[0] * TILE_W / img.shape[1])
        tile = np.full((h + CAPTION_H, TILE_W, 3), 255, np.uint8)
        tile[:h] = cv2.resize(img, (TILE_W, h), interpolation=cv2.INTER_AREA)
        head = f"{s.index + 1}/{total}  {s.uid}" + (f"  ({s.expected_s:g} s)" if s.expected_s else "")
        cv2.putText(tile, _ascii(head), (6, h + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(
            tile,
            _ascii(s.text)[:64],
            (6, h + 38),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (60, 60, 60),
            1,
            cv2.LINE_AA,
        )
        tiles.append(tile)
    if not tiles:
        return np.full((CAPTION_H, TILE_W, 3), 255, np.uint8)
    th, tw = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = np.full((rows * (th + 8) + 8, columns * (tw + 8) + 8, 3), 200, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        y, x = 8 + r * (th + 8), 8 + c * (tw + 8)
        sheet[y : y + th, x : x + tw] = tile
    return sheet


def _html(ins: Instruction, variant: str | None, lang: str, steps: list[StepPreview], video: bool) -> str:
    name = html.escape(ins.product_name.get(lang, ins.default_language))
    v = ins.variants.get(variant or "")
    vname = v.name.get(lang, ins.default_language) if v is not None else ""
    rows = []
    for s in steps:
        exp = f"{s.expected_s:g} s" if s.expected_s else "<b>no expected_s</b>"
        rows.append(
            f"<tr><td>{s.index + 1}</td><td><code>{html.escape(s.uid)}</code><br>{html.escape(s.text)}"
            f"<br><small>expected {exp}; shown at {s.t_shown:.1f} s</small></td>"
            f'<td><img src="steps/{s.bench_png.name}" width="480"></td>'
            f'<td><img src="steps/{s.projector_png.name}" width="400"></td></tr>'
        )
    vid = '<p><video src="walkthrough.mp4" controls width="960"></video></p>' if video else ""
    return (
        "<!doctype html><meta charset='utf-8'>"
        f"<title>Preview: {name}</title>"
        "<style>body{font-family:sans-serif} td{vertical-align:top;padding:4px} img{border:1px solid #999}</style>"
        f"<h1>{name} {html.escape(vname)}</h1>"
        f"<p>{html.escape(ins.source)} · version {html.escape(ins.version)} · {ins.content_hash} · "
        f"language {html.escape(lang)}</p>{vid}"
        '<p><img src="contact_sheet.png" width="960"></p>'
        "<table><tr><th>#</th><th>step</th><th>bench (camera view)</th><th>projector image</th></tr>"
        + "".join(rows)
        + "</table>"
    )
