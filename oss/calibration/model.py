"""Station calibration: how bench mm, camera px and projector px relate, and what the camera sees.

``cam_from_bench`` maps bench mm (z = 0) to *undistorted* camera px; ``camera_matrix`` and
``dist_coeffs`` then give the raw (distorted) pixel. ``proj_from_bench`` maps bench mm to projector px.
The radiometric model holds, in bench coordinates at ``radiometric_mm_per_px``, the camera's view of
the empty bench under a black and under a white projection: the expected view under any projected
image P (0..1) is ``black + (white - black) * P``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
import yaml

from oss.calibration.calfile import CALIBRATION_FORMAT, read_calibration
from oss.instructions.yamlnodes import path_state
from oss.records import OssError

__all__ = ["CALIBRATION_FORMAT", "Calibration", "ProjectorModel", "Radiometry", "distort_points"]


@dataclass(frozen=True, eq=False)
class Radiometry:
    mm_per_px: float
    black: np.ndarray  # float32 HxWx3, camera grey levels of the empty bench, projector black
    white: np.ndarray  # float32 HxWx3, projector full white


@dataclass(frozen=True, eq=False)
class ProjectorModel:
    """The full camera + projector model, for points above the bench (overlays on top of a product).

    Poses map bench mm (x, y, z up) into each device's coordinates: ``X_dev = R_dev · X_bench + t_dev``
    (``*_rvec`` Rodrigues vectors). ``rotation``/``translation`` give the projector relative to the camera
    (``X_proj = R · X_cam + T``, T in mm), as OpenCV's stereoCalibrate reports them.
    """

    projector_matrix: np.ndarray  # 3x3
    projector_dist: np.ndarray  # OpenCV distortion coefficients of the projector lens
    proj_rvec: np.ndarray  # 3, bench → projector
    proj_tvec: np.ndarray  # 3, mm
    cam_rvec: np.ndarray  # 3, bench → camera
    cam_tvec: np.ndarray  # 3, mm

    @property
    def rotation(self) -> np.ndarray:
        rp, _ = cv2.Rodrigues(np.asarray(self.proj_rvec, np.float64))
        rc, _ = cv2.Rodrigues(np.asarray(self.cam_rvec, np.float64))
        return np.asarray(rp @ rc.T)

    @property
    def translation(self) -> np.ndarray:
        return np.asarray(self.proj_tvec, np.float64) - self.rotation @ np.asarray(self.cam_tvec, np.float64)

    def projector_position_mm(self) -> np.ndarray:
        rp, _ = cv2.Rodrigues(np.asarray(self.proj_rvec, np.float64))
        return np.asarray(-rp.T @ np.asarray(self.proj_tvec, np.float64))

    def to_doc(self) -> dict[str, object]:
        return {
            "projector_matrix": np.asarray(self.projector_matrix).tolist(),
            "projector_dist": np.asarray(self.projector_dist).ravel().tolist(),
            "proj_rvec": np.asarray(self.proj_rvec).ravel().tolist(),
            "proj_tvec_mm": np.asarray(self.proj_tvec).ravel().tolist(),
            "cam_rvec": np.asarray(self.cam_rvec).ravel().tolist(),
            "cam_tvec_mm": np.asarray(self.cam_tvec).ravel().tolist(),
            "R": self.rotation.tolist(),
            "T_mm": self.translation.tolist(),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, object]) -> ProjectorModel:
        def arr(key: str, n: int | None = None) -> np.ndarray:
            a = np.array(doc[key], dtype=np.float64)
            return a.reshape(3, 3) if n == 9 else a.ravel()

        return cls(
            arr("projector_matrix", 9),
            arr("projector_dist"),
            arr("proj_rvec"),
            arr("proj_tvec_mm"),
            arr("cam_rvec"),
            arr("cam_tvec_mm"),
        )


@dataclass(frozen=True, eq=False)
class Calibration:
    camera_size: tuple[int, int]  # (width, height) px
    projector_size: tuple[int, int]
    bench_size_mm: tuple[float, float]
    cam_from_bench: np.ndarray  # 3x3 homography, bench mm → undistorted camera px
    proj_from_bench: np.ndarray  # 3x3 homography, bench mm → projector px
    camera_matrix: np.ndarray = field(default_factory=lambda: np.eye(3))
    dist_coeffs: np.ndarray = field(default_factory=lambda: np.zeros(5))
    radiometry: Radiometry | None = None
    source: str = ""
    projector_model: ProjectorModel | None = None  # full model, where the board was seen in 3+ poses
    report: dict[str, object] = field(default_factory=dict)  # how the calibration was made, its errors

    # --- mappings -------------------------------------------------------------------------------
    def bench_to_camera(self, pts_mm: np.ndarray) -> np.ndarray:
        """Bench mm (N×2) → raw camera px (N×2), lens distortion applied."""
        pts = np.asarray(pts_mm, dtype=np.float64).reshape(-1, 1, 2)
        und = cv2.perspectiveTransform(pts, self.cam_from_bench).reshape(-1, 2)
        return distort_points(und, self.camera_matrix, self.dist_coeffs)

    def bench_to_projector(self, pts_mm: np.ndarray) -> np.ndarray:
        pts = np.asarray(pts_mm, dtype=np.float64).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(pts, self.proj_from_bench).reshape(-1, 2)

    def bench_to_projector_at_height(self, pts_mm: np.ndarray, z_mm: float | np.ndarray) -> np.ndarray:
        """Points (N×2 bench mm) on a surface ``z_mm`` above the bench → projector px (N×2).

        Uses the full projector model when the calibration has one; without it only z = 0 is right,
        and the bench homography is used whatever ``z_mm`` is (see ``has_full_model``).
        """
        pts = np.asarray(pts_mm, dtype=np.float64).reshape(-1, 2)
        if self.projector_model is None:
            return self.bench_to_projector(pts)
        m = self.projector_model
        z = np.broadcast_to(np.asarray(z_mm, np.float64), (len(pts),))
        pts3 = np.column_stack([pts, z]).reshape(-1, 1, 3)
        rvec, tvec = np.asarray(m.proj_rvec, np.float64), np.asarray(m.proj_tvec, np.float64)
        k, dist = np.asarray(m.projector_matrix, np.float64), np.asarray(m.projector_dist, np.float64)
        out, _ = cv2.projectPoints(pts3, rvec, tvec, k, dist)
        return out.reshape(-1, 2)

    @property
    def has_full_model(self) -> bool:
        return self.projector_model is not None

    def camera_to_bench(self, pts_px: np.ndarray) -> np.ndarray:
        """Raw camera px (N×2) → bench mm (N×2)."""
        pts = np.asarray(pts_px, dtype=np.float64).reshape(-1, 1, 2)
        und = cv2.undistortPoints(pts, self.camera_matrix, self.dist_coeffs, P=self.camera_matrix)
        return cv2.perspectiveTransform(und, np.linalg.inv(self.cam_from_bench)).reshape(-1, 2)

    def rectify_maps(self, mm_per_px: float) -> tuple[np.ndarray, np.ndarray]:
        """cv2.remap maps that turn a raw camera frame into a top-down bench image at ``mm_per_px``.

        Pixel (u, v) of the bench image shows bench point ((u + 0.5)·s, (v + 0.5)·s).
        """
        w = round(self.bench_size_mm[0] / mm_per_px)
        h = round(self.bench_size_mm[1] / mm_per_px)
        u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
        pts = np.stack([(u + 0.5) * mm_per_px, (v + 0.5) * mm_per_px], axis=-1).reshape(-1, 2)
        cam = self.bench_to_camera(pts).reshape(h, w, 2).astype(np.float32)
        return cv2.convertMaps(cam[..., 0], cam[..., 1], cv2.CV_16SC2)

    # --- persistence ------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        path = Path(path)
        doc: dict[str, object] = {
            "format": CALIBRATION_FORMAT,
            "camera_size": list(self.camera_size),
            "projector_size": list(self.projector_size),
            "bench_size_mm": [float(x) for x in self.bench_size_mm],
            "cam_from_bench": self.cam_from_bench.tolist(),
            "proj_from_bench": self.proj_from_bench.tolist(),
            "camera_matrix": np.asarray(self.camera_matrix).tolist(),
            "dist_coeffs": np.asarray(self.dist_coeffs).ravel().tolist(),
        }
        if self.radiometry is not None:
            npz = path.with_suffix(".radiometry.npz")
            np.savez_compressed(npz, black=self.radiometry.black, white=self.radiometry.white)
            doc["radiometry"] = {"mm_per_px": self.radiometry.mm_per_px, "file": npz.name}
        if self.projector_model is not None:
            doc["projector_model"] = self.projector_model.to_doc()
        if self.report:
            doc["report"] = self.report
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text("# OSS station calibration\n" + yaml.safe_dump(doc, sort_keys=False))
        tmp.replace(path)

    @classmethod
    def load(
        cls,
        path: str | Path,
        camera_size: tuple[int, int] | None = None,
        projector_size: tuple[int, int] | None = None,
    ) -> Calibration:
        """Load a calibration file; if sizes are given they must match the file's."""
        path = Path(path)
        if path_state(path) == "missing":
            raise OssError(
                f"{path}: calibration file not found. Run 'oss calibrate' at the station, "
                "or pass --calibration with the right file."
            )
        doc = read_calibration(path)  # FileProblems (an OssError) with FILE:LINE:COL on any problem
        m = doc.projector_model
        cal = cls(
            camera_size=doc.camera_size,
            projector_size=doc.projector_size,
            bench_size_mm=doc.bench_size_mm,
            cam_from_bench=doc.cam_from_bench,
            proj_from_bench=doc.proj_from_bench,
            camera_matrix=doc.camera_matrix,
            dist_coeffs=doc.dist_coeffs,
            source=str(path),
            projector_model=(
                ProjectorModel(
                    m["projector_matrix"],
                    m["projector_dist"],
                    m["proj_rvec"],
                    m["proj_tvec_mm"],
                    m["cam_rvec"],
                    m["cam_tvec_mm"],
                )
                if m is not None
                else None
            ),
            report=doc.report,
        )
        if doc.radiometry is not None:
            mm, black, white = doc.radiometry
            cal = cal.with_radiometry(Radiometry(mm, black, white))
        if camera_size is not None and tuple(camera_size) != cal.camera_size:
            raise OssError(
                f"{path}: made for a {cal.camera_size[0]}x{cal.camera_size[1]} camera, but the camera delivers "
                f"{camera_size[0]}x{camera_size[1]}. Set the camera to the calibrated resolution or recalibrate."
            )
        if projector_size is not None and tuple(projector_size) != cal.projector_size:
            raise OssError(
                f"{path}: made for a {cal.projector_size[0]}x{cal.projector_size[1]} projector, but the display is "
                f"{projector_size[0]}x{projector_size[1]}. Use the calibrated display mode or recalibrate."
            )
        return cal

    def with_radiometry(self, radiometry: Radiometry) -> Calibration:
        return replace(self, radiometry=radiometry)


def distort_points(und_px: np.ndarray, k: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Apply lens distortion to undistorted pixel coordinates (N×2 → N×2)."""
    und_px = np.asarray(und_px, dtype=np.float64).reshape(-1, 2)
    if not np.any(np.asarray(dist)):
        return und_px.copy()
    fx, fy, cx, cy = k[0, 0], k[1, 1], k[0, 2], k[1, 2]
    norm = np.stack([(und_px[:, 0] - cx) / fx, (und_px[:, 1] - cy) / fy, np.ones(len(und_px))], axis=-1)
    out, _ = cv2.projectPoints(
        norm.reshape(-1, 1, 3), np.zeros(3), np.zeros(3), k, np.asarray(dist, np.float64)
    )
    return out.reshape(-1, 2)
