"""A station killed with SIGKILL loses no logged event, and the restarted station resumes the unit."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT


def _rows(db: Path) -> list[tuple[str, str, str, int]]:
    with sqlite3.connect(db) as c:
        return c.execute("select id, kind, step_uid, cycle from events order by seq").fetchall()


def test_kill_and_restart_loses_nothing_and_resumes(tmp_path: Path) -> None:
    db = tmp_path / "station.sqlite"
    cmd = [
        sys.executable,
        "-m",
        "oss.cli",
        "run",
        "--camera",
        "sim:led_basic",
        "--display",
        "none",
        "--log",
        str(db),
        "--max-cycles",
        "1",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    seen: list[tuple[str, str, str, int]] = []
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            if db.exists():
                try:
                    seen = _rows(db)
                except sqlite3.OperationalError:
                    continue
                if sum(1 for r in seen if r[1] == "step_end") >= 2:
                    break
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert sum(1 for r in seen if r[1] == "step_end") >= 2, "the station did not get through two steps"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    after_kill = _rows(db)
    assert set(seen) <= set(after_kill)  # every event another process saw committed is still there
    done = [r[2] for r in after_kill if r[1] == "step_end"]

    out = subprocess.run(
        [*cmd, "--resume", "yes", "--max-frames", "60"], cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    assert out.returncode == 0, out.stderr
    rows = _rows(db)
    assert rows[: len(after_kill)] == after_kill  # nothing lost, nothing rewritten
    new = rows[len(after_kill) :]
    kinds = [r[1] for r in new]
    assert kinds[:3] == ["session_start", "cycle_start", "step_start"]
    # the resumed unit is the same unit, at the first step that was not done
    assert new[1][3] == 1
    from oss.instructions import load_instruction

    steps = [s.uid for s in load_instruction(ROOT / "instructions" / "led_fixture.yaml").run_steps("w40")]
    assert new[2][2] == steps[len(done)]
