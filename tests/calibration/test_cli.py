"""`oss calibrate camera|procam|station` through the argparse wiring the lead adds to oss/cli.py."""

from __future__ import annotations

import argparse
import json

import pytest

from oss.calibration_cli import add_commands
from oss.records import OssError
from tests.conftest import SHARED_DATA


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="oss")
    sub = parser.add_subparsers(dest="command")
    commands: dict = {}
    add_commands(sub, commands)
    args = parser.parse_args(argv)
    return commands[args.command](args)


def test_camera_command_writes_json(tmp_path, capsys) -> None:
    images = sorted(str(p) for p in (SHARED_DATA / "chessboard").glob("left0[1-6].jpg"))
    assert (
        run(
            [
                "calibrate",
                "camera",
                *images,
                "--board",
                "chessboard:9x6:25",
                "--json",
                str(tmp_path / "k.json"),
            ]
        )
        == 0
    )
    doc = json.loads((tmp_path / "k.json").read_text())
    assert len(doc["views"]) == 6 and all(v["rms_px"] < 1.5 for v in doc["views"])
    assert "RMS" in capsys.readouterr().out


def test_procam_command_one_capture(tmp_path) -> None:
    out = tmp_path / "p.json"
    assert (
        run(
            [
                "calibrate",
                "procam",
                str(SHARED_DATA / "procam" / "capture_2"),
                "--projector-size",
                "1024x768",
                "--board",
                "chessboard:9x7:75",
                "--black-threshold",
                "40",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    doc = json.loads(out.read_text())
    assert doc["captures"][0]["corners_decoded"] == 63 and "stereo" not in doc
    assert doc["captures"][0]["homography_rms_proj_px"] <= 0.3


def test_station_needs_markers_at_a_real_station() -> None:
    with pytest.raises(OssError, match="--markers FILE"):
        run(["calibrate", "station"])


def test_station_on_the_virtual_bench(tmp_path) -> None:
    assert (
        run(
            ["calibrate", "station", "--sim", "led_basic", "--graycode-step", "2", "--out-dir", str(tmp_path)]
        )
        == 0
    )
    assert (tmp_path / "sim-led_basic-v001.yaml").exists()
