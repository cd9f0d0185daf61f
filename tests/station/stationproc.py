"""A station run as a technician runs it: ``oss run --station FILE`` in a subprocess, its event log read
while it runs, and devices on stable port names (a symlink re-pointed on every plug, as udev does)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import ROOT


class StablePort:
    """``path`` always names the device's current pty while it is plugged (like /dev/oss-pedal)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def point_at(self, target: str | None) -> None:
        tmp = self.path.with_name(self.path.name + ".new")
        tmp.unlink(missing_ok=True)
        if target is None:
            self.path.unlink(missing_ok=True)
            return
        os.symlink(target, tmp)
        os.replace(tmp, self.path)


def read_events(log: Path, kind: str | None = None) -> list[dict[str, Any]]:
    """The log's events in order, each its data with ``event`` = the event's kind (data may have a
    ``kind`` of its own: a device's)."""
    if not log.exists():
        return []
    try:
        con = sqlite3.connect(f"file:{log}?mode=ro", uri=True, timeout=5.0)
        try:
            rows = con.execute("SELECT kind, data FROM events ORDER BY seq").fetchall()
        finally:
            con.close()
    except sqlite3.OperationalError:  # not created yet
        return []
    out = [{**json.loads(d or "{}"), "event": k} for k, d in rows]
    return [e for e in out if kind is None or e["event"] == kind]


class StationProcess:
    """``oss run`` in a subprocess; ``events()`` reads its log (SQLite, WAL: readable while it writes)."""

    def __init__(self, args: list[str], log: Path, workdir: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self.stderr_path = workdir / "station.stderr"
        self._stderr = self.stderr_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "oss.cli", "run", *args, "--log", str(log)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
        )

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        return read_events(self.log, kind)

    def wait_event(
        self, kind: str, cond: Callable[[dict[str, Any]], bool] = lambda e: True, timeout: float = 60.0
    ) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for e in self.events(kind):
                if cond(e):
                    return e
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(
            f"no '{kind}' event as expected within {timeout} s; station rc={self.proc.poll()}\n"
            f"log: {self.events()[-15:]}\nstderr: {self.stderr()[-3000:]}"
        )

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> tuple[int, str]:
        """Send ``sig`` and wait for the end; returns (exit code, stdout)."""
        self.proc.send_signal(sig)
        out, _ = self.proc.communicate(timeout=timeout)
        self._stderr.close()
        return self.proc.returncode, out

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=10)
        self._stderr.close()
