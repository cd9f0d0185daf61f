"""All checks of ``oss doctor`` in the order a technician works through them at the bench.

Each check is a small function of the station configuration (see the modules beside this one); this one
only runs them in order and hands the camera's frame to the calibration checks. Nothing here depends on
the station loop: a station that cannot run is exactly when the doctor is needed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from oss.config import StationConfig, load_station_config
from oss.doctor.result import CheckResult, fail, ok
from oss.records import OssError

if TYPE_CHECKING:
    from oss.doctor.camera import CameraProbe


@dataclass(frozen=True)
class DoctorConfig:
    """What ``oss doctor`` checks: a station file (None: the defaults ``oss run`` uses without one) and
    ports to search for devices named by serial number besides the system's own."""

    station: Path | None = None
    extra_ports: tuple[str, ...] = field(default_factory=tuple)


def default_station() -> StationConfig:
    """What ``oss run`` checks without --station: the defaults, a window only where a display exists."""
    return replace(StationConfig(), display="window" if os.environ.get("DISPLAY") else "none")


def load(config: DoctorConfig) -> tuple[StationConfig | None, CheckResult]:
    name = "station file"
    if config.station is None:
        cfg = default_station()
        return cfg, ok(
            name, f"none given: checking the defaults (camera {cfg.camera}, display {cfg.display})"
        )
    try:
        cfg = load_station_config(config.station)
    except OssError as e:
        return None, fail(
            name,
            str(e),
            "correct each line named FILE:LINE:COL (docs/station.md, 'Station configuration file')",
        )
    return cfg, ok(name, f"{config.station}: station {cfg.station_id}, {len(cfg.devices)} devices")


@contextmanager
def _quiet_library_logs() -> Iterator[None]:
    """The modules checked log their own warnings; the doctor reports them itself, once, in its table."""
    logger = logging.getLogger("oss")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _guarded(name: str, check: Callable[[], list[CheckResult]]) -> list[CheckResult]:
    """Run ``check``. A package it needs that does not import, or a failure of the check itself, is
    reported on its line (the other checks still run), never as a traceback."""
    try:
        return check()
    except ImportError as e:
        return [
            fail(name, f"cannot be checked: {e}", "fix the FAIL lines of the packages first (make install)")
        ]
    except Exception as e:  # a check that breaks must not hide the others' results
        return [
            fail(
                name,
                f"the check itself failed ({type(e).__name__}: {e})",
                "report this with the output of 'oss doctor --json' (an OSS bug)",
            )
        ]


def _camera_and_calibration(cfg: StationConfig) -> list[CheckResult]:
    """Camera, projector screen, calibration and drift, each on its own guard; the calibration checks
    get the camera's size and frame (none if the camera check broke)."""
    probes: list[CameraProbe] = []

    def camera() -> list[CheckResult]:
        from oss.doctor.camera import probe_camera

        probes.append(probe_camera(cfg))
        return list(probes[0].results)

    def screen() -> list[CheckResult]:
        from oss.doctor.screen import check_screen

        return check_screen(cfg)

    def calibration() -> list[CheckResult]:
        from oss.doctor.calibration import check_drift, load_calibration
        from oss.doctor.camera import CameraProbe

        probe = probes[0] if probes else CameraProbe((), None, None, cfg.camera.startswith("sim:"))
        result, cal = load_calibration(cfg, probe)
        return [result, check_drift(cfg, probe, cal)]

    return [
        *_guarded("camera", camera),
        *_guarded("projector screen", screen),
        *_guarded("calibration", calibration),
    ]


def _devices(cfg: StationConfig, ports: tuple[str, ...]) -> list[CheckResult]:
    from oss.doctor.devices import check_devices

    return check_devices(cfg, ports)


def _log(cfg: StationConfig) -> list[CheckResult]:
    from oss.doctor.storage import check_log

    return [check_log(cfg)]


def _fleet(cfg: StationConfig) -> list[CheckResult]:
    from oss.doctor.storage import check_fleet

    return [check_fleet(cfg)]


def _sound(cfg: StationConfig) -> list[CheckResult]:
    from oss.doctor.system import check_sound

    return [check_sound(cfg)]


def run_checks(config: DoctorConfig) -> tuple[StationConfig | None, tuple[CheckResult, ...]]:
    from oss.doctor.system import check_hand_model, check_packages, check_python, check_speech

    cfg, first = load(config)
    out: list[CheckResult] = [first, check_python()]
    if cfg is None:
        out += check_packages(None)
        return None, tuple(out)
    with _quiet_library_logs():
        out += check_packages(cfg)
        out += _guarded("hand model", lambda: [check_hand_model(cfg)])
        out += _camera_and_calibration(cfg)
        out += _guarded("devices", lambda: _devices(cfg, config.extra_ports))
        out += _guarded("event log", lambda: _log(cfg))
        out += _guarded("fleet store", lambda: _fleet(cfg))
        out += _guarded("sound", lambda: _sound(cfg))
        out += _guarded("speech", lambda: [check_speech(cfg)])
    return cfg, tuple(out)


def title(config: DoctorConfig, cfg: StationConfig | None) -> str:
    what = str(config.station) if config.station else "the defaults (no --station)"
    sid = f"station {cfg.station_id}, " if cfg is not None else ""
    return f"oss doctor: {sid}{what}"
