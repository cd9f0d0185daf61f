"""Profiles files written to break the reader (issue 21): FILE:LINE:COL problems, never a traceback, and
nothing the sign-in screen would fail on later."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oss.instructions.yamlnodes import FileProblems
from oss.operator.profile import ProfileBook
from tests.conftest import SAMPLE
from tests.fuzz.limits import oss_limited


def refused(path: Path) -> str:
    with pytest.raises(FileProblems) as err:
        ProfileBook.load(path)
    return str(err.value)


def test_deep_nesting_is_refused_by_the_command(tmp_path: Path) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text("format: 1\noperators: " + "{a: " * 50_000 + "}" * 50_000 + "\n")
    out = oss_limited("operators", "--profiles", path, "list", timeout=30)
    assert out.failed_cleanly(), out.describe()
    assert re.search(rf"{re.escape(str(path))}:2:\d+: nested more than 40 levels", out.stderr), out.stderr


@pytest.mark.parametrize(
    "photo, says",
    [("notes.png", "photo 'notes.png' is not an image"), ("photos", "photo 'photos' is a folder")],
)
def test_a_photo_the_sign_in_screen_could_not_show(tmp_path: Path, photo: str, says: str) -> None:
    (tmp_path / "notes.png").write_text("not a picture\n")
    (tmp_path / "photos").mkdir()
    path = tmp_path / "profiles.yaml"
    path.write_text(f"format: 1\noperators:\n  anna: {{name: Anna, photo: {photo}}}\n")
    text = refused(path)
    assert f"{path}:3:" in text and says in text, text


def test_a_real_photo_and_a_missing_one_are_fine(tmp_path: Path) -> None:
    (tmp_path / "anna.png").write_bytes((SAMPLE.parent / "media" / "housing.png").read_bytes())
    path = tmp_path / "profiles.yaml"
    path.write_text(
        "format: 1\noperators:\n  anna: {name: Anna, photo: anna.png}\n  bo: {name: Bo, photo: bo.png}\n"
    )
    assert [p.id for p in ProfileBook.load(path)] == ["anna", "bo"]  # bo: initials until the photo is there


@pytest.mark.parametrize(
    "value, says", [("1.0e+400", "volume must be at most 1,"), ("9" * 400, "volume must be at most 1,")]
)
def test_numbers_are_finite_and_bounded(tmp_path: Path, value: str, says: str) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(f"format: 1\noperators:\n  anna: {{name: Anna, volume: {value}}}\n")
    text = refused(path)
    assert f"{path}:3:" in text and says in text and len(text) < 300, text


def test_a_profiles_file_that_is_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "profiles.yaml"
    folder.mkdir()
    assert f"{folder}:1:1: this is a folder, not a file" in refused(folder)
