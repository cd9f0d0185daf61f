"""The station's disk fills up during a run and stays full until it stops; space is freed, `oss sync`
runs: every event reaches the log and the fleet store, each exactly once."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ROOT
from tests.log.builders import fill_disk, tiny_disk

pytestmark = pytest.mark.postgres


def _rows(db: Path) -> list[tuple[str, int, str]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        return c.execute("SELECT id, seq, kind FROM events ORDER BY seq").fetchall()


def test_disk_full_until_stop_then_sync_delivers_every_event_once(tmp_path: Path, fleet_db: str) -> None:
    with tiny_disk(tmp_path / "disk", "8m") as disk:
        db, state, summary = disk / "station.sqlite", tmp_path / "state", tmp_path / "summary.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "OSS_FLEET"))}
        env.update(XDG_STATE_HOME=str(state), OSS_FLEET_DSN=fleet_db)  # the station forwards as it runs
        run = [sys.executable, "-m", "oss.cli", "run", "--camera", "sim:led_basic", "--display", "none"]
        run += ["--log", str(db), "--max-frames", "450", "--summary-json", str(summary)]
        proc = subprocess.Popen(
            run, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        try:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.1)
                try:
                    if len(_rows(db)) >= 3:  # session, unit and first step started
                        break
                except sqlite3.Error:
                    continue
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            filler = fill_disk(disk)
            _, err = proc.communicate(timeout=600)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        before = _rows(db)
        journals = list((state / "oss" / "spill").glob("station.sqlite.*.spill.jsonl"))
        assert len(journals) == 1, err
        assert "the disk is full" in err and f"saved in {journals[0]}" in err
        assert "write lost" not in err and "kept in memory" not in err
        assert json.loads(summary.read_text())["stopped_by"] == "frame limit"  # the summary is written

        filler.unlink()  # space freed
        sync = [sys.executable, "-m", "oss.cli", "sync", str(db), "--dsn", fleet_db]
        done = subprocess.run(sync, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        after = _rows(db)
        merged = len(after) - len(before)
        assert merged > 0 and f"{merged} event(s) merged" in done.stdout
        assert not journals[0].exists()
        assert after[: len(before)] == before and [r[1] for r in after] == list(range(1, len(after) + 1))
        assert len({r[0] for r in after}) == len(after)
        assert after[-1][2] == "session_end"  # logged at the stop, while the disk was full
        with psycopg.connect(fleet_db) as c:
            central = [r[0] for r in c.execute("SELECT id FROM events")]
        assert sorted(central) == sorted(r[0] for r in after)  # every event, exactly once

        again = subprocess.run(sync, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert "0 event(s) merged" in again.stdout and "0 new events forwarded" in again.stdout
        assert _rows(db) == after
