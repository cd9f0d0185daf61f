"""The at-station procedure and the drift check on the virtual bench, against its true geometry."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from oss.calibration.bench_target import default_target
from oss.calibration.boards import BoardSpec
from oss.calibration.drift import DriftMonitor
from oss.calibration.model import Calibration
from oss.calibration.station import Progress, StationCalibrator, StationSetup, save_versioned
from oss.calibration.virtual import VirtualStation, overlay_error_mm, with_bench_markers
from oss.records import OssError
from oss.sim.bench import VirtualBench
from oss.sim.scenario import Deviation, load_scenario

BOARD = BoardSpec.parse("chessboard:9x6:40")


def make_bench(deviations: tuple[Deviation, ...] = ()) -> tuple[VirtualBench, object]:
    sc = load_scenario("led_basic")
    ins = sc.load_instruction()
    target = default_target((ins.bench.width_mm, ins.bench.depth_mm))
    sc = dataclasses.replace(sc, deviations=deviations)
    return VirtualBench(sc, with_bench_markers(ins, target)), target


@pytest.fixture(scope="module")
def calibrated():
    bench, target = make_bench()
    station = VirtualStation(bench, BOARD)
    seen: list[Progress] = []
    setup = StationSetup(bench.camera_size, bench.projector_size, (1200.0, 700.0), target, BOARD, 3)
    result = StationCalibrator(setup, station.project, station.capture, station.prompt, seen.append).run()
    return bench, result, seen


def test_bench_to_projector_accuracy(calibrated) -> None:
    bench, result, _ = calibrated
    rms, worst = overlay_error_mm(result.calibration, bench, 0.0, full_model=False)
    assert rms <= 0.5 and worst <= 1.5
    assert result.report["projector_rms_mm"] <= 1.0 and result.report["markers_missing"] == []


def test_overlay_at_80_mm_needs_the_full_model(calibrated) -> None:
    bench, result, _ = calibrated
    cal = result.calibration
    assert cal.has_full_model
    rms, worst = overlay_error_mm(cal, bench, 80.0, full_model=True)
    assert worst <= 1.5
    h_rms, h_worst = overlay_error_mm(cal, bench, 80.0, full_model=False)
    assert h_worst > 20.0 and h_rms > 10.0  # the bench homography alone misses by tens of mm


def test_camera_mapping_and_radiometry(calibrated) -> None:
    bench, result, _ = calibrated
    cal, true = result.calibration, bench.true_calibration()
    g = np.stack(np.meshgrid(np.linspace(50, 1150, 12), np.linspace(50, 650, 7)), -1).reshape(-1, 2)
    assert np.abs(cal.bench_to_camera(g) - true.bench_to_camera(g)).max() < 1.5
    rad = cal.radiometry
    assert rad is not None and float(np.median(rad.white - rad.black)) > 30


def test_progress_saves_versioned_and_reloads(calibrated, tmp_path) -> None:
    _, result, seen = calibrated
    stages = [p.stage for p in seen]
    assert stages[0] == "board_pose_1" and "bench" in stages and stages[-1] == "done"
    assert result.verification_image.shape == (800, 1280, 3) and result.verification_image.max() > 200
    p1 = save_versioned(result.calibration, tmp_path, "station")
    p2 = save_versioned(result.calibration, tmp_path, "station")
    assert (p1.name, p2.name) == ("station-v001.yaml", "station-v002.yaml")
    back = Calibration.load(p2, (1280, 720), (1280, 800))
    assert back.has_full_model and back.radiometry is not None
    pts = np.array([[300.0, 200.0]])
    assert np.allclose(
        back.bench_to_projector_at_height(pts, 80), result.calibration.bench_to_projector_at_height(pts, 80)
    )


def test_missing_markers_is_a_clear_error() -> None:
    bench, target = make_bench()
    other = dataclasses.replace(
        target, markers=tuple(dataclasses.replace(m, id=m.id + 5) for m in target.markers)
    )
    station = VirtualStation(bench)
    setup = StationSetup(bench.camera_size, bench.projector_size, (1200.0, 700.0), other, graycode_step=4)
    with pytest.raises(OssError, match=r"only 0 of 5 bench markers seen \(missing ids \[45, 46"):
        StationCalibrator(setup, station.project, station.capture).run()


def test_camera_bump_of_3_mm_is_detected_within_a_second() -> None:
    bump_at = 1.5
    bench, target = make_bench((Deviation("bump_camera", at_s=bump_at, params=(("dx_mm", 3.0),)),))
    monitor = DriftMonitor(bench.true_calibration(), target, threshold_mm=2.0)
    warnings = []
    while bench.t < bump_at + 1.5:
        frame = bench.next_frame(None)
        w = monitor.check(frame.image, frame.t)
        if w is not None:
            warnings.append(w)
    assert len(warnings) == 1, warnings
    w = warnings[0]
    assert not w.ok and bump_at <= w.t <= bump_at + 1.0
    assert 2.5 < w.shift_mm < 3.5 and "recalibrate" in w.message
