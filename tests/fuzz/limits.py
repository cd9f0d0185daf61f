"""Run an ``oss`` command the way a user does, but in a box: a time limit and an address-space limit.

``RLIMIT_AS`` of 500 MB: the interpreter with numpy, OpenCV and PyYAML loaded maps about 300 MB
(measured: VmSize 296 MB after importing every reader and ``oss.station.build``), and a failing
``oss run`` finishes well inside 500 MB; a reader that tries to allocate for a billion repeats or a
100000 x 100000 camera gets MemoryError (a traceback, which the tests catch) instead of eating the machine.
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

MEMORY_BYTES = 500 * 1024 * 1024
TIME_S = 5.0


def _limit_memory() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@dataclass(frozen=True)
class Outcome:
    args: tuple[str, ...]
    returncode: int | None  # None: killed at the time limit
    stdout: str
    stderr: str

    @property
    def said(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        if self.returncode is None:
            how = "timed out"
        elif self.returncode < 0:
            how = f"killed by {signal.Signals(-self.returncode).name}"
        else:
            how = f"exit {self.returncode}"
        return f"oss {' '.join(self.args)}: {how}\n--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"

    def failed_cleanly(self) -> bool:
        """Exit 1, no traceback, no signal."""
        return self.returncode == 1 and "Traceback" not in self.said


def oss_limited(*args: str | Path, timeout: float = TIME_S, cwd: Path = ROOT) -> Outcome:
    """``oss ARGS`` in a subprocess with the time and memory limits."""
    argv = tuple(str(a) for a in args)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "oss.cli", *argv],
            cwd=cwd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return Outcome(argv, None, out, err)
    return Outcome(argv, proc.returncode, proc.stdout, proc.stderr)
