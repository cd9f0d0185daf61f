"""Calibration at the station: the projector shows Gray-code patterns, the camera captures them.

The procedure, driven by ``project(image)`` and ``capture() -> frame`` callables (a real projector and
camera, or the virtual bench)::

    [board poses 1..N]  technician holds the printed board; Gray code on it → camera + projector model
          │             (skipped when N = 0: then only the bench plane is calibrated)
    clear bench         Gray code on the empty bench; bench markers found in the white view
          │             each marker corner → camera px and (decoded) projector px
    bench frame         proj_from_bench (homography from the marker corners), cam_from_bench,
          │             with a full model also both devices' poses in bench mm
    radiometry          black and white projections (oss.calibration.radiometry)
          │
    verification grid   projected for the technician to check with a ruler

Errors are reported in projector px and bench mm; the result is saved as a versioned YAML file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from oss.calibration.bench_target import BenchTarget, MarkerFinder
from oss.calibration.boards import BoardSpec
from oss.calibration.graycode import GrayCode
from oss.calibration.model import Calibration, ProjectorModel
from oss.calibration.procam import (
    PINHOLE_PROJECTOR,
    CaptureResult,
    corner_to_projector,
    decode_capture,
    stereo_calibrate,
)
from oss.calibration.radiometry import measure_radiometry
from oss.records import OssError

Project = Callable[[np.ndarray], None]
Capture = Callable[[], np.ndarray]
Prompt = Callable[[str, str], None]


@dataclass(frozen=True)
class Progress:
    stage: str  # "board_pose_K", "bench", "radiometry", "verify", "done"
    done: int
    total: int
    message: str


@dataclass(frozen=True, eq=False)
class StationSetup:
    camera_size: tuple[int, int]
    projector_size: tuple[int, int]
    bench_size_mm: tuple[float, float]
    target: BenchTarget
    board: BoardSpec | None = None
    board_poses: int = 0  # 0: bench plane only; ≥ 3: full camera + projector model
    graycode_step: int = 1
    black_threshold: int = 20
    white_threshold: int = 5
    frames_per_pattern: int = 1
    camera_matrix: np.ndarray | None = None  # intrinsics from 'oss calibrate camera', if no board poses
    dist_coeffs: np.ndarray | None = None
    radiometry_mm_per_px: float = 2.0
    grid_mm: float = 100.0
    projector_flags: int = PINHOLE_PROJECTOR  # OpenCV calibration flags for the projector lens model


@dataclass(frozen=True, eq=False)
class StationResult:
    calibration: Calibration
    report: dict[str, object]
    verification_image: np.ndarray
    poses: tuple[CaptureResult, ...] = field(default=())


class StationCalibrator:
    """Runs the procedure of the module docstring. ``prompt(step, message)`` must return once the
    technician has done what ``message`` asks (e.g. placed the board); ``progress`` gets each stage."""

    def __init__(
        self,
        setup: StationSetup,
        project: Project,
        capture: Capture,
        prompt: Prompt | None = None,
        progress: Callable[[Progress], None] | None = None,
    ):
        if setup.board_poses and setup.board is None:
            raise OssError(
                "board poses asked for but no board given: pass --board chessboard:COLSxROWS:SQUARE_MM"
            )
        if 0 < setup.board_poses < 3:
            raise OssError(
                f"{setup.board_poses} board poses: a projector model needs 3 or more (or 0 for bench only)"
            )
        self.setup = setup
        self._project, self._capture = project, capture
        self._prompt = prompt or (lambda step, msg: None)
        self._progress = progress or (lambda p: None)
        self.code = GrayCode(
            setup.projector_size, setup.graycode_step, setup.black_threshold, setup.white_threshold
        )

    # --- building blocks ------------------------------------------------------------------------
    def grab(self) -> np.ndarray:
        frames = [self._capture() for _ in range(max(1, self.setup.frames_per_pattern))]
        if frames[0].shape[1::-1] != tuple(self.setup.camera_size):
            raise OssError(
                f"the camera delivers {frames[0].shape[1]}x{frames[0].shape[0]}, the setup says "
                f"{self.setup.camera_size[0]}x{self.setup.camera_size[1]}: set the camera resolution"
            )
        if len(frames) == 1:
            return frames[0]
        return np.clip(np.mean(frames, axis=0) + 0.5, 0, 255).astype(np.uint8)

    def scan(self, stage: str) -> list[np.ndarray]:
        """Project every Gray-code image and capture the camera's view of each (grey)."""
        images = self.code.images()
        out = []
        for i, img in enumerate(images):
            self._project(img)
            frame = self.grab()
            out.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame)
            self._progress(Progress(stage, i + 1, len(images), f"{stage}: pattern {i + 1} of {len(images)}"))
        return out

    # --- the procedure --------------------------------------------------------------------------
    def run(self) -> StationResult:
        s = self.setup
        poses: list[CaptureResult] = []
        for k in range(s.board_poses):
            step = f"board_pose_{k + 1}"
            self._prompt(
                step,
                f"Hold the printed board in pose {k + 1} of {s.board_poses}: tilted differently "
                "each time, all of it in the light, then confirm.",
            )
            caps = self.scan(step)
            assert s.board is not None
            try:
                poses.append(decode_capture(f"pose {k + 1}", caps, s.board, self.code))
            except OssError as e:
                raise OssError(
                    f"board pose {k + 1}: {e}. Hold the board flatter to the camera and repeat."
                ) from e
        self._prompt("clear_bench", "Take everything off the bench except the bench markers, then confirm.")
        caps = self.scan("bench")
        finder = MarkerFinder(s.target)
        found = finder.find(caps[-2])
        if len(found) < 2:
            missing = sorted(set(s.target.by_id) - set(found))
            raise OssError(
                f"only {len(found)} of {len(s.target.markers)} bench markers seen (missing ids {missing}). "
                "Are they "
                "on the bench, uncovered, and in the camera's view? Check the marker layout file."
            )
        mm, cam_px, ids = finder.correspondences(found)
        pp, ok = self.code.decode_dense(caps)
        proj_px, keep = [], []
        for j, c in enumerate(cam_px):
            got = corner_to_projector(pp, ok, c, 10)
            if got is not None:
                proj_px.append(got[0])
                keep.append(j)
        if len(keep) < 4:
            raise OssError(
                "the projector light is not decoded at the bench markers: is the projector on and "
                "aimed at the bench? Lower the room light or the black threshold."
            )
        mm_k, proj_k = mm[keep], np.array(proj_px)
        stereo = None
        if poses:
            assert s.board is not None
            bench_view = (np.column_stack([mm_k, np.zeros(len(mm_k))]), cam_px[keep], proj_k)
            stereo = stereo_calibrate(
                poses,
                s.board,
                s.camera_size,
                s.projector_size,
                [bench_view],
                projector_flags=s.projector_flags,
            )
        if stereo is not None:
            k_cam, d_cam = stereo.camera_matrix, stereo.camera_dist
        elif s.camera_matrix is not None:
            k_cam = np.asarray(s.camera_matrix, np.float64)
            d_cam = np.zeros(5) if s.dist_coeffs is None else np.asarray(s.dist_coeffs, np.float64).ravel()
        else:
            k_cam, d_cam = None, None
        proj_from_bench, _ = cv2.findHomography(mm_k, proj_k, 0)
        cam_from_bench, cam_rvec, cam_tvec = _camera_pose(mm, cam_px, k_cam, d_cam)

        model = None
        if stereo is not None:
            obj = np.column_stack([mm_k, np.zeros(len(mm_k))])
            ok_p, p_rvec, p_tvec = cv2.solvePnP(
                obj, proj_k, stereo.projector_matrix, stereo.projector_dist, flags=cv2.SOLVEPNP_ITERATIVE
            )
            if not ok_p:
                raise OssError(
                    "cannot place the projector relative to the bench markers; repeat the calibration"
                )
            assert cam_rvec is not None and cam_tvec is not None
            model = ProjectorModel(
                stereo.projector_matrix,
                stereo.projector_dist,
                p_rvec.ravel(),
                p_tvec.ravel(),
                cam_rvec,
                cam_tvec,
            )
        cal = Calibration(
            camera_size=s.camera_size,
            projector_size=s.projector_size,
            bench_size_mm=s.bench_size_mm,
            cam_from_bench=cam_from_bench,
            proj_from_bench=proj_from_bench / proj_from_bench[2, 2],
            camera_matrix=np.eye(3) if k_cam is None else k_cam,
            dist_coeffs=np.zeros(5) if d_cam is None else d_cam,
            projector_model=model,
        )
        report = _bench_report(cal, mm, cam_px, mm_k, proj_k, found, s.target)
        report["markers_decoded_corners"] = len(keep)
        if stereo is not None:
            report.update(
                {
                    "board_poses": len(poses),
                    "pose_homography_rms_proj_px": [round(p.rms_px, 4) for p in poses],
                    "model_camera_rms_px": round(stereo.camera_rms_px, 4),
                    "model_projector_rms_px": round(stereo.projector_rms_px, 4),
                    "model_stereo_rms_px": round(stereo.stereo_rms_px, 4),
                }
            )

        self._progress(Progress("radiometry", 0, 1, "radiometry: black and white projections"))

        def rad_capture(pattern: np.ndarray) -> np.ndarray:
            self._project(pattern)
            return self.grab()

        cal = cal.with_radiometry(measure_radiometry(rad_capture, cal, s.radiometry_mm_per_px))
        grid = verification_grid(cal, s.grid_mm)
        self._project(grid)
        self._progress(Progress("verify", 1, 1, f"verification grid projected: lines every {s.grid_mm:g} mm"))
        report["created_utc"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        report["full_model"] = model is not None

        cal = replace(cal, report=report)
        self._progress(Progress("done", 1, 1, summary(report)))
        return StationResult(cal, report, grid, tuple(poses))


def _camera_pose(
    mm: np.ndarray, cam_px: np.ndarray, k: np.ndarray | None, dist: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """cam_from_bench (bench mm → undistorted px) and, with intrinsics, the camera's bench pose."""
    if k is None:
        hom, _ = cv2.findHomography(mm, cam_px, 0)
        return hom / hom[2, 2], None, None
    obj = np.column_stack([mm, np.zeros(len(mm))])
    d = np.zeros(5) if dist is None else dist
    found, rvec, tvec = cv2.solvePnP(obj, cam_px, k, d, flags=cv2.SOLVEPNP_ITERATIVE)
    if not found:
        raise OssError("cannot place the camera relative to the bench markers; check the marker layout file")
    r, _ = cv2.Rodrigues(rvec)
    cam_hom = np.asarray(k @ np.column_stack([r[:, 0], r[:, 1], tvec.ravel()]), np.float64)
    return cam_hom / cam_hom[2, 2], rvec.ravel(), tvec.ravel()


def _bench_report(
    cal: Calibration,
    mm: np.ndarray,
    cam_px: np.ndarray,
    mm_k: np.ndarray,
    proj_k: np.ndarray,
    found: dict[int, np.ndarray],
    target: BenchTarget,
) -> dict[str, object]:
    """Residuals at the bench markers: projector px and what they mean in bench mm; camera px and mm."""
    pred = cal.bench_to_projector(mm_k)
    res_ppx = np.linalg.norm(pred - proj_k, axis=1)
    back = cv2.perspectiveTransform(proj_k.reshape(-1, 1, 2), np.linalg.inv(cal.proj_from_bench)).reshape(
        -1, 2
    )
    res_pmm = np.linalg.norm(back - mm_k, axis=1)
    res_cmm = np.linalg.norm(cal.camera_to_bench(cam_px) - mm, axis=1)
    res_cpx = np.linalg.norm(cal.bench_to_camera(mm) - cam_px, axis=1)

    def rms(a: np.ndarray) -> float:
        return round(float(np.sqrt(np.mean(a**2))), 4)

    return {
        "markers_found": sorted(int(i) for i in found),
        "markers_missing": sorted(set(target.by_id) - set(found)),
        "projector_rms_px": rms(res_ppx),
        "projector_max_px": round(float(res_ppx.max()), 4),
        "projector_rms_mm": rms(res_pmm),
        "projector_max_mm": round(float(res_pmm.max()), 4),
        "camera_rms_px": rms(res_cpx),
        "camera_rms_mm": rms(res_cmm),
        "camera_max_mm": round(float(res_cmm.max()), 4),
        "projector_mm_per_px": round(_mm_per_px(cal), 4),
    }


def _mm_per_px(cal: Calibration) -> float:
    w, d = cal.bench_size_mm
    a = cal.bench_to_projector(np.array([[0.0, d / 2], [w, d / 2]]))
    return float(w / np.linalg.norm(a[1] - a[0]))


def summary(report: dict[str, object]) -> str:
    return (
        f"bench → projector: {report['projector_rms_mm']} mm RMS, {report['projector_max_mm']} mm max "
        f"({report['projector_rms_px']} projector px RMS) at {len(report['markers_found'])} markers"  # type: ignore[arg-type]
        + (
            f"; full model from {report['board_poses']} board poses, projector reprojection "
            f"{report['model_projector_rms_px']} px"
            if report.get("full_model")
            else ""
        )
    )


def verification_grid(cal: Calibration, spacing_mm: float = 100.0, z_mm: float = 0.0) -> np.ndarray:
    """A projector image (BGR) with bench lines every ``spacing_mm`` and labels, to check with a ruler."""
    pw, ph = cal.projector_size
    img = np.zeros((ph, pw, 3), np.uint8)
    w, d = cal.bench_size_mm
    xs = np.arange(0.0, w + 1e-6, spacing_mm)
    ys = np.arange(0.0, d + 1e-6, spacing_mm)
    for x in xs:
        line = cal.bench_to_projector_at_height(
            np.column_stack([np.full(50, x), np.linspace(0, d, 50)]), z_mm
        )
        cv2.polylines(img, [np.round(line * 16).astype(np.int32)], False, (0, 255, 0), 1, cv2.LINE_AA, 4)
    for y in ys:
        line = cal.bench_to_projector_at_height(
            np.column_stack([np.linspace(0, w, 50), np.full(50, y)]), z_mm
        )
        cv2.polylines(img, [np.round(line * 16).astype(np.int32)], False, (0, 255, 0), 1, cv2.LINE_AA, 4)
    for x in xs:
        for y in ys:
            p = cal.bench_to_projector_at_height(np.array([[x, y]]), z_mm)[0]
            cv2.circle(
                img,
                (int(np.rint(p[0] * 16)), int(np.rint(p[1] * 16))),
                5 * 16,
                (255, 255, 255),
                1,
                cv2.LINE_AA,
                4,
            )
            cv2.putText(
                img,
                f"{x:g},{y:g}",
                (int(p[0]) + 6, int(p[1]) - 6),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.4,
                (255, 255, 255),
                1,
                cv2.LINE_AA,
            )
    return img


def save_versioned(cal: Calibration, directory: str | Path, name: str) -> Path:
    """Save as ``DIRECTORY/NAME-vNNN.yaml`` with the next free number; returns the path."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    n = 1 + max(
        (int(p.stem.rsplit("-v", 1)[1]) for p in folder.glob(f"{name}-v[0-9][0-9][0-9].yaml")), default=0
    )
    path = folder / f"{name}-v{n:03d}.yaml"
    cal.save(path)
    return path
