"""The calibration checks: the file is there, loads, fits the camera and projector, its age, and a
quick drift check on a camera frame (the bench markers, as ``oss.calibration.drift`` measures them)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from oss.calibration.drift import DriftMonitor
from oss.calibration.model import Calibration
from oss.config import StationConfig
from oss.doctor.camera import CameraProbe, marker_layout
from oss.doctor.result import CheckResult, DataValue, fail, ok, skipped, warn
from oss.records import OssError

OLD_DAYS = 180  # older than this: check it with the verification grid
DRIFT_OK_MM = 2.0  # the drift monitor's own threshold
DRIFT_FOLLOWED_MM = 15.0  # up to this the station re-aligns its view by itself (docs/calibration.md)
RECALIBRATE = "run 'oss calibrate station' at the station (docs/calibration.md)"


def _age_days(cal: Calibration, path: Path) -> tuple[float, str]:
    """Days since the calibration was made (its report's created_utc, else the file's time)."""
    created = cal.report.get("created_utc")
    now = datetime.now(UTC)
    if isinstance(created, str):
        try:
            t = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            return (now - t).total_seconds() / 86400.0, f"made {created}"
        except ValueError:
            pass  # an edited date: the file's time below says how old it is
    t = datetime.fromtimestamp(os.path.getmtime(path), UTC)
    return (now - t).total_seconds() / 86400.0, f"file written {t:%Y-%m-%d %H:%M} UTC"


def load_calibration(cfg: StationConfig, probe: CameraProbe) -> tuple[CheckResult, Calibration | None]:
    name = "calibration"
    if not cfg.calibration:
        if probe.sim:
            return skipped(name, f"{cfg.camera} calibrates itself (no calibration file needed)"), None
        return fail(
            name,
            "no calibration for this station: the station file names no calibration file",
            f"{RECALIBRATE}, then write calibration: FILE in the station file",
        ), None
    path = Path(cfg.calibration)
    try:
        cal = Calibration.load(path)
    except OssError as e:
        return fail(name, str(e), f"{RECALIBRATE}, or correct calibration: in the station file"), None
    sim_note = f" ('oss run' does not use it: {cfg.camera} calibrates itself)" if probe.sim else ""
    camera_size = probe.size if probe.sim and probe.size else cfg.camera_size
    problems = []
    if tuple(cal.camera_size) != tuple(camera_size):
        problems.append(
            f"made for a {cal.camera_size[0]}x{cal.camera_size[1]} camera, but the camera is set to "
            f"{camera_size[0]}x{camera_size[1]}"
        )
    if tuple(cal.projector_size) != tuple(cfg.projector_size):
        problems.append(
            f"made for a {cal.projector_size[0]}x{cal.projector_size[1]} projector, but the station file "
            f"says {cfg.projector_size[0]}x{cfg.projector_size[1]}"
        )
    if problems:
        return fail(
            name,
            f"{path}: " + "; ".join(problems) + sim_note,
            "set the camera and projector to the calibrated sizes (camera: and projector: width/height), or "
            + RECALIBRATE,
        ), None
    days, when = _age_days(cal, path)
    radiometry = (
        "radiometry included"
        if cal.radiometry is not None
        else "no radiometry (the station measures it at start, a few seconds)"
    )
    detail = f"{path}: {when}, {days:.0f} days old; {radiometry}{sim_note}"
    data: dict[str, DataValue] = dict(file=str(path), age_days=round(days, 1), full_model=cal.has_full_model)
    if days < -1.0:
        return warn(
            name,
            detail,
            "the computer's clock is wrong (the calibration is from the future): set it (timedatectl)",
            **data,
        ), cal
    if days > OLD_DAYS:
        return warn(
            name,
            detail,
            f"older than {OLD_DAYS} days: check with a ruler that the projection lands where it should "
            f"(a zone outline against its mark on the bench); if it is off, {RECALIBRATE}",
            **data,
        ), cal
    return ok(name, detail, **data), cal


def _signed(mm: float) -> str:
    return f"{round(mm, 1) + 0.0:+.1f}"  # + 0.0: no "-0.0" for a shift that rounds to nothing


def check_drift(cfg: StationConfig, probe: CameraProbe, cal: Calibration | None) -> CheckResult:
    name = "calibration drift"
    if cal is None:
        return skipped(name, "no usable calibration file")
    if probe.frame is None:
        return skipped(name, "no camera frame to compare with")
    target, target_from = (
        (probe.markers, probe.markers_from)
        if probe.markers is not None
        else marker_layout(cfg, cal.bench_size_mm)
    )
    got = DriftMonitor(cal, target).measure(probe.frame)
    if got is None:
        return warn(
            name,
            f"fewer than 2 bench markers seen in the camera frame (looked for ids "
            f"{', '.join(str(m.id) for m in target.markers)}: {target_from})",
            "clear the bench markers (nothing on them, projector off or dark) and run the doctor again; put "
            f"the marker layout as {Path(cal.source).parent / 'bench_markers.yaml'} if it is not the standard one",
        )
    dxy, ids = got
    d = (float(dxy[0]), float(dxy[1]))
    shift = float((d[0] ** 2 + d[1] ** 2) ** 0.5)
    detail = (
        f"the bench markers ({len(ids)} seen) are {shift:.1f} mm from where the calibration puts them "
        f"(dx {_signed(d[0])}, dy {_signed(d[1])} mm)"
    )
    data: dict[str, DataValue] = dict(
        shift_mm=round(shift, 2), dx_mm=round(d[0], 2), dy_mm=round(d[1], 2), markers=len(ids)
    )
    if shift <= DRIFT_OK_MM:
        return ok(name, detail, **data)
    if shift <= DRIFT_FOLLOWED_MM:
        return warn(
            name,
            detail + f"; the station re-aligns its view up to {DRIFT_FOLLOWED_MM:g} mm by itself",
            f"check the camera mount, then {RECALIBRATE}",
            **data,
        )
    return fail(
        name,
        detail + f": more than the {DRIFT_FOLLOWED_MM:g} mm the station follows by itself",
        f"the camera or the bench moved: fix the mount, then {RECALIBRATE}",
        **data,
    )
