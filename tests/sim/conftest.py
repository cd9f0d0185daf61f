"""Helpers for the virtual-bench tests: scenarios written on the fly, small cameras for logic tests."""

from __future__ import annotations

import dataclasses as dc
from collections.abc import Callable
from pathlib import Path

import pytest

from oss.instructions import load_instruction
from oss.instructions.model import Instruction
from oss.sim.bench import VirtualBench
from oss.sim.scenario import PROJECT_ROOT, Scenario, load_scenario

SAMPLE = PROJECT_ROOT / "instructions" / "led_fixture.yaml"


@pytest.fixture(scope="session")
def led() -> Instruction:
    return load_instruction(SAMPLE)


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[[str], Path]:
    """Write a scenario file whose header names the LED instruction; returns its path."""

    def write(body: str, name: str = "s.yaml") -> Path:
        p = tmp_path / name
        p.write_text(f"format: 1\ninstructions: {SAMPLE}\nvariant: w40\n{body}")
        return p

    return write


def small(scenario: Scenario, size: tuple[int, int] = (320, 180), fps: float | None = None) -> Scenario:
    """The same scenario seen by a small (and, with ``fps``, slower) camera: same operator, faster to run."""
    return dc.replace(scenario, camera=dc.replace(scenario.camera, size=size, fps=fps or scenario.camera.fps))


def bench_of(
    name_or_path: str | Path,
    led: Instruction,
    size: tuple[int, int] | None = (320, 180),
    self_paced: bool = True,
    fps: float | None = None,
) -> VirtualBench:
    sc = load_scenario(name_or_path)
    return VirtualBench(small(sc, size, fps) if size else sc, led, self_paced=self_paced)
