"""Shared test fixtures: paths of the repository and of the real test data."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "instructions" / "led_fixture.yaml"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def sample_path() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def sample_instruction():
    from oss.instructions import load_instruction

    return load_instruction(SAMPLE)
