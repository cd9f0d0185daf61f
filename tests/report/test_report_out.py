"""``oss report --out`` where the report cannot go (issue 21): a clear message and exit 1, no traceback.

Checked before the logs are read, so a long report is not built only to be thrown away."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fuzz.limits import oss_limited


def test_out_naming_an_existing_file(scenario_logs: list[Path], tmp_path: Path) -> None:
    taken = tmp_path / "report.html"
    taken.write_text("keep me\n")
    out = oss_limited("report", *scenario_logs, "--out", taken, "-q", timeout=60)
    assert out.failed_cleanly(), out.describe()
    assert f"--out {taken}: this is a file, not a folder" in out.stderr, out.stderr
    assert taken.read_text() == "keep me\n"


def test_out_under_a_file(scenario_logs: list[Path], tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    out = oss_limited("report", *scenario_logs, "--out", tmp_path / "file" / "r", "-q", timeout=60)
    assert out.failed_cleanly() and "cannot write the report" in out.stderr, out.describe()


def test_out_in_a_folder_that_cannot_be_written(scenario_logs: list[Path], tmp_path: Path) -> None:
    # /proc refuses new folders even to root; a read-only folder is tried as well where not root
    places = [Path("/proc/oss-report")]
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        places.append(ro / "r")
    for place in places:
        out = oss_limited("report", *scenario_logs, "--out", place, "-q", timeout=60)
        assert out.failed_cleanly(), out.describe()
        assert f"cannot write the report into {place}" in out.stderr, out.stderr


@pytest.fixture(autouse=True)
def _writable_again(tmp_path: Path):
    yield
    for p in tmp_path.rglob("*"):
        if p.is_dir():
            p.chmod(0o755)
