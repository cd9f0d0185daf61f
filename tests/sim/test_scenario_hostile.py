"""Scenario files written to break the reader (issue 21): FILE:LINE:COL problems, never a crash or a hang."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oss.instructions.yamlnodes import FileProblems
from oss.sim.scenario import load_scenario
from tests.fuzz.limits import oss_limited
from tests.sim.conftest import SAMPLE


def problems_of(path: Path) -> str:
    with pytest.raises(FileProblems) as err:
        load_scenario(path)
    return str(err.value)


@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{a: ", "}")], ids=["lists", "mappings"])
def test_deep_nesting_is_refused_by_oss_run_not_a_segfault(
    tmp_path: Path, opening: str, closing: str
) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(
        f"format: 1\ninstructions: {SAMPLE}\ncamera: " + opening * 50_000 + closing * 50_000 + "\n"
    )
    out = oss_limited("run", "--camera", f"sim:{path}", "--display", "none", "--max-frames", "5", timeout=30)
    assert out.failed_cleanly(), out.describe()
    assert re.search(rf"{re.escape(str(path))}:3:\d+: nested more than 40 levels", out.stderr), out.stderr


@pytest.mark.parametrize(
    "body, line, says",
    [
        ("cycles: 1000000000\n", 4, "cycles must be a whole number from 1 to 1000"),
        ("camera: {size: [100000, 100000]}\n", 4, "camera.size must be whole numbers from 16 to 4096"),
        ("projector: {size: [1280, 100000]}\n", 4, "projector.size must be whole numbers from 16 to 4096"),
        ("time_limit_s: " + "9" * 400 + "\n", 4, "time_limit_s is 99999"),
        ("seed: " + "9" * 400 + "\n", 4, "seed must be a whole number from 0 to"),
        (
            "camera: {position_mm: [0, 0, 1.0e+400]}\n",
            4,
            "camera.position_mm[2] is 1.0e+400; it must be between",
        ),
        ("lighting: {drift_period_s: .nan}\n", 4, "lighting.drift_period_s must be a number"),
        (
            "deviations:\n  - hesitate: {step: housing, cycle: " + "9" * 400 + "}\n",
            5,
            "hesitate.cycle must be",
        ),
    ],
    ids=["cycles", "camera-size", "projector-size", "time-limit", "seed", "inf", "nan", "deviation-cycle"],
)
def test_counts_and_numbers_have_limits(write_scenario, body: str, line: int, says: str) -> None:
    path = write_scenario(body)
    text = problems_of(path)
    assert f"{path}:{line}:" in text and says in text, text
    assert max(len(x) for x in text.splitlines()) < 300, text  # long numbers are shortened


def test_a_billion_cycles_is_refused_by_the_command(write_scenario) -> None:
    path = write_scenario("cycles: 1000000000\ncamera: {size: [100000, 100000]}\n")
    out = oss_limited("run", "--camera", f"sim:{path}", "--display", "none", "--max-frames", "5", timeout=30)
    assert out.failed_cleanly() and f"{path}:4:" in out.stderr and f"{path}:5:" in out.stderr, out.describe()


def test_a_scenario_file_that_is_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "scenario.yaml"
    folder.mkdir()
    text = problems_of(folder)
    assert f"{folder}:1:1: this is a folder, not a file" in text, text


def test_instructions_naming_a_folder(tmp_path: Path) -> None:
    (tmp_path / "product").mkdir()
    path = tmp_path / "s.yaml"
    path.write_text("format: 1\ninstructions: product\n")
    text = problems_of(path)
    assert f"{path}:2:15: instruction file 'product' is a folder" in text, text


def test_an_unknown_variant_is_reported_on_its_line(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(f"format: 1\ninstructions: {SAMPLE}\ncycles: 1\nvariant: w80\n")
    text = problems_of(path)
    assert f"{path}:4:10: variant 'w80' is not in the instruction" in text, text
