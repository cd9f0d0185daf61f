"""Camera ↔ projector calibration from Gray-code captures of a printed board.

For each capture (the camera's views of all Gray-code images projected onto a board), the board corners
are found in the white view, and each corner is mapped to projector px through a homography fitted to
the decoded pixels around it (the black squares do not decode; the white ones around the corner do).
Per capture that gives the camera→projector homography of the board plane and its residual; with three
poses or more, the camera and the projector are calibrated as a stereo pair (the projector as an inverse
camera).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from oss.calibration.boards import BoardSpec, find_board
from oss.calibration.graycode import GrayCode
from oss.calibration.intrinsics import read_image
from oss.records import OssError

MIN_POSES = 3
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True, eq=False)
class CaptureResult:
    """One board pose: corners in camera px, their decoded projector px, and the board-plane homography."""

    name: str
    corner_ids: np.ndarray  # int N, index BoardSpec.object_points()
    camera_px: np.ndarray  # N×2 raw camera px
    projector_px: np.ndarray  # N×2 projector px
    cam_to_proj: np.ndarray  # 3×3 homography raw camera px → projector px of the board plane
    rms_px: float  # projector px
    corners_total: int

    def to_dict(self) -> dict[str, object]:
        return {
            "capture": self.name,
            "corners": self.corners_total,
            "corners_decoded": len(self.corner_ids),
            "cam_to_proj_homography": self.cam_to_proj.tolist(),
            "homography_rms_proj_px": round(self.rms_px, 4),
        }


@dataclass(frozen=True, eq=False)
class StereoResult:
    """Camera and projector as a stereo pair: a board point X in camera coordinates is at R·X + T for the
    projector (OpenCV's stereoCalibrate convention), T in board units (mm)."""

    camera_matrix: np.ndarray
    camera_dist: np.ndarray
    camera_rms_px: float
    projector_matrix: np.ndarray
    projector_dist: np.ndarray
    projector_rms_px: float
    rotation: np.ndarray  # 3×3
    translation: np.ndarray  # 3, mm
    stereo_rms_px: float

    def to_dict(self) -> dict[str, object]:
        return {
            "camera_matrix": self.camera_matrix.tolist(),
            "camera_dist_coeffs": self.camera_dist.ravel().tolist(),
            "camera_rms_px": round(self.camera_rms_px, 4),
            "projector_matrix": self.projector_matrix.tolist(),
            "projector_dist_coeffs": self.projector_dist.ravel().tolist(),
            "projector_rms_px": round(self.projector_rms_px, 4),
            "R": self.rotation.tolist(),
            "T_mm": self.translation.ravel().tolist(),
            "stereo_rms_px": round(self.stereo_rms_px, 4),
        }


def corner_to_projector(
    pp: np.ndarray, ok: np.ndarray, corner: np.ndarray, radius: int
) -> tuple[np.ndarray, int] | None:
    """Projector px of camera point ``corner`` from a homography fitted to decoded pixels around it.

    ``pp``/``ok`` are ``GrayCode.decode_dense`` maps. Returns (projector px, samples used) or None.
    """
    h, w = ok.shape
    for r in (radius, radius * 2):
        x0, y0 = max(int(corner[0]) - r, 0), max(int(corner[1]) - r, 0)
        x1, y1 = min(int(corner[0]) + r + 1, w), min(int(corner[1]) + r + 1, h)
        sub = ok[y0:y1, x0:x1]
        ys, xs = np.nonzero(sub)
        if len(xs) < 24:
            continue
        cam = np.column_stack([xs + x0, ys + y0]).astype(np.float64)
        proj = pp[ys + y0, xs + x0].astype(np.float64)
        hom, inl = cv2.findHomography(cam, proj, cv2.RANSAC, 1.5)
        if hom is None or int(inl.sum()) < 16:
            continue
        sel = inl.ravel().astype(bool)
        hom, _ = cv2.findHomography(cam[sel], proj[sel], 0)
        if hom is None:
            continue
        return cv2.perspectiveTransform(corner.reshape(1, 1, 2).astype(np.float64), hom).reshape(2), int(
            sel.sum()
        )
    return None


def homography_rms(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares homography src → dst and its RMS residual in dst units."""
    hom, _ = cv2.findHomography(src, dst, 0)
    if hom is None:
        raise OssError("cannot fit a homography: the points are degenerate (all on a line?)")
    fit = cv2.perspectiveTransform(src.reshape(-1, 1, 2), hom).reshape(-1, 2)
    return hom, float(np.sqrt(np.mean(np.sum((fit - dst) ** 2, axis=1))))


def decode_capture(
    name: str, captures: Sequence[np.ndarray], spec: BoardSpec, code: GrayCode, radius: int = 12
) -> CaptureResult:
    """Find the board in the white view, decode every corner to projector px, fit the homography."""
    view = find_board(captures[-2], spec)
    if view is None:
        raise OssError(
            f"{name}: board {spec} not found in the white view "
            f"(image {code.image_count - 2} of the capture). "
            "Check --board (a chessboard counts inner corners) and that the board is lit and in view."
        )
    pp, ok = code.decode_dense(captures)
    ids, cam, proj = [], [], []
    for i, c in zip(view.ids, view.image_px, strict=True):
        got = corner_to_projector(pp, ok, c, radius)
        if got is not None:
            ids.append(i)
            cam.append(c)
            proj.append(got[0])
    if len(ids) < 4:
        raise OssError(
            f"{name}: only {len(ids)} of {view.count} board corners decode to projector px. Is the projector "
            "lighting the board? Try a lower --black-threshold or --white-threshold, or a darker room."
        )
    cam_a, proj_a = np.array(cam), np.array(proj)
    hom, rms = homography_rms(cam_a, proj_a)
    return CaptureResult(name, np.array(ids, int), cam_a, proj_a, hom, rms, view.count)


def read_capture_dir(path: str | Path, code: GrayCode) -> list[np.ndarray]:
    """The capture folder's images in name order (pattern images last: white, then black)."""
    folder = Path(path)
    if not folder.is_dir():
        raise OssError(f"{folder}: not a folder of captures")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if len(files) != code.image_count:
        raise OssError(
            f"{folder}: holds {len(files)} images, but a {code.projector_size[0]}x{code.projector_size[1]} "
            f"projector with --graycode-step {code.step} needs {code.image_count} "
            f"({code.bit_images} bit planes, white, black). "
            "Check --projector-size and --graycode-step."
        )
    return [cv2.cvtColor(read_image(p), cv2.COLOR_BGR2GRAY) for p in files]


View = tuple[np.ndarray, np.ndarray, np.ndarray]  # object points N×3 (mm), camera px N×2, projector px N×2
PINHOLE_PROJECTOR = cv2.CALIB_FIX_K3 | cv2.CALIB_ZERO_TANGENT_DIST


def stereo_calibrate(
    results: Sequence[CaptureResult],
    spec: BoardSpec,
    camera_size: tuple[int, int],
    projector_size: tuple[int, int],
    extra_views: Sequence[View] = (),
    camera_flags: int = 0,
    projector_flags: int = 0,
) -> StereoResult:
    """Calibrate camera and projector from ≥ 3 board poses (plus ``extra_views`` of other known points,
    such as the bench markers), then refine both and their relative pose together."""
    if len(results) < MIN_POSES:
        raise OssError(
            f"{len(results)} board pose(s) given; a projector calibration needs at least {MIN_POSES} poses "
            "of the board at different angles"
        )
    obj_all = spec.object_points()
    obj = [obj_all[r.corner_ids].reshape(-1, 1, 3).astype(np.float32) for r in results]
    cam = [r.camera_px.reshape(-1, 1, 2).astype(np.float32) for r in results]
    proj = [r.projector_px.reshape(-1, 1, 2).astype(np.float32) for r in results]
    for o, c, p in extra_views:
        obj.append(np.asarray(o, np.float32).reshape(-1, 1, 3))
        cam.append(np.asarray(c, np.float32).reshape(-1, 1, 2))
        proj.append(np.asarray(p, np.float32).reshape(-1, 1, 2))
    c_rms, kc, dc, _, _ = cv2.calibrateCamera(obj, cam, camera_size, None, None, flags=camera_flags)  # type: ignore[call-overload]
    p_rms, kp, dp, _, _ = cv2.calibrateCamera(obj, proj, projector_size, None, None, flags=projector_flags)  # type: ignore[call-overload]
    crit = (cv2.TERM_CRITERIA_COUNT + cv2.TERM_CRITERIA_EPS, 200, 1e-9)
    flags = cv2.CALIB_USE_INTRINSIC_GUESS | camera_flags | projector_flags  # stereo applies them to both
    s_rms, kc, dc, kp, dp, r, t, _, _ = cv2.stereoCalibrate(
        obj, cam, proj, kc, dc, kp, dp, camera_size, flags=flags, criteria=crit
    )
    return StereoResult(
        kc, dc.ravel(), float(c_rms), kp, dp.ravel(), float(p_rms), r, t.ravel(), float(s_rms)
    )


def calibrate_procam_dirs(
    dirs: Sequence[str | Path], spec: BoardSpec, code: GrayCode
) -> tuple[list[CaptureResult], StereoResult | None, tuple[int, int]]:
    """The offline command's work: decode each capture folder; with ≥ 3, also the stereo calibration."""
    results = []
    camera_size: tuple[int, int] | None = None
    for d in dirs:
        caps = read_capture_dir(d, code)
        size = (int(caps[0].shape[1]), int(caps[0].shape[0]))
        if camera_size is not None and size != camera_size:
            raise OssError(
                f"{d}: images are {size[0]}x{size[1]}, the first capture's {camera_size[0]}x{camera_size[1]}"
            )
        camera_size = size
        results.append(decode_capture(str(d), caps, spec, code))
    assert camera_size is not None
    stereo = (
        stereo_calibrate(results, spec, camera_size, code.projector_size)
        if len(results) >= MIN_POSES
        else None
    )
    return results, stereo, camera_size
