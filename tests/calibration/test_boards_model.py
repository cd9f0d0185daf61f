"""Board specs, the calibration file with its full projector model, bench marker layouts."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from oss.calibration.bench_target import BenchMarker, BenchTarget
from oss.calibration.boards import BoardSpec, find_board
from oss.calibration.model import Calibration, ProjectorModel
from oss.records import OssError


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("chessboard:9x6", "not understood"),
        ("chess:9x6:25", "not understood"),
        ("charuco:5x7:40", "needs :MARKER_MM:DICT"),
        ("charuco:5x7:40:50:DICT_6X6_250", "smaller than the square"),
        ("charuco:5x7:40:20:DICT_NOPE", "unknown ArUco dictionary"),
        ("chessboard:1x6:25", "at least 2x2"),
    ],
)
def test_bad_board_specs(text: str, error: str) -> None:
    with pytest.raises(OssError, match=error):
        BoardSpec.parse(text)


@pytest.mark.parametrize("text", ["chessboard:9x6:25", "charuco:5x7:40:20:DICT_6X6_250"])
def test_drawn_board_is_found_with_its_geometry(text: str) -> None:
    spec = BoardSpec.parse(text)
    assert str(spec) == text
    img = spec.draw(4.0, 20.0)
    view = find_board(img, spec)
    assert view is not None and view.count == spec.corner_count
    expect = (spec.object_points()[view.ids, :2] + 20.0 + spec.drawing_offset_mm) * 4.0 - 0.5
    assert np.abs(view.image_px - expect).max() < 0.6


def calibration(model: bool) -> Calibration:
    pm = (
        ProjectorModel(
            np.array([[1500.0, 0, 640], [0, 1500, 400], [0, 0, 1]]),
            np.zeros(5),
            np.array([3.1, 0.0, 0.0]),
            np.array([-600.0, 350.0, 1500.0]),
            np.array([3.14, 0.0, 0.0]),
            np.array([-600.0, 300.0, 1440.0]),
        )
        if model
        else None
    )
    return Calibration(
        (1280, 720),
        (1280, 800),
        (1200.0, 700.0),
        np.eye(3),
        np.diag([1.0, 1.0, 1.0]),
        projector_model=pm,
        report={"projector_rms_mm": 0.2},
    )


def test_save_load_keeps_the_full_model(tmp_path) -> None:
    cal = calibration(True)
    cal.save(tmp_path / "c.yaml")
    back = Calibration.load(tmp_path / "c.yaml", (1280, 720), (1280, 800))
    assert back.projector_model is not None and back.report == {"projector_rms_mm": 0.2}
    pts = np.array([[100.0, 100.0], [900.0, 600.0]])
    assert np.allclose(
        back.bench_to_projector_at_height(pts, 80.0), cal.bench_to_projector_at_height(pts, 80.0)
    )
    m = back.projector_model
    assert np.allclose(m.rotation @ np.asarray(m.cam_tvec) + m.translation, m.proj_tvec)


def test_file_without_model_loads_and_homography_is_used(tmp_path) -> None:
    cal = calibration(False)
    cal.save(tmp_path / "c.yaml")
    doc = yaml.safe_load((tmp_path / "c.yaml").read_text())
    assert "projector_model" not in doc
    back = Calibration.load(tmp_path / "c.yaml")
    assert not back.has_full_model
    assert np.allclose(back.bench_to_projector_at_height(np.array([[5.0, 7.0]]), 80.0), [[5.0, 7.0]])
    with pytest.raises(OssError, match="made for a 1280x800 projector"):
        Calibration.load(tmp_path / "c.yaml", projector_size=(1920, 1080))


def test_marker_layout_file(tmp_path) -> None:
    t = BenchTarget("DICT_4X4_50", (BenchMarker(40, 70, 70, 50), BenchMarker(41, 1130, 70, 50, 90)))
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(t.to_doc()))
    assert BenchTarget.load(tmp_path / "m.yaml") == t
    assert np.allclose(t.markers[0].corners_mm()[0], [45, 95])  # top-left corner: toward the back (+y)
    (tmp_path / "bad.yaml").write_text("markers: {40: [1, 2]}\n")
    with pytest.raises(OssError, match="ID: \\[x_mm, y_mm, size_mm\\]"):
        BenchTarget.load(tmp_path / "bad.yaml")
