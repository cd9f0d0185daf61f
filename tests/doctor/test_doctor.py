"""``oss doctor`` end to end: each check through the command, against real parts."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import yaml

from oss.hardware.emulator import DeviceEmulator
from tests.conftest import ROOT, SAMPLE
from tests.doctor.conftest import (
    MjpegStream,
    StationWriter,
    clean_env,
    run_doctor,
    small_disk,
    unwritable,
)

CALIBRATION = ROOT / "calibration" / "sim-led_basic-v001.yaml"  # made on the virtual bench led_basic
STATUSES = {"ok", "warn", "FAIL", "skipped"}


def _line(out: str, check: str) -> str:
    """The table line of ``check`` with the lines wrapped under it (up to the next check)."""
    m = re.search(rf"^  (ok|warn|FAIL|skipped) +{re.escape(check)} .*?(?=^  \S|\n\n)", out, re.M | re.S)
    assert m, f"no line for {check!r} in:\n{out}"
    return re.sub(r"\s+", " ", m.group(0)).strip()


# --- the virtual bench, the table, the JSON ------------------------------------------------------------


def test_defaults_on_the_virtual_bench(tmp_path: Path) -> None:
    """Without --station: the defaults of 'oss run' (sim:led_basic; no display, so no window)."""
    run = run_doctor(cwd=tmp_path)
    assert run.returncode == 0, run.stdout
    out = run.stdout
    assert out.startswith("oss doctor: station station-1, the defaults (no --station)\n")
    assert _line(out, "station file").startswith("ok station file none given: checking the defaults")
    assert _line(out, "python").startswith(
        ("ok python Python 3.11.", "ok python Python 3.12.", "ok python Python 3.13.")
    )
    for package in ("cv2", "numpy", "pyglet", "serial", "yaml", "psycopg"):
        assert _line(out, f"package {package}").startswith(("ok", "warn")), out
    assert _line(out, "package mediapipe").startswith("skipped package mediapipe hand tracking is off")
    assert _line(out, "camera").startswith(
        "ok camera virtual bench sim:led_basic (scenario led_basic): 3 frames"
    )
    assert _line(out, "camera size") == "ok camera size 1280x720"
    assert "nominal 30 fps" in _line(out, "camera rate")
    assert _line(out, "projector screen").startswith(
        "skipped projector screen display: none: the station opens no projector window"
    )
    assert "sim:led_basic calibrates itself" in _line(out, "calibration")
    assert _line(out, "devices").startswith("skipped devices no devices in the station file")
    log = _line(out, "event log")
    assert log.startswith(
        "ok event log out/station.sqlite: new (made on the first run), its folder out is made too"
    )
    assert "a busy station's typical rate: the log is new" in log
    assert _line(out, "fleet store").startswith("skipped fleet store no fleet store configured")
    # every problem says how to fix it; the summary counts the lines
    for m in re.finditer(r"^  (warn|FAIL) +(\S+(?: \S+)?) ", out, re.M):
        assert "how to fix: " in _line(out, m.group(2)), m.group(0)
    n = sum(1 for ln in out.splitlines() if re.match(r"^  (ok|warn|FAIL|skipped) ", ln))
    counts = re.search(r"^(\d+) ok, (\d+) warn, (\d+) FAIL, (\d+) skipped$", out, re.M)
    assert counts and sum(int(c) for c in counts.groups()) == n and counts.group(3) == "0"
    assert out.rstrip().endswith("nothing FAILs")
    assert not (tmp_path / "out").exists(), "the doctor must not make the log"


def test_json_with_the_calibration_of_the_virtual_bench(station: StationWriter) -> None:
    path = station(camera={"source": "sim:led_basic"}, calibration=str(CALIBRATION), language="nl")
    run = run_doctor("--station", str(path), "--json")
    rep = run.report
    assert rep["station"] == "bench-7" and rep["station_file"] == str(path)
    assert {c["status"] for c in rep["checks"]} <= STATUSES
    assert rep["counts"]["FAIL"] == 0 and rep["ok"] is True and run.returncode == 0
    assert all(set(c) == {"check", "status", "detail", "fix", "data"} for c in rep["checks"])
    cal = run.checks["calibration"]
    assert cal["status"] == "ok" and cal["data"]["full_model"] is True
    assert "made 2026-11-27T20:58:25Z" in cal["detail"] and "'oss run' does not use it" in cal["detail"]
    drift = run.checks["calibration drift"]
    assert drift["status"] == "ok" and drift["data"]["markers"] == 5, drift
    assert drift["data"]["shift_mm"] < 0.5
    assert run.checks["speech"]["status"] == "ok" and run.checks["speech"]["data"]["language"] == "nl"


def _moved_calibration(tmp_path: Path, dx_mm: float) -> Path:
    """The virtual bench's calibration as if its camera had moved by ``dx_mm`` along the bench since."""
    doc = yaml.safe_load(CALIBRATION.read_text())
    shift = np.array([[1.0, 0.0, -dx_mm], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    doc["cam_from_bench"] = (np.array(doc["cam_from_bench"]) @ shift).tolist()
    out = tmp_path / "moved.yaml"
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return out


@pytest.mark.parametrize(
    ("dx_mm", "status", "says"), [(6.0, "warn", "re-aligns"), (25.0, "FAIL", "more than")]
)
def test_drift_of_a_moved_camera(
    station: StationWriter, tmp_path: Path, dx_mm: float, status: str, says: str
) -> None:
    path = station(camera={"source": "sim:led_basic"}, calibration=str(_moved_calibration(tmp_path, dx_mm)))
    run = run_doctor("--station", str(path), "--json")
    drift = run.checks["calibration drift"]
    assert drift["status"] == status and says in drift["detail"], drift
    assert abs(drift["data"]["dx_mm"] - dx_mm) < 0.5 and abs(drift["data"]["dy_mm"]) < 0.5
    assert "oss calibrate station" in drift["fix"]
    assert run.returncode == (1 if status == "FAIL" else 0)


# --- camera ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("served_fps", "settings", "rate", "exposure", "says"),
    [
        (30, {"exposure": 100}, "ok", "warn", "refused a fixed exposure of 100"),
        (6, {}, "warn", "warn", "no fixed exposure in the station file"),
    ],
)
def test_a_live_camera(
    station: StationWriter,
    mjpeg: Callable[[float], MjpegStream],
    served_fps: float,
    settings: dict[str, float],
    rate: str,
    exposure: str,
    says: str,
) -> None:
    """A network camera (an MJPEG stream): opened live, its rate measured, its settings checked."""
    cam = mjpeg(served_fps)
    path = station(camera={"source": cam.url, "width": 160, "height": 120, "fps": 30, **settings})
    run = run_doctor("--station", str(path), "--json")
    c = run.checks
    assert c["camera"]["status"] == "ok" and "(live camera)" in c["camera"]["detail"]
    assert c["camera size"]["status"] == "ok"
    assert c["camera rate"]["status"] == rate, c["camera rate"]
    assert abs(c["camera rate"]["data"]["fps"] - served_fps) < 0.25 * served_fps
    assert c["camera exposure"]["status"] == exposure and says in c["camera exposure"]["detail"]
    assert c["camera exposure"]["fix"]


def test_a_camera_that_is_not_there(station: StationWriter) -> None:
    run = run_doctor("--station", str(station(camera={"source": "/dev/video57"})), "--json")
    c = run.checks
    assert c["camera"]["status"] == "FAIL" and "camera /dev/video57 not found" in c["camera"]["detail"]
    assert "cable" in c["camera"]["fix"]
    for name in ("camera size", "camera rate", "camera exposure"):
        assert c[name]["status"] == "skipped", c[name]
    assert c["calibration drift"]["status"] == "skipped"
    assert run.returncode == 1


def test_a_recording_of_another_size(station: StationWriter, frames_dir: Callable[..., Path]) -> None:
    folder = frames_dir((320, 240))
    run = run_doctor(
        "--station", str(station(camera={"source": f"{folder}/", "width": 160, "height": 120})), "--json"
    )
    c = run.checks
    assert c["camera"]["status"] == "ok" and "3 frames read" in c["camera"]["detail"]
    assert c["camera size"]["status"] == "FAIL"
    assert "delivers 320x240, the station file says 160x120" in c["camera size"]["detail"]
    assert "v4l2-ctl" in c["camera size"]["fix"]
    assert "a recording" in c["camera exposure"]["detail"]


# --- calibration ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calibration", "projector", "says"),
    [
        (None, {"display": "none"}, "no calibration for this station"),
        ("missing.yaml", {"display": "none"}, "calibration file not found"),
        (
            str(CALIBRATION),
            {"display": "none", "width": 1920, "height": 1080},
            "made for a 1280x800 projector",
        ),
    ],
)
def test_calibration_missing_or_not_matching(
    station: StationWriter,
    frames_dir: Callable[..., Path],
    calibration: str | None,
    projector: dict[str, object],
    says: str,
) -> None:
    folder = frames_dir((1280, 720))
    sections: dict[str, object] = {"camera": {"source": f"{folder}/", "width": 1280, "height": 720}}
    if calibration:
        sections["calibration"] = calibration
    run = run_doctor("--station", str(station(projector=projector, **sections)), "--json")
    cal = run.checks["calibration"]
    assert cal["status"] == "FAIL" and says in cal["detail"], cal
    assert "oss calibrate" in cal["fix"]
    assert run.checks["calibration drift"]["status"] == "skipped"
    assert run.returncode == 1


