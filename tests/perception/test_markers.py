"""Fixture poses from ArUco markers: synthetic bench and a real photo."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from oss.calibration.model import Calibration
from oss.instructions.model import Fixture
from oss.perception.markers import MarkerTracker, pose_from_corners
from tests.perception import builders as b

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "charuco"


def jig(x: float = 600.0, y: float = 250.0) -> dict[str, Fixture]:
    return {"jig": Fixture("jig", 7, 40.0, "DICT_4X4_50", x, y, 0.0)}


def test_pose_from_corners_angle_follows_the_marker_x_axis() -> None:
    sq = np.array([[-20, -20], [20, -20], [20, 20], [-20, 20]], float)
    a = np.radians(30)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    p = pose_from_corners(sq @ r.T + (100, 50), "jig")
    assert (round(p.x_mm, 6), round(p.y_mm, 6), round(p.angle_deg, 6)) == (100.0, 50.0, 30.0)


@pytest.mark.parametrize("pose", [(600.0, 250.0, 0.0), (655.0, 230.0, 12.0), (420.0, 400.0, -35.0)])
def test_marker_pose_in_bench_mm(pose: tuple[float, float, float]) -> None:
    bench = b.SyntheticBench()
    bench.place_marker(7, *pose[:2], 40.0, pose[2])
    tr = MarkerTracker(jig(), b.calibration())
    (p,) = tr.update(bench.camera_image(None))
    assert abs(p.x_mm - pose[0]) < 1.5 and abs(p.y_mm - pose[1]) < 1.5
    assert abs(p.angle_deg - pose[2]) < 1.5


def test_tracking_follows_a_moved_jig_and_holds_a_covered_marker() -> None:
    cal = b.calibration()
    tr = MarkerTracker(jig(), cal, full_every=5)
    bench = b.SyntheticBench()
    bench.place_marker(7, 600.0, 250.0, 40.0)
    tr.update(bench.camera_image(None))
    assert tr._roi() is not None  # tracked: next search in a region only
    moved = b.SyntheticBench()
    moved.place_marker(7, 640.0, 270.0, 40.0, 5.0)
    (p,) = tr.update(moved.camera_image(None))
    assert abs(p.x_mm - 640.0) < 1.5 and abs(p.angle_deg - 5.0) < 1.5
    covered = moved.camera_image(None, arms=[b.arm(640, (640, 320), width=120)])
    (held,) = tr.update(covered)
    assert held == p and not tr.seen["jig"]
    far = b.SyntheticBench()
    far.place_marker(7, 200.0, 500.0, 40.0)  # carried off while covered: found again by a full search
    img = far.camera_image(None)
    found = [tr.update(img)[0] for _ in range(6)]
    assert abs(found[-1].x_mm - 200.0) < 1.5 and tr.seen["jig"]


@pytest.mark.skipif(not (REAL / "choriginal.jpg").exists(), reason="shared real data not present")
def test_real_photo_markers_are_found() -> None:
    img = cv2.imread(str(REAL / "choriginal.jpg"))
    h, w = img.shape[:2]
    cal = Calibration((w, h), (w, h), (float(w), float(h)), np.eye(3), np.eye(3))
    d = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_6X6_250))
    _, ids, _ = d.detectMarkers(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    assert ids is not None and len(ids) == 17
    fixtures = {f"m{i}": Fixture(f"m{i}", int(i), 20.0, "DICT_6X6_250") for i in ids.ravel()[:5]}
    tr = MarkerTracker(fixtures, cal)
    poses = tr.update(img)
    assert {p.fixture for p in poses} == set(fixtures)
    again = {p.fixture: p for p in tr.update(img)}  # now searched in the region around them only
    assert tr._roi() is not None
    for p in poses:
        assert abs(again[p.fixture].x_mm - p.x_mm) < 0.5
