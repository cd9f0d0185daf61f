"""Emulated devices on real pseudo-terminals, and fast link timings for the tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from oss.hardware.emulator import DeviceEmulator
from oss.hardware.link import LinkTiming

T = TypeVar("T")
FAST = LinkTiming(heartbeat_s=0.2, lost_after_s=0.8, retry_s=0.1, identify_s=1.0, resend_s=0.1)


def wait_for(cond: Callable[[], object], timeout: float = 5.0) -> bool:
    """Poll ``cond`` until it is true (the test fails on the assert, never on the clock)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.005)
    return bool(cond())


def add(got: list[T], items: list[T]) -> list[T]:
    """``got`` with ``items`` appended (for conditions that collect while they wait)."""
    got.extend(items)
    return got


@pytest.fixture
def emulators() -> Iterator[Callable[..., DeviceEmulator]]:
    made: list[DeviceEmulator] = []

    def make(kind: str, serial: str, **kw: object) -> DeviceEmulator:
        emu = DeviceEmulator(kind, serial, **kw)  # type: ignore[arg-type]
        emu.plug()
        made.append(emu)
        return emu

    yield make
    for e in made:
        e.unplug()
