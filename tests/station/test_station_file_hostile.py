"""Station files written to break the reader (issue 21): FILE:LINE:COL problems, never a crash or a secret
accepted, and nothing the station would silently ignore."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from oss.config import calibration_problem, load_station_config
from oss.instructions.yamlnodes import FileProblems
from oss.render.strings import UI
from tests.fuzz.limits import oss_limited


def problems_of(path: Path) -> str:
    with pytest.raises(FileProblems) as err:
        load_station_config(path)
    return str(err.value)


def station(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "station.yaml"
    path.write_text("station: {id: st1}\n" + body)
    return path


@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{a: ", "}")], ids=["lists", "mappings"])
def test_deep_nesting_is_refused_by_oss_run_not_a_segfault(
    tmp_path: Path, opening: str, closing: str
) -> None:
    path = station(tmp_path, "devices: " + opening * 50_000 + closing * 50_000 + "\n")
    out = oss_limited("run", "--station", path, "--display", "none", "--max-frames", "5", timeout=30)
    assert out.failed_cleanly(), out.describe()
    assert re.search(rf"{re.escape(str(path))}:2:\d+: nested more than 40 levels", out.stderr), out.stderr


@pytest.mark.parametrize(
    "body, line, says",
    [
        ("camera: {fps: " + "9" * 400 + "}\n", 2, "fps must be at most"),
        ("camera: {fps: 1.0e+400}\n", 2, "fps must be at most"),
        ("camera: {width: 1000000000}\n", 2, "width must be at most 8192"),
        ("projector: {height: 100000}\n", 2, "height must be at most 8192"),
        ("projector: {screen: " + "9" * 400 + "}\n", 2, "screen must be at most"),
    ],
    ids=["fps-400-digits", "fps-inf", "camera-width", "projector-height", "screen"],
)
def test_numbers_have_limits(tmp_path: Path, body: str, line: int, says: str) -> None:
    path = station(tmp_path, body)
    text = problems_of(path)
    assert f"{path}:{line}:" in text and says in text, text
    assert len(text) < 300, text


def test_a_station_file_that_is_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "station.yaml"
    folder.mkdir()
    assert f"{folder}:1:1: this is a folder, not a file" in problems_of(folder)
    out = oss_limited("run", "--station", folder, "--display", "none", "--max-frames", "5", timeout=30)
    assert out.failed_cleanly() and f"{folder}:1:1:" in out.stderr, out.describe()


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://oss:secret@fleet/oss",
        "host=fleet dbname=oss user=oss password=secret",
        "host=fleet password = secret dbname=oss",
        "postgresql://oss@fleet/oss?password=secret",
        "postgresql://oss@fleet/oss?sslmode=require&password=secret",
        "postgres://fleet/oss?sslpassword=secret",
    ],
)
def test_a_password_in_the_fleet_dsn_is_refused_in_every_form(tmp_path: Path, dsn: str) -> None:
    path = station(tmp_path, f'fleet: {{dsn: "{dsn}"}}\n')
    text = problems_of(path)
    assert f"{path}:2:14: don't write the password in the station file" in text, text
    assert "secret" not in text


@pytest.mark.parametrize(
    "dsn", ["postgresql://oss@fleet:5432/oss", "host=fleet port=5432 dbname=oss passfile=/etc/oss/pgpass"]
)
def test_a_dsn_without_password_is_fine(tmp_path: Path, dsn: str) -> None:
    assert load_station_config(station(tmp_path, f'fleet: {{dsn: "{dsn}"}}\n')).fleet_dsn == dsn


def test_an_unknown_language_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    path = station(tmp_path, "language: klingon\n")
    text = problems_of(path)
    assert f"{path}:2:11: language 'klingon' is not a language code" in text, text
    assert ", ".join(sorted(UI)) in text, text


def test_a_language_neither_on_screen_nor_in_the_instruction_stops_the_run(tmp_path: Path) -> None:
    assert load_station_config(station(tmp_path, "language: nl\n")).language == "nl"
    path = station(tmp_path, "language: fr\nlog: log.sqlite\n")
    assert load_station_config(path).language == "fr"  # might be one of the instruction's languages
    out = oss_limited("run", "--station", path, "--display", "none", "--max-frames", "5", timeout=60)
    assert out.failed_cleanly(), out.describe()
    assert f"{path}:2:11: language 'fr' is not one of the instruction's languages (en, nl)" in out.stderr, (
        out.stderr
    )
    assert not (tmp_path / "log.sqlite").exists()


def test_a_calibration_file_that_does_not_exist(tmp_path: Path) -> None:
    (tmp_path / "frames").mkdir()
    path = station(
        tmp_path,
        "camera: {source: frames}\ncalibration: cal/station.yaml\nlog: log.sqlite\nprojector: {display: none}\n",
    )
    cfg = load_station_config(path)  # may name a calibration still to be made ('oss calibrate' writes it)
    assert cfg.calibration_at == f"{path}:3:14"
    out = oss_limited("run", "--station", path, "--max-frames", "5", timeout=30)
    assert out.failed_cleanly(), out.describe()
    assert f"{path}:3:14: calibration file '{tmp_path}/cal/station.yaml' not found" in out.stderr, out.stderr
    (tmp_path / "cal" / "station.yaml").mkdir(parents=True)
    out = oss_limited("run", "--station", path, "--max-frames", "5", timeout=30)
    assert out.failed_cleanly() and f"{path}:3:14: calibration file" in out.stderr, out.describe()
    assert "is a folder" in out.stderr
    out = oss_limited("run", "--station", path, "--calibration", tmp_path / "nope.yaml", "--max-frames", "5")
    assert out.failed_cleanly() and "--calibration: calibration file" in out.stderr, out.describe()
    assert not (tmp_path / "log.sqlite").exists()
    # a sim: camera calibrates itself: the missing file is not needed then
    assert calibration_problem(replace(cfg, camera="sim:led_basic")) is None
