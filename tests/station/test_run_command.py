"""`oss run` end to end: flags, window under Xvfb, video, summary, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from tests.conftest import ROOT


def oss(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oss.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.mark.display
def test_run_in_a_window_records_video_and_summary(tmp_path: Path, x_display: str) -> None:
    video, summary = tmp_path / "run.mp4", tmp_path / "summary.json"
    env = dict(os.environ, DISPLAY=x_display)
    out = oss(
        "run",
        "--camera",
        "sim:led_basic",
        "--display",
        "window",
        "--max-frames",
        "45",
        "--log",
        str(tmp_path / "log.sqlite"),
        "--record",
        str(video),
        "--summary-json",
        str(summary),
        env=env,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(summary.read_text())
    for key in (
        "steps_expected",
        "steps_correct",
        "false_advances",
        "missed_steps",
        "wrong_picks_expected",
        "wrong_picks_detected",
        "detection_latency_ms",
        "frame_ms",
        "cycles_completed",
    ):
        assert key in data
    assert data["frames"] == 45 and data["stopped_by"] == "frame limit"
    cap = cv2.VideoCapture(str(video))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    ok, img = cap.read()
    cap.release()
    assert ok and n == 45
    assert img.shape[1] > img.shape[0]  # projector | camera side by side


def test_real_camera_without_calibration_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(
            str(folder / f"f{i}.png"), (i * 40 + 20) * __import__("numpy").ones((720, 1280, 3), "uint8")
        )
    out = oss("run", "--camera", str(folder), "--display", "none", "--log", str(tmp_path / "log.sqlite"))
    assert out.returncode == 1
    assert "no calibration for this station" in out.stderr and "oss calibrate" in out.stderr


def test_bad_station_file_names_the_line(tmp_path: Path) -> None:
    st = tmp_path / "station.yaml"
    st.write_text("station: {id: st1}\ncamera: {source: 0, widht: 1280}\n")
    out = oss("run", "--station", str(st), "--display", "none")
    assert out.returncode == 1
    assert f"{st}:2:" in out.stderr and "did you mean 'width'" in out.stderr


def test_unknown_scenario_lists_the_shipped_ones(tmp_path: Path) -> None:
    out = oss("run", "--camera", "sim:nope", "--display", "none", "--log", str(tmp_path / "l.sqlite"))
    assert out.returncode == 1
    assert "led_basic" in out.stderr


def test_recorded_frames_with_a_calibration_file_run_through_the_real_camera_path(tmp_path: Path) -> None:
    """An image folder and a saved calibration: the path a real camera takes (thread, live reload)."""
    from oss.sim.bench import VirtualBench
    from oss.sim.scenario import load_scenario
    from oss.station.sim_link import calibrate_sim

    sc = load_scenario("led_basic")
    bench = VirtualBench(sc, sc.load_instruction(), self_paced=True)
    cal = calibrate_sim(bench)
    cal.save(tmp_path / "cal.yaml")
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(40):
        cv2.imwrite(str(folder / f"frame{i:03d}.png"), bench.next_frame(None).image)
    summary = tmp_path / "s.json"
    out = oss(
        "run",
        "--camera",
        str(folder),
        "--calibration",
        str(tmp_path / "cal.yaml"),
        "--display",
        "none",
        "--log",
        str(tmp_path / "log.sqlite"),
        "--summary-json",
        str(summary),
        "--operator",
        "ann",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(summary.read_text())
    assert data["frames"] == 40 and data["stopped_by"] == "camera input ended"
    assert data["frame_ms"]["n"] == 40


def test_monitor_without_an_x_display_says_what_to_do(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = oss(
        "run",
        "--monitor",
        "--display",
        "none",
        "--max-frames",
        "5",
        "--log",
        str(tmp_path / "l.sqlite"),
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]  # the station works without its monitor, and says so
    assert "supervisor monitor not shown" in out.stderr and "Leave out --monitor" in out.stderr
    assert "use --display none" not in out.stderr  # the projector already has no display
