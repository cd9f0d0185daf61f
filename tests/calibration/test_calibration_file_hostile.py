"""Calibration files written to break the reader (issue 21): FILE:LINE:COL problems, never a traceback,
an overflow, a huge allocation or a calibration with infinite numbers."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from oss.calibration.model import Calibration
from oss.records import OssError
from tests.conftest import ROOT, SAMPLE
from tests.fuzz.limits import oss_limited

GOOD = ROOT / "calibration" / "sim-led_basic-v001.yaml"


def edited(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    text = GOOD.read_text()
    i = text.index(old)
    out = tmp_path / "cal.yaml"
    out.write_text(text[:i] + new + text[i + len(old) :])
    return out, text.count("\n", 0, i) + 1


def refused(path: Path) -> str:
    with pytest.raises(OssError) as err:
        Calibration.load(path)
    return str(err.value)


def test_the_example_loads() -> None:
    assert Calibration.load(GOOD).camera_size == (1280, 720)


def test_deep_nesting_is_refused_by_the_command(tmp_path: Path) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text("format: 1\ncamera_size: " + "[" * 50_000 + "]" * 50_000 + "\n")
    out = oss_limited("lint", SAMPLE, "--calibration", path, timeout=30)
    assert out.failed_cleanly(), out.describe()
    assert re.search(rf"{re.escape(str(path))}:2:\d+: nested more than 40 levels", out.said), out.said


@pytest.mark.parametrize(
    "old, new, says",
    [
        (
            "- 1280\n- 720\nprojector",
            "- " + "9" * 400 + "\n- 720\nprojector",
            "camera_size must be at most 8192",
        ),
        ("- 1200.0\n- 700.0", "- 1.0e+400\n- 700.0", "bench_size_mm must be at most 5000"),
        ("- 1.0\nproj_from_bench", "- .nan\nproj_from_bench", "cam_from_bench must be a number"),
        (
            "- - 0.9509746801562458\n  - 0.03984017569523737\n",
            "- - 0.9509746801562458\n",
            "3 rows of 3 numbers",
        ),
        ("format: 1", "format: 2", "not an OSS calibration file of format 1"),
        ("- 1280\n- 720\nprojector", "- many\n- 720\nprojector", "camera_size must be a whole number"),
    ],
    ids=["400-digits", "inf", "nan", "shape", "format", "text"],
)
def test_bad_values_are_reported_at_their_line(tmp_path: Path, old: str, new: str, says: str) -> None:
    path, line = edited(tmp_path, old, new)
    text = refused(path)
    assert says in text and re.search(rf"{re.escape(str(path))}:{line}:\d+: ", text), text
    assert max(len(x) for x in text.splitlines()) < 400, text


def test_missing_keys_are_named(tmp_path: Path) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text("format: 1\ncamera_size: [1280, 720]\n")
    text = refused(path)
    assert f"{path}:1:1: the calibration file needs 'projector_size'" in text, text


def test_a_calibration_file_that_is_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "cal.yaml"
    folder.mkdir()
    assert f"{folder}:1:1: this is a folder, not a file" in refused(folder)


def radiometry_copy(tmp_path: Path, npz: bytes, name: str = "cal.radiometry.npz") -> Path:
    path = tmp_path / "cal.yaml"
    shutil.copy(GOOD, path)
    with path.open("a") as f:
        f.write(f"radiometry: {{mm_per_px: 2.0, file: {name}}}\n")
    (tmp_path / name.split("/")[-1]).write_bytes(npz)
    return path


def test_a_damaged_radiometry_file(tmp_path: Path) -> None:
    path = radiometry_copy(tmp_path, b"PK\x03\x04 not really a zip")
    text = refused(path)
    assert re.search(
        rf"{re.escape(str(path))}:\d+:\d+: the radiometry file 'cal.radiometry.npz' is damaged", text
    ), text


def test_a_radiometry_file_that_claims_a_huge_image_is_not_allocated(tmp_path: Path) -> None:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (100_000, 100_000, 3)}
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for key in ("black", "white"):
            z.writestr(f"{key}.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\x00" * 64)
    path = radiometry_copy(tmp_path, buf.getvalue())
    text = refused(path)
    assert "100000 x 100000" in text and "cal.radiometry.npz" in text, text


def test_a_radiometry_file_outside_the_folder(tmp_path: Path) -> None:
    path = radiometry_copy(tmp_path, b"", name="../../etc/passwd")
    assert "must be next to the calibration file" in refused(path)
