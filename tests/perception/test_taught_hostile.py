"""Taught-look files written to break the reader (issue 21). The station ignores looks it cannot use (it
works without them, as with stale ones) and says so with the file and, for the YAML, LINE:COL;
``oss validate`` shows the same as warnings, so ``--strict`` fails. Never a traceback or a huge
allocation."""

from __future__ import annotations

import io
import logging
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from oss.instructions import load_instruction
from oss.perception.taught import TaughtReferences, layout_key, load_references, teach_dir
from tests.conftest import SAMPLE
from tests.fuzz.limits import oss_limited


@pytest.fixture()
def taught(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A copy of the sample with good taught looks for w40."""
    shutil.copy(SAMPLE, tmp_path / "led.yaml")
    shutil.copytree(SAMPLE.parent / "media", tmp_path / "media")
    ins = load_instruction(tmp_path / "led.yaml")
    refs = TaughtReferences(
        layout_key(ins, "w40"),
        "w40",
        2.0,
        {"pad_place": np.ones((40, 60), np.float32)},
        {("thermal_pad", "pad_place"): np.full((40, 60), 0.5, np.float32)},
    )
    refs.save(teach_dir(ins.source))
    return ins, teach_dir(ins.source)


def refused(ins, caplog: pytest.LogCaptureFixture) -> str:  # type: ignore[no-untyped-def]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="oss.perception"):
        assert load_references(ins, "w40", 2.0) is None
    assert "taught looks ignored" in caplog.text, caplog.text
    return caplog.text


def test_good_looks_load(taught) -> None:  # type: ignore[no-untyped-def]
    ins, _ = taught
    refs = load_references(ins, "w40", 2.0)
    assert refs is not None and set(refs.empty) == {"pad_place"}


def test_deep_nesting_in_the_teach_file(taught, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    ins, folder = taught
    doc = folder / "w40.yaml"
    doc.write_text(doc.read_text() + "extra: " + "[" * 50_000 + "]" * 50_000 + "\n")
    text = refused(ins, caplog)
    assert f"{doc}:" in text and "nested more than 40 levels" in text, text


@pytest.mark.parametrize(
    "old, new, says",
    [
        ("mm_per_px: 2.0", "mm_per_px: 1.0e+400", "mm_per_px must be at most"),
        ("layout_key:", "layout_kee:", "needs 'layout_key'"),
    ],
)
def test_bad_values_in_the_teach_file(taught, caplog, old: str, new: str, says: str) -> None:  # type: ignore[no-untyped-def]
    ins, folder = taught
    doc = folder / "w40.yaml"
    doc.write_text(doc.read_text().replace(old, new))
    text = refused(ins, caplog)
    assert f"{doc}:" in text and says in text, text


def test_damaged_looks(taught, caplog) -> None:  # type: ignore[no-untyped-def]
    ins, folder = taught
    (folder / "w40.npz").write_bytes(b"PK\x03\x04 not a zip at all")
    text = refused(ins, caplog)
    assert f"{folder / 'w40.npz'}: the taught looks are damaged" in text, text


def test_looks_that_claim_a_huge_image_are_not_allocated(taught, caplog) -> None:  # type: ignore[no-untyped-def]
    ins, folder = taught
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (100_000, 100_000)}
    )
    with zipfile.ZipFile(folder / "w40.npz", "w") as z:
        z.writestr("empty/pad_place.npy", header.getvalue() + b"\x00" * 64)
    text = refused(ins, caplog)
    assert "is not a taught look" in text and "(100000, 100000)" in text, text


def test_validate_warns_and_strict_fails(taught) -> None:  # type: ignore[no-untyped-def]
    ins, folder = taught
    ok = oss_limited("validate", "--strict", ins.source, timeout=30)
    assert ok.returncode == 0, ok.describe()
    (folder / "w40.npz").write_bytes(b"garbage")
    out = oss_limited("validate", ins.source, timeout=30)
    assert (
        out.returncode == 0 and f"{folder / 'w40.npz'}: warning: the taught looks are damaged" in out.stdout
    ), out.describe()
    strict = oss_limited("validate", "--strict", ins.source, timeout=30)
    assert strict.failed_cleanly(), strict.describe()
