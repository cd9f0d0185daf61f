"""Every key of the station file, run through ``oss run --station FILE`` (the path a technician takes).

Keys and where they are exercised through the command:
  station.id, camera.source, projector.display/screen, log, language, hands.touch_buttons,
  hands.tracking, monitor.enabled/pin/screen, devices[].serial_number ........ here
  camera.width/height/fps/exposure/white_balance, calibration, projector.width/height ... here (a real
      camera path: recorded frames and a calibration file)
  projector.escape ......................................... tests/station/test_escape.py
  devices[].kind/port/name/lamps/buttons ................... tests/station/test_station_devices.py
  fleet.dsn ................................................ tests/fleet/test_station_fleet.py
  hands.model .............................................. test_hand_tracking_with_a_model_file (here)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from oss.hardware.emulator import DeviceEmulator
from tests.conftest import ROOT
from tests.station.stationproc import read_events


def run(station: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oss.cli", "run", "--station", str(station), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def summary_of(out: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout[out.stdout.index("{") :])


def test_sim_station_keys(tmp_path: Path) -> None:
    pedal, other = DeviceEmulator("pedal", "PD-SN-7"), DeviceEmulator("pedal", "PD-SN-8")
    port, port2 = pedal.plug(), other.plug()
    try:
        station = tmp_path / "st.yaml"
        station.write_text(
            "station: {id: line2-st4}\n"
            'camera: {source: "sim:led_w60"}\n'
            "projector: {display: none, screen: 0}\n"
            "log: logs/here.sqlite\n"  # relative to the station file
            "language: nl\n"
            "hands: {touch_buttons: false, tracking: false}\n"
            'monitor: {enabled: false, pin: "4821", screen: 0}\n'
            f"devices:\n  - {{kind: pedal, port: {port}, serial_number: PD-SN-7}}\n"
            f"  - {{kind: pedal, name: other, port: {port2}, serial_number: XX-0000}}\n"
        )
        summary = summary_of(run(station, "--max-frames", "60"))
    finally:
        pedal.unplug()
        other.unplug()
    log = tmp_path / "logs" / "here.sqlite"
    assert summary["log"] == str(log.resolve()) and summary["scenario"] == "led_w60"
    assert summary["variant"] == "w60" and "monitor_ms" not in summary
    start = read_events(log, "session_start")[0]
    assert start["station"] == "line2-st4" and start["language"] == "nl"
    devices = read_events(log, "device")
    pd = [e for e in devices if e["device"] == "pedal"]
    assert pd and pd[0]["ok"] is True and pd[0]["serial"] == "PD-SN-7"
    # a pedal with another serial number than the file says: the station says it is the wrong device
    assert any(e["device"] == "other" and not e["ok"] and "XX-0000" in e["message"] for e in devices)


def test_touch_buttons_key_changes_the_projection(tmp_path: Path) -> None:
    """hands.touch_buttons: the projected buttons are there, or not (compared on the recorded video)."""
    frames = {}
    for on in (True, False):
        station = tmp_path / f"t{on}.yaml"
        station.write_text(
            'camera: {source: "sim:led_basic"}\nprojector: {display: none}\n'
            f"log: t{on}.sqlite\nhands: {{touch_buttons: {str(on).lower()}}}\n"
        )
        video = tmp_path / f"t{on}.mp4"
        summary_of(run(station, "--max-frames", "20", "--record", str(video)))
        cap = cv2.VideoCapture(str(video))
        ok, img = cap.read()
        cap.release()
        assert ok
        frames[on] = img
    diff = cv2.absdiff(frames[True], frames[False])
    assert int((diff.max(axis=2) > 60).sum()) > 500  # the buttons' pixels differ


def _recorded(tmp_path: Path) -> tuple[Path, Path, tuple[int, int], tuple[int, int]]:
    from oss.sim.bench import VirtualBench
    from oss.sim.scenario import load_scenario
    from oss.station.sim_link import calibrate_sim

    sc = load_scenario("led_basic")
    bench = VirtualBench(sc, sc.load_instruction(), self_paced=True)
    cal = calibrate_sim(bench)
    cal.save(tmp_path / "cal.yaml")
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(12):
        cv2.imwrite(str(folder / f"frame{i:03d}.png"), bench.next_frame(None).image)
    return folder, tmp_path / "cal.yaml", cal.camera_size, cal.projector_size


def test_real_camera_keys(tmp_path: Path) -> None:
    folder, cal, (cw, ch), (pw, ph) = _recorded(tmp_path)

    def station(cam_w: int, proj_w: int) -> Path:
        f = tmp_path / f"st{cam_w}_{proj_w}.yaml"
        f.write_text(
            f"camera: {{source: frames, width: {cam_w}, height: {ch}, fps: 15, exposure: -6, "
            f"white_balance: 4600}}\n"
            f"projector: {{display: none, width: {proj_w}, height: {ph}}}\n"
            "calibration: cal.yaml\n"
            f"log: log{cam_w}_{proj_w}.sqlite\n"
        )
        return f

    summary = summary_of(run(station(cw, pw), "--operator", "ann"))
    assert summary["frames"] == 12 and summary["stopped_by"] == "camera input ended"
    for bad in (station(cw + 16, pw), station(cw, pw + 16)):
        out = run(bad, "--operator", "ann")
        assert out.returncode == 1 and "Traceback" not in out.stderr
        assert "cal.yaml" in out.stderr, out.stderr[-2000:]
    missing = tmp_path / "nocal.yaml"
    missing.write_text("camera: {source: frames}\nprojector: {display: none}\nlog: n.sqlite\n")
    out = run(missing)
    assert out.returncode == 1 and "calibration" in out.stderr and "Traceback" not in out.stderr


def test_hand_tracking_with_a_model_file(tmp_path: Path) -> None:
    """hands.tracking and hands.model: MediaPipe runs in the station with the named model bundle."""
    pytest.importorskip("mediapipe")
    from oss.perception.landmarks import model_bundle

    (tmp_path / "hand.task").write_bytes(model_bundle())  # the shipped bundle, under another name
    station = tmp_path / "st.yaml"
    station.write_text(
        'camera: {source: "sim:led_basic"}\nprojector: {display: none}\nlog: h.sqlite\n'
        "hands: {tracking: true, model: hand.task}\n"
    )
    summary_of(run(station, "--max-frames", "20"))
    (tmp_path / "hand.task").write_bytes(b"not a model")
    out = run(station, "--max-frames", "20")
    assert out.returncode == 1 and "hand.task" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.display
def test_monitor_keys_open_the_supervisor_monitor(tmp_path: Path, x_display: str) -> None:
    station = tmp_path / "st.yaml"
    station.write_text(
        'camera: {source: "sim:led_basic"}\nprojector: {display: none}\nlog: m.sqlite\n'
        'monitor: {enabled: true, pin: "4821", screen: 0}\n'
    )
    env = dict(os.environ, DISPLAY=x_display)
    summary = summary_of(run(station, "--max-frames", "30", env=env))
    assert summary["monitor_ms"]["n"] > 0  # type: ignore[index]