def test_calibration_of_another_camera_size_and_no_markers_in_view(
    station: StationWriter, frames_dir: Callable[..., Path]
) -> None:
    folder = frames_dir((1280, 720))
    ok_cam = {"source": f"{folder}/", "width": 1280, "height": 720}
    run = run_doctor("--station", str(station(camera=ok_cam, calibration=str(CALIBRATION))), "--json")
    assert run.checks["calibration"]["status"] == "ok"
    drift = run.checks["calibration drift"]  # a grey image: no bench markers to measure
    assert drift["status"] == "warn" and "fewer than 2 bench markers" in drift["detail"]
    small = run_doctor("--station", str(station(calibration=str(CALIBRATION))), "--json")
    assert small.checks["calibration"]["status"] == "FAIL"
    assert (
        "made for a 1280x720 camera, but the camera is set to 160x120"
        in small.checks["calibration"]["detail"]
    )


# --- devices --------------------------------------------------------------------------------------------


def test_devices_on_emulated_ports(station: StationWriter, emulators: Callable[..., DeviceEmulator]) -> None:
    pedal = emulators("pedal", "PD0700", firmware="1.0.3")
    light = emulators("stacklight", "SL0700")
    lamps = emulators("picklight", "PL0700")
    other = emulators("stacklight", "SL0701")
    devices = [
        {"kind": "pedal", "port": pedal.port},
        {"kind": "stacklight", "serial_number": "SL0700"},  # found by its serial number on any port
        {"kind": "picklight", "port": lamps.port, "lamps": {"bin_a": 0, "bin_far": 20}},
        {"kind": "buttonbox", "port": "/dev/ttyUSB-oss-doctor-none", "name": "keys"},
        {"kind": "pedal", "port": other.port, "name": "wrong"},
    ]
    path = station(devices=devices)
    run = run_doctor("--station", str(path), "--json", "--port", str(light.port), "--port", str(other.port))
    c = run.checks
    assert c["device pedal"]["status"] == "ok"
    assert c["device pedal"]["data"] == {
        "kind": "pedal", "port": pedal.port, "serial": "PD0700", "firmware": "1.0.3", "inputs": 2, "outputs": 0,
    }  # fmt: skip
    assert "firmware 1.0.3" in c["device pedal"]["detail"]
    assert c["device stacklight"]["status"] == "ok" and c["device stacklight"]["data"]["port"] == light.port
    assert c["device picklight"]["status"] == "FAIL"
    assert "lamp 20 of 'bin_far', but the device has 12 lamps" in c["device picklight"]["detail"]
    keys = c["device keys"]
    assert keys["status"] == "FAIL" and "no such port" in keys["detail"] and "plug it in" in keys["fix"]
    wrong = c["device wrong"]
    assert wrong["status"] == "FAIL" and "has an OSS stacklight (serial SL0701)" in wrong["detail"]
    assert "correct 'kind'" in wrong["fix"]
    assert run.returncode == 1


