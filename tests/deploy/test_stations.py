"""The example station files in deploy/stations/: each loads cleanly and runs through `oss run` itself.

The runs override only what cannot exist here (the camera: the virtual bench; no projector window; the
log in a temporary folder). Their devices point at /dev/oss-*, which are absent here, as on a station
whose pedal is unplugged: the station must keep running and report each device as lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oss.config import StationConfig, load_station_config
from oss.instructions import load_instruction
from tests.conftest import ROOT, SAMPLE
from tests.deploy.conftest import STATIONS, events

FRAMES = 30


def test_there_are_the_common_set_ups() -> None:
    names = {p.name for p in STATIONS}
    assert {"camera-projector.yaml", "pedal.yaml", "pick-to-light.yaml", "fleet.yaml"} <= names


@pytest.mark.parametrize("path", STATIONS, ids=lambda p: p.name)
def test_station_file_loads_without_problems(path: Path) -> None:
    cfg = load_station_config(path)  # raises FileProblems with FILE:LINE:COL on any error
    assert cfg.display == "window" and cfg.calibration and cfg.calibration.startswith("/var/lib/oss/")
    assert cfg.log == "/var/lib/oss/station.sqlite"
    for d in cfg.devices:
        assert d.port == f"/dev/oss-{d.kind}", "devices go by the names the udev rules give them"
    assert cfg.monitor_pin is None, "the supervisor PIN goes in /etc/oss/oss.env (OSS_SUPERVISOR_PIN)"
    if cfg.fleet_dsn:  # no password in the file: PGPASSWORD in /etc/oss/oss.env
        assert "@" in cfg.fleet_dsn and ":" not in cfg.fleet_dsn.split("//", 1)[1].split("@")[0]


def test_pick_to_light_lamps_are_the_bins_of_the_sample() -> None:
    ins = load_instruction(SAMPLE)
    bins = {zid for zid, z in ins.zones.items() if z.is_bin}
    lamp_maps = [
        dict(d.lamps) for p in STATIONS for d in load_station_config(p).devices if d.kind == "picklight"
    ]
    assert lamp_maps
    for lamps in lamp_maps:
        assert set(lamps) == bins  # every bin of the LED fixture has its lamp, and nothing else has one
        assert sorted(lamps.values()) == list(range(len(bins)))  # lamps 0, 1, ... each once


def run_station(path: Path, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "run_station.py",
            "--station",
            str(path),
            "--camera",
            "sim:led_basic",
            "--display",
            "none",
            "--max-frames",
            str(FRAMES),
            "--log",
            str(tmp_path / "log.sqlite"),
            "--summary-json",
            str(tmp_path / "summary.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def station_env(cfg: StationConfig, request: pytest.FixtureRequest) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "OSS_"))}
    if cfg.monitor:  # the supervisor monitor is a window of its own: an X display, and its PIN as in oss.env
        env["DISPLAY"] = request.getfixturevalue("x_display")
        env["OSS_SUPERVISOR_PIN"] = "4821"
    return env


@pytest.mark.slow
@pytest.mark.parametrize("path", STATIONS, ids=lambda p: p.name)
def test_station_file_runs_through_the_command(
    path: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    cfg = load_station_config(path)
    out = run_station(path, tmp_path, station_env(cfg, request))
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["frames"] == FRAMES and summary["stopped_by"] == "frame limit"
    lost = [json.loads(d) for d in events(tmp_path / "log.sqlite", "device")]
    for d in cfg.devices:  # each absent device is reported, and the station went on
        assert any(e["device"] == d.name and e["ok"] is False and d.port in e["message"] for e in lost), lost
    if cfg.fleet_dsn:  # the store is not reachable from here: it says so and the events wait
        assert "fleet" in out.stderr
