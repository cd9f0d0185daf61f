"""``oss hands`` on the 28 real photos: hands found, and landmarks as MediaPipe's own reference has them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from oss.hands_cli import add_commands
from oss.records import OssError
from tests.hands.reference import compare, legacy_reference, photo_paths

pytestmark = pytest.mark.skipif(not photo_paths(), reason="real test data ../shared/data/hands/ not present")


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    parser = argparse.ArgumentParser(prog="oss")
    commands: dict = {}
    add_commands(parser.add_subparsers(dest="command"), commands)
    out = tmp_path_factory.mktemp("hands") / "hands.json"
    draw = out.parent / "draw"
    args = parser.parse_args(["hands", *map(str, photo_paths()), "--json", str(out), "--draw", str(draw)])
    assert commands["hands"](args) == 0
    doc = json.loads(out.read_text())
    doc["_draw"] = str(draw)
    return doc


def test_a_hand_in_at_least_24_of_28(result: dict[str, object]) -> None:
    images = result["images"]
    assert isinstance(images, list) and len(images) == 28
    assert int(str(result["images_with_hands"])) >= 24
    for im in images:
        for h in im["hands"]:
            pts = np.asarray(h["landmarks_px"])
            assert pts.shape == (21, 2)
            assert h["handedness"] in ("Left", "Right") and 0.5 <= h["score"] <= 1.0
            # landmarks lie on the image (a little outside is allowed for a hand cut by the border)
            assert (pts > -0.1 * im["width"]).all() and (pts[:, 0] < 1.1 * im["width"]).all()
    assert len(list(Path(str(result["_draw"])).glob("*_hands.png"))) == 28


def test_landmarks_match_mediapipes_reference_within_a_few_px(result: dict[str, object]) -> None:
    cmp = compare(result, legacy_reference(photo_paths()))
    assert cmp.images_with_hands == cmp.reference_images_with_hands  # the same photos have hands
    assert cmp.matched_hands >= 24
    m = np.asarray(cmp.mean_px)
    assert np.median(m) <= 1.5  # most hands agree to about a pixel
    assert (m <= 3.0).mean() >= 0.85  # a few small or ambiguous hands differ more (see docs/hands.md)
    assert cmp.handedness_agree >= cmp.matched_hands - 1


def test_unreadable_image_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "not_an_image.jpg"
    bad.write_text("hello")
    parser = argparse.ArgumentParser(prog="oss")
    commands: dict = {}
    add_commands(parser.add_subparsers(dest="command"), commands)
    args = parser.parse_args(["hands", str(bad), "--json", str(tmp_path / "o.json")])
    with pytest.raises(OssError, match="not a readable image"):
        commands["hands"](args)


def test_missing_task_file_is_reported(tmp_path: Path) -> None:
    from oss.perception.landmarks import LandmarkerOptions, StillImageHands

    with pytest.raises(OssError, match="not found"):
        StillImageHands(LandmarkerOptions(task_file=str(tmp_path / "hand_landmarker.task")))
