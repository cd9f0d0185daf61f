"""Builders for event-log tests: events, instructions, and a writer process."""

from __future__ import annotations

import sys
from pathlib import Path

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
