"""Fixtures of the engine tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from oss.engine import StepEngine
from oss.instructions import model as m
from tests.engine.builders import StepClock, instruction


@pytest.fixture
def make_engine() -> Callable[..., StepEngine]:
    """``make_engine(step, step, ..., **engine_options)`` on a small hand-built instruction."""

    def make(*steps: m.Step, **kw: object) -> StepEngine:
        return StepEngine(instruction(*steps), None, utc_clock=StepClock(), **kw)  # type: ignore[arg-type]

    return make
