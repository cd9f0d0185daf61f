"""Instruction files written to break the reader (issue 21): each must give FILE:LINE:COL problems, never a
crash, a hang, a traceback or a file that validates and then fails at the station."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from oss.instructions import parse_instruction
from oss.instructions.yamlnodes import MAX_DEPTH, Problem
from oss.render.scene import Scene
from tests.conftest import SAMPLE
from tests.fuzz.limits import oss_limited


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(SAMPLE.parent / "media", tmp_path / "media")
    return tmp_path


def broken(workdir: Path, old: str, new: str, name: str = "broken.yaml", after: str = "") -> tuple[Path, int]:
    """A copy of the sample with ``old`` (first one after ``after``) replaced; the file and the line."""
    text = SAMPLE.read_text()
    i = text.index(old, text.index(after) if after else 0)
    out = workdir / name
    out.write_text(text[:i] + new + text[i + len(old) :])
    return out, text.count("\n", 0, i) + 1


def errors(path: Path) -> list[Problem]:
    return [p for p in parse_instruction(path).problems if p.severity == "error"]


def one_error_on(path: Path, line: int, *fragments: str) -> Problem:
    errs = errors(path)
    assert errs, "the file was accepted"
    hits = [p for p in errs if p.pos.line == line and all(f in p.message for f in fragments)]
    assert hits, "\n".join(str(p) for p in errs)
    return hits[0]


# --- crashes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{a: ", "}")], ids=["flow-lists", "flow-mappings"])
def test_deep_flow_nesting_under_the_size_cap_is_refused_not_a_segfault(
    tmp_path: Path, opening: str, closing: str
) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("format: " + opening * 50_000 + closing * 50_000 + "\n")
    out = oss_limited("validate", path, timeout=30)
    assert out.failed_cleanly(), out.describe()
    assert re.search(rf"{re.escape(str(path))}:1:\d+: nested more than {MAX_DEPTH} levels", out.stdout), (
        out.stdout
    )


def test_a_billion_repeats_is_refused_with_the_limit(workdir: Path) -> None:
    path, line = broken(workdir, "expected_s: 6", "repeat: 1000000000", after="- id: thermal_pad")
    out = oss_limited("validate", path, timeout=30)
    assert out.failed_cleanly(), out.describe()
    assert f"{path}:{line}:" in out.stdout and "repeat must be at most 100" in out.stdout, out.stdout


MINIMAL = """format: 1
product: {id: p, name: P}
version: "1"
languages: [en]
default_language: en
bench: {width_mm: 1000, depth_mm: 600}
steps:
"""


def test_repeats_that_add_up_to_too_many_run_steps_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(
        MINIMAL
        + "".join(f"  - {{id: s{i}, text: t, done: {{press: next}}, repeat: 100}}\n" for i in range(11))
    )
    (p,) = errors(path)
    assert p.pos.line == 7 and "one unit has 1100 steps" in p.message and "at most 1000" in p.message, p


def test_a_huge_pick_count_is_refused(workdir: Path) -> None:
    path, line = broken(workdir, "pick: {bin: bin_pad}", "pick: {bin: bin_pad, count: 1000000000}")
    one_error_on(path, line, "count must be at most 100")


@pytest.mark.parametrize(
    "old, new",
    [("width_mm: 1200", "width_mm: " + "9" * 400), ("expected_s: 7", "expected_s: " + "9" * 400)],
    ids=["width_mm", "expected_s"],
)
def test_a_400_digit_number_is_a_problem_not_an_overflow(workdir: Path, old: str, new: str) -> None:
    path, line = broken(workdir, old, new)
    p = one_error_on(path, line, "at most")
    assert len(p.message) < 200, p.message  # the number is shortened, not echoed in full


def test_a_5000_digit_number_is_not_echoed_in_full(workdir: Path) -> None:
    path, line = broken(workdir, "format: 1", "format: " + "7" * 5000)
    p = one_error_on(path, line, "format")
    assert len(p.message) < 200 and "5000 digits" in p.message, p.message


@pytest.mark.parametrize("value", ["1.0e+400", "-1.0e+400", ".inf", ".nan"])
def test_infinite_and_not_a_number_are_refused(workdir: Path, value: str) -> None:
    path, line = broken(workdir, "width_mm: 1200", f"width_mm: {value}")
    one_error_on(path, line, "bench width_mm")


def test_an_instruction_file_that_is_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "product.yaml"
    folder.mkdir()
    (p,) = parse_instruction(folder).problems
    assert (p.pos.line, p.pos.col) == (1, 1) and "is a folder" in p.message
    out = oss_limited("validate", folder, timeout=30)
    assert out.failed_cleanly() and f"{folder}:1:1: " in out.stdout, out.describe()


# --- validated, then refused at the station ---------------------------------------------------------


def test_a_marker_id_outside_its_dictionary(workdir: Path) -> None:
    path, line = broken(workdir, "marker: 7", "marker: 60")
    one_error_on(path, line, "marker 60", "DICT_4X4_50", "0 to 49")


def test_a_pictogram_that_is_not_an_image(workdir: Path) -> None:
    (workdir / "media" / "notes.png").write_text("not a picture\n")
    path, line = broken(workdir, "pictogram: media/housing.png", "pictogram: media/notes.png")
    one_error_on(path, line, "media/notes.png", "not an image")


def test_a_pictogram_outside_the_instruction_folder(workdir: Path, tmp_path: Path) -> None:
    sub = workdir / "product"
    shutil.copytree(workdir / "media", sub / "media")
    outside = workdir / "media" / "housing.png"  # a real picture, but not in the instruction's folder
    for name, ref in (("absolute.yaml", str(outside)), ("up.yaml", "../media/housing.png")):
        path, line = broken(sub, "pictogram: media/housing.png", f"pictogram: {ref}", name=name)
        one_error_on(path, line, "inside the instruction's folder")
    path, line = broken(sub, "pictogram: media/housing.png", "pictogram: /etc/hostname", name="etc.yaml")
    one_error_on(path, line, "inside the instruction's folder")


def test_a_folder_as_pictogram_is_called_a_folder(workdir: Path) -> None:
    path, line = broken(workdir, "pictogram: media/housing.png", "pictogram: media")
    p = one_error_on(path, line, "is a folder")
    assert "not found" not in p.message


def test_what_validates_can_be_drawn_by_the_station(workdir: Path) -> None:
    """The station's Scene loads every picture and checks every zone; a valid file must pass it."""
    parsed = parse_instruction(SAMPLE)
    assert parsed.instruction is not None
    for variant in parsed.instruction.variants:
        Scene(parsed.instruction, variant, SAMPLE.parent)


# --- smaller ----------------------------------------------------------------------------------------


def test_a_nul_byte_is_reported_where_it_is(workdir: Path) -> None:
    path, line = broken(workdir, 'version: "1.0"', 'version: "1.\x000"')
    (p,) = parse_instruction(path).problems
    assert (p.pos.line, p.pos.col) == (line, 13), p
    assert "NUL" in p.message or "#x0000" in p.message


def test_a_python_tag_is_called_a_tag(workdir: Path) -> None:
    path, line = broken(workdir, 'version: "1.0"', "version: !!python/name:os.system ''")
    p = one_error_on(path, line, "tag")
    assert "not the text ''" not in p.message and "!!python/name:os.system" in p.message
