"""The real firmware in simavr: build it, run a board on a pty, press its inputs, read its pins.

Needs the Debian packages gcc-avr, avr-libc, binutils-avr, libsimavr-dev, libsimavrparts1 (.ci/run installs
them). Without them the tests that use it are skipped and say why; in CI (CI=true) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from tests.conftest import ROOT

HW = ROOT / "hardware"
MISSING = "needs gcc-avr, avr-libc, binutils-avr, libsimavr-dev and libsimavrparts1 (apt-get install)"
AVAILABLE = shutil.which("avr-gcc") is not None and Path("/usr/include/simavr/parts/uart_pty.h").exists()


def require_simavr() -> None:
    """Skip the calling test without simavr; in CI, fail it (CI installs it, so missing is a fault)."""
    if AVAILABLE:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(MISSING)
    pytest.skip(MISSING)


def build_firmware(out: Path, kinds: tuple[str, ...] = ("pedal", "stacklight")) -> Path:
    """Compile the firmware of ``kinds`` (serial numbers SIM-pe, SIM-st, ...) and oss_simavr into ``out``."""
    for kind in kinds:
        subprocess.run(
            [
                "make",
                "-s",
                "-C",
                str(HW / "firmware"),
                f"KIND={kind}",
                f"SERIAL=SIM-{kind[:2]}",
                f"BUILD={out}",
            ],
            check=True,
            capture_output=True,
        )
    subprocess.run(["make", "-s", "-C", str(HW / "sim"), f"BUILD={out}"], check=True, capture_output=True)
    return out


class Board:
    """oss_simavr running one firmware: its port, its output pins, and a way to press inputs."""

    def __init__(self, build: Path, kind: str) -> None:
        self.proc = subprocess.Popen(
            [str(build / "oss_simavr"), str(build / f"oss-{kind}.elf")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        assert self.proc.stdout is not None
        self.port = ""
        for line in self.proc.stdout:
            if line.startswith("port "):
                self.port = line.split()[1]
                break
        assert self.port, "oss_simavr did not report its pty"
        self.pins: dict[str, int] = {}
        self.toggles: dict[str, int] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "pin":
                self.toggles[parts[1]] = self.toggles.get(parts[1], 0) + 1
                self.pins[parts[1]] = int(parts[2])

    def pin(self, name: str, value: int) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"pin {name} {value}\n")
        self.proc.stdin.flush()

    def outputs(self, *names: str) -> tuple[int, ...]:
        return tuple(self.pins.get(n, 0) for n in names)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
