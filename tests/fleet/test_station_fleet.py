"""The station file's ``fleet: {dsn: ...}`` through ``oss run --station``: the log reaches PostgreSQL."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.conftest import ROOT


def test_station_file_fleet_dsn_forwards_the_log(tmp_path: Path, fleet_db: str) -> None:
    station = tmp_path / "st.yaml"
    station.write_text(
        'station: {id: fleet-st1}\ncamera: {source: "sim:led_basic"}\nprojector: {display: none}\n'
        f'log: log.sqlite\nfleet: {{dsn: "{fleet_db}"}}\n'
    )
    out = subprocess.run(
        [sys.executable, "-m", "oss.cli", "run", "--station", str(station), "--max-frames", "90"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    with sqlite3.connect(tmp_path / "log.sqlite") as c:
        local = [r[0] for r in c.execute("SELECT id FROM events ORDER BY seq")]
    with psycopg.connect(fleet_db) as c:
        central = [r[0] for r in c.execute("SELECT id FROM events WHERE station = 'fleet-st1' ORDER BY seq")]
    assert local and central == local  # every event, once, by the time the station has stopped
