from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from oss.render.pictograms import DRAWERS, MEDIA_NAMES, pictogram

ROOT = Path(__file__).resolve().parents[2]
MEDIA = ROOT / "instructions" / "media"


@pytest.mark.parametrize("name", sorted(DRAWERS))
def test_pictogram_is_a_clear_icon_on_transparent_ground(name):
    icon = pictogram(name)
    assert icon.shape == (256, 256, 4) and icon.dtype == np.uint8
    ink = (icon[..., 3] > 128).mean()
    assert 0.03 < ink < 0.5, ink  # lines, not an empty square nor a filled block
    assert icon[:4, :4, 3].max() == 0 or icon[-4:, -4:, 3].max() == 0  # transparent corners
    lit = icon[..., 3] > 128
    assert icon[..., :3][lit].max(axis=1).mean() > 200  # bright lines: high contrast when projected


def test_committed_media_match_the_generator():
    for name in MEDIA_NAMES:
        path = MEDIA / f"{name}.png"
        stored = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert stored is not None, f"{path} missing: run python tools/make_pictograms.py"
        assert np.abs(stored.astype(int) - pictogram(name).astype(int)).max() <= 2, name


def test_every_media_file_of_the_sample_exists(sample_instruction):
    names = {s.pictogram for s in sample_instruction.steps} | {s.image for s in sample_instruction.steps}
    names |= {p.image for p in sample_instruction.parts.values()}
    for name in filter(None, names):
        assert (ROOT / "instructions" / name).is_file(), name


def test_tool_writes_the_pictograms(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import make_pictograms
    finally:
        sys.path.remove(str(ROOT / "tools"))
    assert (
        make_pictograms.main(
            ["--out", str(tmp_path), "--size", "128", "--preview", str(tmp_path / "all.png")]
        )
        == 0
    )
    assert sorted(p.stem for p in tmp_path.glob("*.png") if p.stem != "all") == sorted(MEDIA_NAMES)
    assert cv2.imread(str(tmp_path / "screw.png"), cv2.IMREAD_UNCHANGED).shape == (128, 128, 4)
