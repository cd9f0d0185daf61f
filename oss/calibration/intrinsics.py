"""Camera intrinsics and lens distortion from photos of a printed chessboard or ChArUco board."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from oss.calibration.boards import BoardSpec, BoardView, find_board
from oss.records import OssError

MIN_VIEWS = 3


@dataclass(frozen=True)
class ViewResult:
    name: str
    corners: int
    rms_px: float


@dataclass(frozen=True, eq=False)
class CameraIntrinsics:
    """The result of ``calibrate_camera``: ``rms_px`` over all corners, ``views`` per image,
    ``skipped`` the images where the board was not found (name, reason)."""

    image_size: tuple[int, int]  # (width, height) px
    camera_matrix: np.ndarray
    dist_coeffs: np.ndarray
    rms_px: float
    board: str
    views: tuple[ViewResult, ...]
    skipped: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        k = self.camera_matrix
        return {
            "image_size": list(self.image_size),
            "board": self.board,
            "rms_px": round(self.rms_px, 4),
            "fx": float(k[0, 0]),
            "fy": float(k[1, 1]),
            "cx": float(k[0, 2]),
            "cy": float(k[1, 2]),
            "camera_matrix": k.tolist(),
            "dist_coeffs": np.asarray(self.dist_coeffs).ravel().tolist(),
            "views": [
                {"image": v.name, "corners": v.corners, "rms_px": round(v.rms_px, 4)} for v in self.views
            ],
            "skipped": [{"image": n, "reason": r} for n, r in self.skipped],
        }


def read_image(path: str | Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise OssError(f"{path}: cannot read this image (missing, or not a PNG/JPEG/BMP/TIFF file)")
    return img


def view_points(spec: BoardSpec, view: BoardView) -> tuple[np.ndarray, np.ndarray]:
    """(object points N×1×3 float32, image points N×1×2 float32) for OpenCV's calibration functions."""
    obj = spec.object_points()[view.ids]
    return obj.reshape(-1, 1, 3).astype(np.float32), view.image_px.reshape(-1, 1, 2).astype(np.float32)


def calibrate_camera(
    images: Sequence[tuple[str, np.ndarray]], spec: BoardSpec, flags: int = 0, min_corners: int = 8
) -> CameraIntrinsics:
    """Calibrate from (name, image) pairs. Raises OssError when fewer than 3 images show the board."""
    if not images:
        raise OssError("no images given: pass the photos of the calibration board")
    size = images[0][1].shape[1::-1]
    found: list[tuple[str, BoardView]] = []
    skipped: list[tuple[str, str]] = []
    for name, img in images:
        if img.shape[1::-1] != size:
            raise OssError(
                f"{name}: {img.shape[1]}x{img.shape[0]} px, but {images[0][0]} is {size[0]}x{size[1]}: "
                "all photos must come from the same camera at the same resolution"
            )
        view = find_board(img, spec, min_corners)
        if view is None or view.count < min_corners:
            reason = f"board {spec} not found" if view is None else f"only {view.count} corners found"
            skipped.append((name, reason))
            continue
        found.append((name, view))
    if len(found) < MIN_VIEWS:
        where = "; ".join(f"{n}: {r}" for n, r in skipped) or "none"
        raise OssError(
            f"too few views: the board {spec} was found in {len(found)} of {len(images)} images, at least "
            f"{MIN_VIEWS} are needed (skipped: {where}). Check the board spec "
            "(chessboard counts inner corners, "
            "charuco counts squares) and take more photos with the whole board sharp and in view."
        )
    obj, img_pts = zip(*(view_points(spec, v) for _, v in found), strict=True)
    rms, k, dist, rvecs, tvecs = cv2.calibrateCamera(  # type: ignore[call-overload]
        list(obj), list(img_pts), tuple(size), None, None, flags=flags
    )
    views = []
    for (name, v), o, ip, r, t in zip(found, obj, img_pts, rvecs, tvecs, strict=True):
        proj, _ = cv2.projectPoints(o, r, t, k, dist)
        err = float(np.sqrt(np.mean(np.sum((proj - ip).reshape(-1, 2) ** 2, axis=1))))
        views.append(ViewResult(name, v.count, err))
    return CameraIntrinsics(
        (int(size[0]), int(size[1])), k, dist.ravel(), float(rms), str(spec), tuple(views), tuple(skipped)
    )


def calibrate_camera_files(paths: Sequence[str | Path], spec: BoardSpec, flags: int = 0) -> CameraIntrinsics:
    return calibrate_camera([(str(p), read_image(p)) for p in paths], spec, flags)