def test_a_device_by_serial_number_that_is_not_plugged_in(station: StationWriter) -> None:
    run = run_doctor(
        "--station", str(station(devices=[{"kind": "pedal", "serial_number": "PD9999"}])), "--json"
    )
    d = run.checks["device pedal"]
    assert d["status"] == "FAIL" and "serial number PD9999 not found on any port" in d["detail"]


# --- projector screen (Xvfb) ----------------------------------------------------------------------------


@pytest.mark.display
@pytest.mark.parametrize(
    ("projector", "status", "says"),
    [
        ({"display": "window", "screen": 0}, "ok", "screen 0 of display"),
        ({"display": "window", "screen": 1}, "FAIL", "on screen 1, but display"),
        (
            {"display": "window", "width": 1920, "height": 1080},
            "FAIL",
            "screen 0 is 1280x800, the station file",
        ),
    ],
)
def test_projector_screen(
    station: StationWriter, x_display: str, projector: dict[str, object], status: str, says: str
) -> None:
    path = station(projector=projector, monitor={"enabled": True, "screen": 0})
    run = run_doctor("--station", str(path), "--json", env=clean_env(DISPLAY=x_display))
    screen = run.checks["projector screen"]
    assert screen["status"] == status and says in screen["detail"], screen
    if status == "FAIL":
        assert "xrandr" in screen["fix"]
    else:
        assert screen["data"]["width"] == 1280 and screen["data"]["height"] == 800
        mon = run.checks["monitor screen"]  # the monitor on the projector's screen would cover it
        assert mon["status"] == "warn" and "covers the projection" in mon["detail"]


