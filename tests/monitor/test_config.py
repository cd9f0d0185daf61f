"""The monitor in the station file and on the command line (``oss run --monitor``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from oss.cli import build_parser
from oss.config import load_station_config
from oss.instructions.yamlnodes import FileProblems
from oss.station.command import _settings
from tests.station.test_run_command import oss


def test_the_monitor_section_of_the_station_file(tmp_path: Path) -> None:
    f = tmp_path / "station.yaml"
    f.write_text('station: {id: st3}\nmonitor: {enabled: true, pin: "0427", screen: 1}\n')
    cfg = load_station_config(f)
    assert (cfg.monitor, cfg.monitor_pin, cfg.monitor_screen) == (True, "0427", 1)
    f.write_text("monitor: {pin: 13579}\n")  # unquoted: still the digits as written; enabled by default
    cfg = load_station_config(f)
    assert cfg.monitor and cfg.monitor_pin == "13579"
    f.write_text("monitor: {enabled: false}\n")
    assert load_station_config(f).monitor is False


def test_a_bad_pin_and_unknown_keys_are_reported_with_their_line(tmp_path: Path) -> None:
    f = tmp_path / "station.yaml"
    f.write_text('station: {id: st3}\nmonitor:\n  pin: "12ab"\n  colour: red\n')
    with pytest.raises(FileProblems) as e:
        load_station_config(f)
    msgs = {(p.pos.line, p.message) for p in e.value.problems}
    assert (3, 'pin must be 4 to 12 digits, like "4821" (in quotes)') in msgs
    assert any(line == 4 and "colour" in m for line, m in msgs)


def test_run_flags_turn_the_monitor_on(tmp_path: Path) -> None:
    parser, _ = build_parser()
    cfg, _ = _settings(parser.parse_args(["run", "--display", "none"]))
    assert cfg.monitor is False
    cfg, _ = _settings(parser.parse_args(["run", "--display", "none", "--monitor"]))
    assert cfg.monitor is True and cfg.monitor_screen == 0
    cfg, _ = _settings(parser.parse_args(["run", "--display", "none", "--monitor-screen", "1"]))
    assert cfg.monitor is True and cfg.monitor_screen == 1


@pytest.mark.display
@pytest.mark.slow
def test_oss_run_with_a_monitor_and_no_pin_says_where_to_set_one(tmp_path: Path, x_display: str) -> None:
    summary = tmp_path / "summary.json"
    env = {k: v for k, v in os.environ.items() if k != "OSS_SUPERVISOR_PIN"} | {"DISPLAY": x_display}
    args = ("run", "--camera", "sim:led_basic", "--display", "none", "--monitor", "--max-frames", "20")
    out = oss(*args, "--log", str(tmp_path / "log.sqlite"), "--summary-json", str(summary), env=env)
    assert out.returncode == 0, out.stderr
    assert "no supervisor PIN is set" in out.stderr and "OSS_SUPERVISOR_PIN" in out.stderr
    data = json.loads(summary.read_text())
    assert data["frames"] == 20 and data["monitor_ms"]["n"] == 20 and data["monitor_ms"]["median"] is not None
