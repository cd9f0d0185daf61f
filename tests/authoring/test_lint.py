"""oss lint: clean on the sample; each planted problem of the poor file found at its line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from oss.authoring.lint import CHECKS, lint_file, min_letter_mm, needs_press, projected_contrast
from oss.calibration.model import Calibration
from oss.cli import main
from oss.instructions.model import AnyOf, HandIn, Press, Sequence, Timer

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "instructions" / "led_fixture.yaml"
DATA = Path(__file__).parent / "data"
POOR = DATA / "poor.yaml"
PLANT = re.compile(r"#\s*PLANT:\s*([a-z\-, ]+)")


def planted(path: Path) -> set[tuple[int, str]]:
    out = set()
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        m = PLANT.search(line)
        if m:
            out |= {(i, c.strip()) for c in m.group(1).split(",")}
    return out


def half_projector(bench: tuple[float, float] = (1200.0, 700.0)) -> Calibration:
    """A projector that reaches only x < 1100 mm of the bench."""
    bw, bd = bench
    src = np.array([[0, 0], [1100, 0], [1100, bd], [0, bd]], np.float32)
    dst = np.array([[0, 800], [1280, 800], [1280, 0], [0, 0]], np.float32)
    h = cv2.getPerspectiveTransform(src, dst).astype(np.float64)
    return Calibration((1280, 720), (1280, 800), (bw, bd), h.copy(), h, source="test")


def test_sample_is_clean_and_its_press_step_is_accepted() -> None:
    report = lint_file(SAMPLE)
    assert report.errors == ()
    assert report.findings == ()
    assert report.suppressed == 1  # final_check: '# oss-lint: allow manual-press'


def test_poor_file_every_planted_problem_by_line(tmp_path: Path) -> None:
    cal = tmp_path / "cal.yaml"
    half_projector().save(cal)
    report = lint_file(POOR, cal)
    got = {(f.pos.line, f.check) for f in report.findings}
    want = planted(POOR)
    assert {c for _, c in want} == set(CHECKS)  # every check is planted
    assert got == want
    assert report.suppressed == 1  # the deliberate check step
    for f in report.findings:
        assert str(f).startswith(f"{POOR}:{f.pos.line}:{f.pos.col}: ")


def test_without_calibration_no_reach_check() -> None:
    checks = {f.check for f in lint_file(POOR).findings}
    assert "projector-reach" not in checks


def test_allow_comment_only_covers_its_step(tmp_path: Path) -> None:
    text = POOR.read_text().replace(
        "  - id: no_time   # PLANT: expected-duration", "  - id: no_time  # oss-lint: allow expected-duration"
    )
    f = tmp_path / "poor.yaml"
    f.write_text(text)
    shutil.copytree(DATA / "media", tmp_path / "media")
    checks = [x.check for x in lint_file(f).findings]
    assert "expected-duration" not in checks
    assert "manual-press" in checks  # press_only (the step before) is not covered by it


def test_file_with_errors_is_not_linted(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(SAMPLE.read_text().replace("format: 1", "format: one"))
    report = lint_file(f)
    assert report.errors and report.findings == ()
    assert not report.clean


@pytest.mark.parametrize(
    ("cond", "press_only"),
    [
        (Press(), True),
        (AnyOf((Press(), Press("confirm"))), True),
        (AnyOf((Press(), HandIn("z"))), False),
        (Sequence((HandIn("z"), Press())), True),
        (Timer(3), False),
    ],
)
def test_needs_press(cond: object, press_only: bool) -> None:
    assert needs_press(cond) is press_only  # type: ignore[arg-type]


def test_contrast_and_letter_models() -> None:
    assert projected_contrast("white", "light") > projected_contrast("white", "dark")  # type: ignore[operator]
    assert projected_contrast("green", "dark") >= 0.3  # type: ignore[operator]
    assert projected_contrast("blue", "dark") < 0.3  # type: ignore[operator]
    ins = lint_file.__globals__["parse_instruction"](SAMPLE).instruction
    near, far = min_letter_mm(ins, 600, 50), min_letter_mm(ins, 0, 700)
    assert 5 < near < far < 25  # farther and flatter: larger letters needed; the default 25 mm reads


def test_cli_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(SAMPLE)]) == 0
    assert main(["lint", str(POOR)]) == 0  # findings, not --strict
    assert main(["lint", "--strict", str(POOR)]) == 1
    out = capsys.readouterr().out
    assert f"{POOR}:17:3: bin 'bin_b' overlaps" in out
