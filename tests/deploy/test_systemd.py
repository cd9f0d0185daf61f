"""The kiosk's systemd user unit (deploy/systemd/) and its session autostart entry (deploy/autostart/).

* ``systemd-analyze --user verify`` accepts the unit as written, with only the install prefix
  /opt/oss/venv moved to this checkout's virtual environment (verify needs ExecStart's program to
  exist); the same check fails on a misspelt setting, so it does read the file.
* The unit's command line, run as systemd runs it (the unit's Environment=, then the example
  EnvironmentFile, ``${OSS_INSTRUCTIONS}`` expanded) against an example station file, on the virtual
  bench, is stopped with the unit's KillSignal: the session ends cleanly within TimeoutStopSec and the
  exit status is 0, which Restart=on-failure leaves stopped.
* The autostart entry passes ``desktop-file-validate``, and its command, run with stand-ins for
  systemctl and xset, hands the display to the user manager and starts this very unit.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.deploy.conftest import DEPLOY, DESKTOP, ENV_EXAMPLE, UNIT, VENV, need_tool

OPT = "/opt/oss/venv"
STATION_FILE = DEPLOY / "stations" / "pick-to-light.yaml"  # devices absent here: they must not hold up a stop


def unit_settings(text: str) -> dict[str, list[str]]:
    """``Section.Key`` -> its values in order (systemd allows a key several times), continuations joined."""
    out: dict[str, list[str]] = {}
    section = ""
    for line in re.sub(r"\\\n", " ", text).splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return out


def seconds(value: str) -> float:
    """A systemd time span such as 10s, 5min, 1min 30s, 20 (seconds)."""
    units = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "ms": 0.001}
    total = 0.0
    for num, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value):
        total += float(num) * units[unit]
    return total


def env_file(text: str) -> dict[str, str]:
    """An EnvironmentFile= as systemd reads it: NAME=value lines, '#' and ';' comments, optional quotes."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            out[key] = (
                value[1:-1] if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"" else value
            )
    return out


def exec_argv(command: str, env: dict[str, str]) -> list[str]:
    """ExecStart= as systemd expands it: ``${NAME}`` is one word, ``$NAME`` splits at white space."""
    argv: list[str] = []
    for word in shlex.split(command):
        m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if m:
            argv += env.get(m.group(1), "").split()
        else:
            argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda g: env.get(g.group(1), ""), word))
    return argv


def verify(unit: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    exe = need_tool("systemd-analyze", "systemd")
    runtime = tmp_path / "xdg-runtime"  # the user manager's runtime dir; verify needs one, not a session
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), SYSTEMD_LOG_COLOR="0")
    return subprocess.run(
        [exe, "--user", "--man=no", "verify", str(unit)], capture_output=True, text=True, env=env, timeout=30
    )


def local_unit(tmp_path: Path, text: str | None = None) -> Path:
    """The unit with the install prefix moved to this checkout's virtual environment."""
    assert (VENV / "bin" / "oss").exists(), "the oss command is installed in the virtual environment"
    path = tmp_path / UNIT.name
    path.write_text((text or UNIT.read_text()).replace(OPT, str(VENV)))
    return path


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    out = verify(local_unit(tmp_path), tmp_path)
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), out.stderr
    (tmp_path / "misspelt").mkdir()
    out = verify(local_unit(tmp_path / "misspelt", UNIT.read_text().replace("=mixed", "=mixd")), tmp_path)
    assert "mixd" in out.stderr  # a misspelt value is reported: the check above reads the file


def test_unit_restarts_failures_with_a_back_off_and_stops_cleanly() -> None:
    u = unit_settings(UNIT.read_text())
    assert u["Service.Restart"] == ["on-failure"]
    assert seconds(u["Service.RestartSec"][-1]) >= 5
    assert int(u["Unit.StartLimitBurst"][-1]) * seconds(u["Service.RestartSec"][-1]) < seconds(
        u["Unit.StartLimitIntervalSec"][-1]
    ), "the start limit can be reached: a station that cannot start gives up instead of looping"
    assert u["Service.KillSignal"] == ["SIGTERM"]
    assert 5 <= seconds(u["Service.TimeoutStopSec"][-1]) <= 60
    assert u["Service.EnvironmentFile"] == ["/etc/oss/oss.env"]
    assert u["Install.WantedBy"] == ["graphical-session.target"]
    argv = exec_argv(u["Service.ExecStart"][-1], {"OSS_INSTRUCTIONS": "X"})
    assert argv[:4] == [f"{OPT}/bin/oss", "run", "--station", "/etc/oss/station.yaml"]