def test_projector_screen_without_a_display(station: StationWriter) -> None:
    run = run_doctor("--station", str(station(projector={"display": "window"})), "--json")
    screen = run.checks["projector screen"]
    assert screen["status"] == "FAIL" and "no X display" in screen["detail"]
    assert "display: none" in screen["fix"]


# --- the event log --------------------------------------------------------------------------------------


def test_log_folder_not_writable(station: StationWriter, tmp_path: Path) -> None:
    with unwritable(tmp_path / "locked") as folder:
        run = run_doctor("--station", str(station(log=str(folder / "station.sqlite"))), "--json")
    log = run.checks["event log"]
    assert log["status"] == "FAIL" and f"cannot write in {folder}" in log["detail"], log
    assert "writable" in log["fix"]
    assert run.returncode == 1


def test_log_under_a_file(station: StationWriter, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    run = run_doctor("--station", str(station(log=str(tmp_path / "afile" / "log" / "s.sqlite"))), "--json")
    log = run.checks["event log"]
    assert log["status"] == "FAIL" and "is a file" in log["detail"]


def _old_log(path: Path, days: int, per_day: int) -> None:
    """A log with ``per_day`` events on each of ``days`` days, written as the station writes it."""
    from oss.instructions import load_instruction
    from oss.log.store import EventStore
    from oss.records import LogEvent

    start = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
    with EventStore(path, "bench-7") as store:
        sid = store.open_session(
            "anna", load_instruction(SAMPLE), utc=start.isoformat(timespec="milliseconds")
        )
        for day in range(days):
            events = []
            for i in range(per_day):
                t = start + timedelta(days=day, minutes=i)
                kind = ("step_start", "step_end", "pick")[i % 3]
                events.append(LogEvent(kind, float(i), t.isoformat(timespec="milliseconds"), "s1", day + 1))
            store.append_many(sid, events)


def test_log_with_its_own_rate(station: StationWriter, tmp_path: Path) -> None:
    db = tmp_path / "log" / "station.sqlite"
    db.parent.mkdir()
    _old_log(db, days=10, per_day=60)
    run = run_doctor("--station", str(station(log=str(db))), "--json")
    log = run.checks["event log"]
    d = log["data"]
    assert log["status"] == "ok" and d["events"] == 600 and 8.9 < d["span_days"] < 9.1
    assert "this log's own rate" in log["detail"] and "600 events over 9.0 days" in log["detail"]
    assert abs(d["bytes_per_day"] - d["log_bytes"] / d["span_days"]) < 0.01 * d["bytes_per_day"]
    assert abs(d["days_left"] - d["free_bytes"] / d["bytes_per_day"]) < 0.001 * d["days_left"]


@pytest.mark.parametrize(("size", "status"), [("40m", "FAIL"), ("200m", "warn")])
def test_log_on_a_small_disk(station: StationWriter, tmp_path: Path, size: str, status: str) -> None:
    """A new log: a busy station's typical rate (10 MB a day) against the free space."""
    with small_disk(tmp_path / "disk", size) as disk:
        run = run_doctor("--station", str(station(log=str(disk / "log" / "s.sqlite"))), "--json")
    log = run.checks["event log"]
    assert log["status"] == status, log
    assert "df -h" in log["fix"] and log["data"]["bytes_per_day"] == 10_000_000


# --- fleet store ----------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_fleet_store_reachable(station: StationWriter, tmp_path: Path, pg_dsn: str) -> None:
    path = station(fleet={"dsn": pg_dsn})
    run = run_doctor("--station", str(path), "--json", env=clean_env(PGPASSWORD="not-needed-with-trust"))
    fleet = run.checks["fleet store"]
    assert fleet["status"] == "ok" and "reachable (PostgreSQL" in fleet["detail"], fleet
    assert "DSN from the station file, password: PGPASSWORD" in fleet["detail"]
    assert "not-needed-with-trust" not in run.stdout
    # a ~/.pgpass others can read: libpq ignores it, and the doctor says so
    home = tmp_path / "home"
    home.mkdir()
    (home / ".pgpass").write_text("*:*:*:*:secret\n")
    (home / ".pgpass").chmod(0o644)
    run = run_doctor("--station", str(path), "--json", env=clean_env(HOME=str(home)))
    fleet = run.checks["fleet store"]
    assert fleet["status"] == "warn" and "chmod 600" in fleet["fix"], fleet
    assert stat.S_IMODE((home / ".pgpass").stat().st_mode) == 0o644


def test_fleet_store_unreachable(station: StationWriter) -> None:
    path = station()
    env = clean_env(OSS_FLEET_DSN="postgresql://oss@127.0.0.1:9/oss", PGPASSWORD="s3cret-in-env")
    run = run_doctor("--station", str(path), "--json", env=env)
    fleet = run.checks["fleet store"]
    assert fleet["status"] == "FAIL" and "cannot connect to the fleet store" in fleet["detail"], fleet
    assert "DSN from OSS_FLEET_DSN" in fleet["detail"] and "server runs" in fleet["fix"]
    assert "s3cret-in-env" not in run.stdout
    assert run.returncode == 1


# --- sound and speech, packages, the station file -------------------------------------------------------


def test_sound_and_speech(station: StationWriter, tmp_path: Path) -> None:
    run = run_doctor("--station", str(station(language="xx")), "--json")
    sound = run.checks["sound"]
    assert sound["data"]["driver"] in ("pulse", "openal", "xaudio2", "directsound", "silent"), sound
    assert sound["status"] == ("warn" if sound["data"]["driver"] == "silent" else "ok")
    speech = run.checks["speech"]
    assert speech["status"] == "warn" and "cannot speak the station language 'xx'" in speech["detail"]
    assert "espeak-ng --voices" in speech["fix"]
    # without espeak-ng on the PATH
    bare = tmp_path / "bin"
    bare.mkdir()
    run = run_doctor("--station", str(station(language="nl")), "--json", env=clean_env(PATH=str(bare)))
    speech = run.checks["speech"]
    assert speech["status"] == "warn" and "espeak-ng is not installed" in speech["detail"]
    assert "apt-get install espeak-ng" in speech["fix"]
    assert run.checks["python"]["status"] == "ok"


def test_hand_tracking_model(station: StationWriter, tmp_path: Path) -> None:
    run = run_doctor("--station", str(station(hands={"tracking": True})), "--json")
    assert run.checks["package mediapipe"]["status"] in ("ok", "warn")
    assert run.checks["hand model"]["status"] == "ok", run.checks["hand model"]
    missing = tmp_path / "no_such.task"
    run = run_doctor("--station", str(station(hands={"tracking": True, "model": str(missing)})), "--json")
    model = run.checks["hand model"]
    assert model["status"] == "FAIL" and f"{missing} not found" in model["detail"]
    assert "hand_landmarker.task" in model["fix"]


def _broken(tmp_path: Path, module: str) -> str:
    """A folder with a package ``module`` that cannot be imported, to put first on PYTHONPATH."""
    pkg = tmp_path / f"broken_{module}" / module
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(f"raise ImportError('{module} is broken (a test)')\n")
    return str(pkg.parent)


def test_a_broken_package(station: StationWriter, tmp_path: Path) -> None:
    path = station(fleet={"dsn": "postgresql://oss@127.0.0.1:9/oss"})
    run = run_doctor("--station", str(path), "--json", env=clean_env(PYTHONPATH=_broken(tmp_path, "psycopg")))
    pkg = run.checks["package psycopg"]
    assert (
        pkg["status"] == "FAIL"
        and "psycopg is broken (a test)" in pkg["detail"]
        and "make install" in pkg["fix"]
    )
    assert run.checks["fleet store"]["status"] == "FAIL"
    assert "cannot be checked" in run.checks["fleet store"]["detail"]
    # OpenCV broken: 'oss' itself cannot start, 'python -m oss.doctor' still reports it
    env = clean_env(PYTHONPATH=_broken(tmp_path, "cv2"))
    run = run_doctor("--station", str(station()), "--json", module="oss.doctor", env=env)
    assert run.checks["package cv2"]["status"] == "FAIL"
    assert run.checks["camera"]["status"] == "FAIL" and "cannot be checked" in run.checks["camera"]["detail"]
    assert run.checks["python"]["status"] == "ok" and run.returncode == 1


def test_a_station_file_with_problems(station: StationWriter) -> None:
    path = station(camera={"source": "sim:led_basic", "fps": "fast"})
    run = run_doctor("--station", str(path))
    assert run.returncode == 1
    line = _line(run.stdout, "station file")
    assert line.startswith(f"FAIL station file {path}:") and "how to fix: correct each line" in line
    assert _line(run.stdout, "python").startswith("ok python")
    assert "package cv2" in run.stdout


def test_help_lists_the_command() -> None:
    run = run_doctor("--help")
    assert run.returncode == 0 and "--station FILE" in run.stdout and "--json" in run.stdout
    top = subprocess.run(
        [sys.executable, "-m", "oss.cli", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert re.search(r"^    doctor +check the station", top.stdout, re.M), top.stdout
