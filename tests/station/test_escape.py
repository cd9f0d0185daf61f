"""Escape in the projector window, as a person presses it (real X key events under Xvfb, xdotool)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.station.stationproc import StationProcess

pytestmark = pytest.mark.display


def xdotool(display: str, *args: str) -> None:
    exe = shutil.which("xdotool")
    if exe is None:
        msg = "needs xdotool (apt-get install xdotool) to press keys in the projector window"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    subprocess.run([exe, *args], env=dict(os.environ, DISPLAY=display), check=True, timeout=30)


def keys(display: str, *names: str) -> None:
    xdotool(display, "mousemove", "200", "200")  # no window manager: keys go to the window under the pointer
    for k in names:
        xdotool(display, "key", "--delay", "150", k)
        time.sleep(0.2)  # typed like a person, slower than a badge reader's burst


def start(tmp_path: Path, display: str, escape: str, pin: str | None) -> StationProcess:
    station = tmp_path / "station.yaml"
    station.write_text(
        'station: {id: kiosk}\ncamera: {source: "sim:led_three_units"}\n'
        f"projector: {{display: window, escape: {escape}}}\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OSS_SUPERVISOR_PIN"}
    env["DISPLAY"] = display
    if pin:
        env["OSS_SUPERVISOR_PIN"] = pin
    st = StationProcess(
        ["--station", str(station), "--summary-json", str(tmp_path / "s.json")],
        tmp_path / "log.sqlite",
        tmp_path,
        env=env,
    )
    st.wait_event("step_start")
    return st


def outcomes(st: StationProcess) -> list[str]:
    return [e["outcome"] for e in st.events("stop_request")]


def test_escape_asks_for_the_supervisor_pin(tmp_path: Path, x_display: str) -> None:
    st = start(tmp_path, x_display, "pin", "4821")
    try:
        keys(x_display, "Escape")
        st.wait_event("stop_request", lambda e: e["outcome"] == "asked")
        keys(x_display, "1", "1", "1", "1", "Return")  # a wrong PIN: the station goes on
        st.wait_event("stop_request", lambda e: e["outcome"] == "wrong pin")
        assert st.proc.poll() is None
        keys(x_display, "4", "8", "2", "1", "Return")
        st.proc.wait(60)
    finally:
        st.kill()
    assert st.proc.returncode == 0, st.stderr()[-3000:]
    assert outcomes(st) == ["asked", "wrong pin", "stopped"]
    assert st.events()[-1]["event"] == "session_end"
    assert json.loads((tmp_path / "s.json").read_text())["stopped_by"] == "escape"
    # the PIN's digits were text, never buttons: no step was confirmed, no help called by them
    assert not st.events("help") and not st.events("pause")


def test_escape_twice_stops_and_a_kiosk_ignores_it(tmp_path: Path, x_display: str) -> None:
    st = start(tmp_path / "a", x_display, "confirm", None) if (tmp_path / "a").mkdir() is None else None
    assert st is not None
    try:
        keys(x_display, "Escape")
        st.wait_event("stop_request", lambda e: e["outcome"] == "asked")
        assert st.proc.poll() is None  # one Escape alone never stops the station
        keys(x_display, "Escape")
        st.proc.wait(60)
    finally:
        st.kill()
    assert st.proc.returncode == 0 and outcomes(st) == ["asked", "stopped"]

    (tmp_path / "b").mkdir()
    st = start(tmp_path / "b", x_display, "ignore", "4821")
    try:
        keys(x_display, "Escape", "Escape")
        st.wait_event("stop_request", lambda e: e["outcome"] == "ignored")
        assert st.proc.poll() is None
        rc, _ = st.stop()
    finally:
        st.kill()
    assert rc == 0 and set(outcomes(st)) == {"ignored"}
