"""The deployment kit in deploy/: paths, the tools its checks need, and an X display for the monitor.

A check whose tool is missing is skipped on a workstation and fails in CI (CI=true), where .ci/run
installs it."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.xdisplay import x_display

__all__ = ["x_display"]

DEPLOY = ROOT / "deploy"
STATIONS = sorted((DEPLOY / "stations").glob("*.yaml"))
UNIT = DEPLOY / "systemd" / "oss-station.service"
ENV_EXAMPLE = DEPLOY / "systemd" / "oss.env.example"
DESKTOP = DEPLOY / "autostart" / "oss-station.desktop"
RULES = DEPLOY / "udev" / "99-oss.rules"
VENV = Path(sys.prefix)  # the installed OSS: stands in for /opt/oss/venv


def missing(what: str) -> None:
    """Skip on a workstation, fail in CI: ``what`` names the missing tool and its Debian package."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} in CI: add it to PKGS in .ci/run")
    pytest.skip(what)


def need_tool(exe: str, package: str) -> str:
    path = shutil.which(exe)
    if path is None:
        missing(f"{exe} is not installed (Debian: apt-get install {package})")
    assert path is not None
    return path


def events(log: Path, kind: str) -> list[str]:
    """The ``data`` of every event of ``kind`` in a station's SQLite log."""
    with sqlite3.connect(log) as db:
        return [row[0] for row in db.execute("SELECT data FROM events WHERE kind = ? ORDER BY seq", (kind,))]
