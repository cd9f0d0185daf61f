"""Builders for event-log tests: events, instructions, and a writer process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from oss.instructions.model import Bench, Instruction, Press, Step, Text
from oss.log.rows import Scalar
from oss.log.store import utc_now
from oss.records import LogEvent

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("writer_process.py")


def ev(kind: str, step_uid: str = "", cycle: int = 0, t: float = 0.0, **data: Scalar) -> LogEvent:
    return LogEvent(kind, t, utc_now(), step_uid, cycle, tuple(sorted(data.items())))


def tiny_instruction(content_hash: str = "0123456789abcdef", steps: int = 3) -> Instruction:
    """A three-step instruction built directly (no file), for processes and hash variations."""
    return Instruction(
        product_id="widget",
        product_name=Text.of(en="Widget"),
        version="2.1",
        languages=("en",),
        default_language="en",
        bench=Bench(1000, 600),
        fixtures={},
        parts={},
        zones={},
        steps=tuple(Step(f"s{i}", Text.of(en=f"step {i}"), Press()) for i in range(steps)),
        content_hash=content_hash,
    )


def writer_command(db: Path, count: int) -> list[str]:
    """A process that appends ``count`` events (0: until killed), printing each id once it is stored."""
    return [sys.executable, str(WRITER), str(db), str(count)]


@contextmanager
def tiny_disk(folder: Path, size: str = "256k") -> Iterator[Path]:
    """A small tmpfs mounted at ``folder``: a real disk that fills up (mounting needs root, as in a
    container; the test is skipped where it cannot mount)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tiny tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill_disk(folder: Path) -> Path:
    """Fill the file system of ``folder`` to the last byte; returns the file to delete to free it."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as f:
        try:
            for _ in range(1 << 20):
                f.write(b"\0" * 4096)
                os.fsync(f.fileno())
        except OSError:
            pass
        else:
            raise AssertionError(f"{folder} never filled up")
        try:
            while True:  # the last partial block
                f.write(b"\0")
        except OSError:
            pass
    return filler
