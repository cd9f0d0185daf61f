"""A station with serial devices, run through ``oss run --station FILE`` as a technician does.

Every device kind on emulated devices (real pseudo-terminals behind stable names); plug, unplug, replug,
a device absent at start, a chattering pedal; lamps follow the steps; SIGTERM ends cleanly.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from oss.hardware.emulator import DeviceEmulator
from oss.hardware.records import Light
from tests.conftest import ROOT
from tests.hardware.conftest import wait_for
from tests.hardware.simavr import Board, build_firmware, require_simavr
from tests.station.stationproc import StablePort, StationProcess, read_events

OFF3 = (Light.OFF,) * 3
LAMPS = {"bin_housing": 0, "bin_pad": 1, "bin_led40": 2, "bin_screws": 3, "bin_driver40": 4}


def test_a_station_file_with_an_absent_device_runs_200_frames(tmp_path: Path) -> None:
    """The reproduction of issue 20: this crashed in its first second (TypeError in the loop)."""
    log = tmp_path / "dev.sqlite"
    station = tmp_path / "dev.yaml"
    station.write_text(
        'station: {id: s}\ncamera: {source: "sim:led_basic"}\nprojector: {display: none}\n'
        f"log: {log}\ndevices:\n  - {{kind: pedal, port: {tmp_path / 'no_such_port'}}}\n"
    )
    out = subprocess.run(
        [sys.executable, "run_station.py", "--station", str(station), "--max-frames", "200"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout[out.stdout.index("{") :])
    assert summary["frames"] == 200 and summary["stopped_by"] == "frame limit"
    device = read_events(log, "device")
    assert device and device[0]["device"] == "pedal" and device[0]["ok"] is False
    assert "no_such_port" in device[0]["message"]


class Recorder:
    """Every output state an emulated indicator was asked for, in order."""

    def __init__(self, emu: DeviceEmulator) -> None:
        self.states: list[tuple[Light, ...]] = []
        self._lock = threading.Lock()
        emu.on_outputs = self._add

    def _add(self, s: tuple[Light, ...]) -> None:
        with self._lock:
            self.states.append(s)

    def snapshot(self) -> list[tuple[Light, ...]]:
        with self._lock:
            return list(self.states)


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[dict[str, tuple[DeviceEmulator, StablePort]]]:
    made = {
        "pedal": DeviceEmulator("pedal", "PD-E2E"),
        "box": DeviceEmulator("buttonbox", "BB-E2E"),
        "light": DeviceEmulator("stacklight", "SL-E2E"),
        "lamps": DeviceEmulator("picklight", "PL-E2E"),
    }
    out = {name: (emu, StablePort(tmp_path / f"oss-{name}")) for name, emu in made.items()}
    yield out
    for emu, _ in out.values():
        emu.unplug()


def plug(dev: tuple[DeviceEmulator, StablePort]) -> None:
    emu, port = dev
    port.point_at(emu.plug())


def unplug(dev: tuple[DeviceEmulator, StablePort]) -> None:
    emu, port = dev
    emu.unplug()
    port.point_at(None)


def test_every_device_kind_through_oss_run(
    tmp_path: Path, bench: dict[str, tuple[DeviceEmulator, StablePort]]
) -> None:
    lamps = ", ".join(f"{b}: {i}" for b, i in LAMPS.items())
    station = tmp_path / "station.yaml"
    station.write_text(
        "station: {id: bench-e2e}\n"
        'camera: {source: "sim:led_three_units"}\n'
        "projector: {display: none}\n"
        "devices:\n"
        f"  - {{kind: pedal, port: {bench['pedal'][1].path}}}\n"
        f"  - {{kind: buttonbox, name: box, port: {bench['box'][1].path}, buttons: {{0: next, 2: help}}}}\n"
        f"  - {{kind: stacklight, name: light, port: {bench['light'][1].path}}}\n"
        f"  - {{kind: picklight, name: lamps, port: {bench['lamps'][1].path}, lamps: {{{lamps}}}}}\n"
    )
    light, bins = Recorder(bench["light"][0]), Recorder(bench["lamps"][0])
    for name in ("box", "light", "lamps"):
        plug(bench[name])  # the pedal is not plugged in when the station starts
    summary = tmp_path / "summary.json"
    st = StationProcess(
        ["--station", str(station), "--summary-json", str(summary)], tmp_path / "log.sqlite", tmp_path
    )
    try:
        for name in ("box", "light", "lamps"):
            st.wait_event("device", lambda e, n=name: e["device"] == n and e["ok"] is True)  # type: ignore[misc]
        st.wait_event("device", lambda e: e["device"] == "pedal" and e["ok"] is False)
        assert bench["light"][0].wait_outputs((Light.ON, Light.OFF, Light.OFF), 30.0), light.snapshot()

        plug(bench["pedal"])  # plugged in while the station runs
        st.wait_event("device", lambda e: e["device"] == "pedal" and e["ok"] is True)
        bench["pedal"][0].click(1)  # the second pedal goes back (refused on the first step, logged)
        st.wait_event("back", lambda e: e["source"] == "pedal")
        bench["box"][0].click(2)  # input 2 of the box is help, as the station file says
        st.wait_event("help", lambda e: e["source"] == "buttonbox" and e["on"] is True)
        assert bench["light"][0].wait_outputs((Light.OFF, Light.BLINK, Light.OFF), 30.0), light.snapshot()
        time.sleep(1.1)
        bench["box"][0].click(2)
        st.wait_event("help", lambda e: e["source"] == "buttonbox" and e["on"] is False)

        backs_before = len([e for e in st.events("back") if e["source"] == "pedal"])
        for _ in range(5000):  # a chattering pedal: thousands of presses in a burst
            bench["pedal"][0].click(1)
        st.wait_event("device", lambda e: e["device"] == "pedal" and "chatter" in e["message"])

        unplug(bench["light"])  # the stack light's cable is pulled ...
        st.wait_event("device", lambda e: e["device"] == "light" and e["ok"] is False)
        plug(bench["light"])  # ... and put back (on another pty, the same stable name)
        st.wait_event(
            "device", lambda e: e["device"] == "light" and e["ok"] is True and "back" in e["message"]
        )
        assert bench["light"][0].wait_outputs((Light.ON, Light.OFF, Light.OFF), 30.0)
        st.wait_event("step_start", lambda e: True)
        n_light = len(light.snapshot())
        n_bins = len(bins.snapshot())
        rc, out = st.stop(signal.SIGTERM)
    finally:
        st.kill()
    assert rc == 0, st.stderr()[-3000:]
    events = st.events()
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "session_end", kinds[-5:]
    assert json.loads(summary.read_text())["stopped_by"] == "SIGTERM"
    assert json.loads(out[out.index("{") :])["stopped_by"] == "SIGTERM"
    # the chatter: a few presses at most reached the engine, nobody was called for help by it
    backs = [e for e in events if e["event"] == "back" and e["source"] == "pedal"]
    assert len(backs) - backs_before <= 3
    assert not [e for e in events if e["event"] == "help" and e["source"] != "buttonbox"]
    # lamps off at the clean stop (before the firmware's own host-silent state)
    assert OFF3 in light.snapshot()[n_light:], light.snapshot()[n_light:]
    assert any(all(x is Light.OFF for x in s) for s in bins.snapshot()[n_bins:])
    # bin lamps followed the steps: the housing's lamp before the pad's, and only configured lamps lit
    lit = [next((i for i, x in enumerate(s) if x is Light.ON), None) for s in bins.snapshot()]
    lit = [i for i in lit if i is not None]
    assert LAMPS["bin_housing"] in lit and set(lit) <= set(LAMPS.values())
    if LAMPS["bin_pad"] in lit:
        assert lit.index(LAMPS["bin_housing"]) < lit.index(LAMPS["bin_pad"])


def test_real_firmware_pedal_and_stack_light_on_simavr_through_oss_run(tmp_path: Path) -> None:
    """The firmware itself (avr-gcc, simavr), a pedal and a stack light, driven by a station process."""
    require_simavr()
    build = build_firmware(tmp_path / "avr")
    pedal, light = Board(build, "pedal"), Board(build, "stacklight")
    try:
        station = tmp_path / "station.yaml"
        station.write_text(
            'station: {id: bench-avr}\ncamera: {source: "sim:led_three_units"}\nprojector: {display: none}\n'
            f"devices:\n  - {{kind: pedal, port: {pedal.port}}}\n"
            f"  - {{kind: stacklight, name: light, port: {light.port}}}\n"
        )
        st = StationProcess(["--station", str(station)], tmp_path / "log.sqlite", tmp_path)
        try:
            for name in ("pedal", "light"):
                e = st.wait_event("device", lambda e, n=name: e["device"] == n and e["ok"] is True)  # type: ignore[misc]
                assert "SIM-" in e["message"]  # its identity: the firmware's serial number
            assert wait_for(lambda: light.outputs("D5", "D6", "D7") == (1, 0, 0), 30.0)  # green: running
            pedal.pin("D3", 0)  # the second pedal (back) closes its switch to GND ...
            st.wait_event("back", lambda e: e["source"] == "pedal")
            pedal.pin("D3", 1)  # ... and opens it again
            rc, _ = st.stop(signal.SIGINT)  # Ctrl+C in a terminal: as clean as systemctl stop
        finally:
            st.kill()
        assert rc == 0, st.stderr()[-3000:]
        assert st.events()[-1]["event"] == "session_end"
        assert light.outputs("D5", "D6", "D7") == (0, 0, 0)  # lamps off at once, not the host-lost blink
    finally:
        pedal.close()
        light.close()


def test_resume_ask_without_a_display_resumes_the_unfinished_unit(tmp_path: Path) -> None:
    log = tmp_path / "log.sqlite"
    base = [
        sys.executable,
        "-m",
        "oss.cli",
        "run",
        "--camera",
        "sim:led_basic",
        "--display",
        "none",
        "--log",
        str(log),
    ]
    first = subprocess.run(
        [*base, "--max-frames", "240"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert first.returncode == 0, first.stderr[-3000:]
    done = [e for e in read_events(log, "step_end")]
    assert done and not read_events(log, "cycle_end")  # stopped in the middle of the first unit
    again = subprocess.run(
        [*base, "--max-frames", "5"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert "no display to ask on: resuming it" in again.stderr
    summary = json.loads(again.stdout[again.stdout.index("{") :])
    assert summary["resumed"] == {"unit": 1, "step": len(done)}
    starts = read_events(log, "session_start")
    assert len(starts) == 2 and starts[1]["resumed"] is True
    assert read_events(log, "cycle_start")[-1]["resume_step_index"] == len(done)
