"""Camera and camera↔projector calibration on real photos in ../shared/data (see its README)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from oss.calibration.boards import BoardSpec
from oss.calibration.graycode import GrayCode
from oss.calibration.intrinsics import calibrate_camera_files
from oss.calibration.procam import calibrate_procam_dirs, read_capture_dir
from oss.records import OssError
from tests.conftest import SHARED_DATA

CHESS = SHARED_DATA / "chessboard"
CHARUCO = SHARED_DATA / "charuco"
PROCAM = SHARED_DATA / "procam"


def reference(path) -> tuple[np.ndarray, np.ndarray]:
    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    k, d = fs.getNode("camera_matrix").mat(), fs.getNode("distortion_coefficients").mat()
    fs.release()
    return k, d


def within(k: np.ndarray, ref: np.ndarray, tol: float) -> None:
    for i, j in ((0, 0), (1, 1), (0, 2), (1, 2)):
        assert abs(k[i, j] - ref[i, j]) <= tol * ref[i, j], (i, j, k[i, j], ref[i, j])


def test_chessboard_intrinsics_within_1_percent_of_opencv() -> None:
    res = calibrate_camera_files(sorted(CHESS.glob("left[0-9]*.jpg")), BoardSpec.parse("chessboard:9x6:25"))
    within(res.camera_matrix, reference(CHESS / "left_intrinsics.yml")[0], 0.01)
    assert len(res.views) == 13 and res.rms_px < 0.5
    assert all(v.rms_px < 1.5 for v in res.views)


def test_charuco_intrinsics_within_3_percent_of_tutorial() -> None:
    res = calibrate_camera_files(
        sorted(CHARUCO.glob("img_*.jpg")), BoardSpec.parse("charuco:5x7:40:20:DICT_6X6_250")
    )
    within(res.camera_matrix, reference(CHARUCO / "tutorial_camera_charuco.yml")[0], 0.03)
    assert [v.corners for v in res.views] == [24, 24, 24, 24]


def test_wrong_board_says_which_images_and_too_few_views() -> None:
    files = sorted(CHESS.glob("left0[1-4].jpg"))
    with pytest.raises(OssError, match=r"too few views.*left01\.jpg: board chessboard:11x8:25 not found"):
        calibrate_camera_files(files, BoardSpec.parse("chessboard:11x8:25"))


@pytest.fixture(scope="module")
def procam():
    code = GrayCode((1024, 768), 1, 40, 5)
    dirs = [PROCAM / f"capture_{i}" for i in range(3)]
    return calibrate_procam_dirs(dirs, BoardSpec.parse("chessboard:9x7:75"), code)


def test_procam_homography_per_capture(procam) -> None:
    results, _, size = procam
    assert size == (1280, 1024)
    for r in results:
        assert r.corners_total == 63 and len(r.corner_ids) == 63
        assert r.rms_px <= 0.3, r.name


def test_procam_projector_calibration_from_three_captures(procam) -> None:
    _, stereo, _ = procam
    assert stereo is not None
    assert stereo.projector_rms_px <= 0.5 and stereo.camera_rms_px <= 0.5 and stereo.stereo_rms_px <= 0.5
    # the projector sits beside the camera, some 60 cm away: a sanity bound on the geometry
    assert 400 < np.linalg.norm(stereo.translation) < 1000


def test_dense_decoding_agrees_with_getprojpixel() -> None:
    code = GrayCode((1024, 768), 1, 40, 5)
    caps = read_capture_dir(PROCAM / "capture_1", code)
    pp, ok = code.decode_dense(caps)
    rng = np.random.default_rng(3)
    px = np.column_stack([rng.integers(0, 1280, 1500), rng.integers(0, 1024, 1500)])
    got, valid = code.decode_pixels(caps, px)
    assert valid.sum() > 300
    assert np.array_equal(valid, ok[px[:, 1], px[:, 0]])
    assert np.array_equal(got[valid], pp[px[valid, 1], px[valid, 0]])


def test_generated_patterns_match_the_projected_ones() -> None:
    images = GrayCode((1024, 768)).images()
    for i in (0, 7, 39, 40, 41):
        ref = cv2.imread(str(PROCAM / "graycode_pattern" / f"pattern_{i:02d}.png"), cv2.IMREAD_GRAYSCALE)
        assert np.array_equal(images[i], ref), i


def test_capture_folder_with_wrong_projector_size() -> None:
    with pytest.raises(OssError, match=r"needs 44 .*--projector-size"):
        read_capture_dir(PROCAM / "capture_0", GrayCode((1280, 800)))