def test_secrets_come_from_the_environment_file() -> None:
    u = unit_settings(UNIT.read_text())
    set_in_unit = " ".join(u.get("Service.Environment", []))
    example = env_file(
        ENV_EXAMPLE.read_text()
        .replace("#OSS_SUPERVISOR_PIN=", "OSS_SUPERVISOR_PIN=")
        .replace("#PGPASSWORD=", "PGPASSWORD=")
    )
    for name in ("OSS_SUPERVISOR_PIN", "PGPASSWORD"):
        assert name not in set_in_unit and name in example, name
    assert "OSS_INSTRUCTIONS" in example


def session_rows(log: Path) -> list[tuple[str, str | None]]:
    if not log.exists():
        return []
    try:
        with sqlite3.connect(log, timeout=1) as db:
            return list(db.execute("SELECT id, ended_utc FROM sessions"))
    except sqlite3.OperationalError:  # not created yet
        return []


@pytest.mark.slow
def test_the_units_command_runs_and_stops_cleanly_on_its_kill_signal(tmp_path: Path) -> None:
    u = unit_settings(UNIT.read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "OSS_"))}
    for assignment in u.get("Service.Environment", []):
        for word in shlex.split(assignment):
            key, _, value = word.partition("=")
            env[key] = value
    env.update(env_file(ENV_EXAMPLE.read_text().replace("/srv/oss/instructions", str(ROOT / "instructions"))))
    argv = exec_argv(u["Service.ExecStart"][-1].replace(OPT, str(VENV)), env)
    argv = [STATION_FILE.as_posix() if a == "/etc/oss/station.yaml" else a for a in argv]
    log, summary = tmp_path / "station.sqlite", tmp_path / "summary.json"
    # here: the virtual bench paced like a camera instead of the real one, no projector window
    argv += [
        "--camera",
        "sim:led_basic",
        "--realtime",
        "--display",
        "none",
        "--log",
        str(log),
        "--summary-json",
        str(summary),
    ]
    proc = subprocess.Popen(
        argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        end = time.monotonic() + 30
        while not session_rows(log) and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert session_rows(log), "the station started a session"
        time.sleep(1.0)  # some frames into the session
        proc.send_signal(getattr(signal, u["Service.KillSignal"][-1]))
        t0 = time.monotonic()
        _, err = proc.communicate(timeout=seconds(u["Service.TimeoutStopSec"][-1]))
        stop_s = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err[-3000:]  # a clean stop: Restart=on-failure leaves it stopped
    assert json.loads(summary.read_text())["stopped_by"] == "SIGTERM"
    assert all(ended for _, ended in session_rows(log)), "every session is ended in the log"
    assert stop_s < seconds(u["Service.TimeoutStopSec"][-1]) / 2


def test_autostart_entry_is_valid() -> None:
    exe = need_tool("desktop-file-validate", "desktop-file-utils")
    out = subprocess.run([exe, str(DESKTOP)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout + out.stderr


def test_autostart_entry_hands_over_the_display_and_starts_the_unit(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("systemctl", "xset"):  # stand-ins that write down how they were called
        (bindir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> "{calls}"\n')
        (bindir / tool).chmod(0o755)
    entry = dict(
        line.split("=", 1)
        for line in DESKTOP.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", DISPLAY=":7")
    out = subprocess.run(shlex.split(entry["Exec"]), env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    lines = calls.read_text().splitlines()
    assert lines[0].startswith("systemctl --user import-environment DISPLAY XAUTHORITY")
    assert "xset s off s noblank -dpms" in lines  # the projector must not go dark
    assert lines[-1] == f"systemctl --user start {UNIT.name}"
