"""oss preview on the small instruction: stills per step, contact sheet, page, video."""

from __future__ import annotations

from pathlib import Path

import cv2

from oss.authoring.preview import preview
from oss.authoring.scenario import default_scenario
from oss.instructions.loader import load_instruction

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini.yaml"


def test_default_scenario_is_one_clean_unit() -> None:
    ins = load_instruction(MINI)
    sc = default_scenario(ins)
    assert sc.cycles == 1 and sc.deviations == () and sc.instructions == Path(ins.source)


def test_preview_writes_every_step(tmp_path: Path) -> None:
    res = preview(MINI, tmp_path, camera_size=(640, 360))
    assert [s.uid for s in res.steps] == ["box", "screw", "lid", "unload"]
    times = [s.t_shown for s in res.steps]
    assert times == sorted(times) and times[0] < times[-1]
    for s in res.steps:
        bench, proj = cv2.imread(str(s.bench_png)), cv2.imread(str(s.projector_png))
        assert bench.shape == (360, 640, 3) and proj.shape == (800, 1280, 3)
        assert proj.max() > 0
    # the lid step's still shows the box already in the jig: the bench differs from the first still
    first, lid = (cv2.imread(str(res.steps[i].bench_png)).astype(int) for i in (0, 2))
    assert abs(first - lid).mean() > 1.0
    sheet = cv2.imread(str(res.contact_sheet))
    assert sheet.shape[1] > 4 * 480
    page = res.html.read_text()
    assert all(f"steps/{s.bench_png.name}" in page for s in res.steps)
    assert res.video is not None and res.video.stat().st_size > 10_000
    cap = cv2.VideoCapture(str(res.video))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) > 100
    cap.release()
