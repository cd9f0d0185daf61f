"""Serial device figures: pedal press on the wire → InputEvent available, and output command round trip.

    .venv/bin/python benchmarks/bench_devices.py [--n 200] [--no-simavr]

Prints JSON. The emulator runs on a real pty (the host side is the production driver); with gcc-avr and
libsimavr installed the real firmware is measured too, from the switch closing on the pin (so including
its 20 ms debounce) to the InputEvent. A station adds up to one tick of its loop on top (33 ms at 30 fps):
``poll_inputs`` is called once per tick.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from oss.config import DeviceConfig  # noqa: E402
from oss.hardware.emulator import DeviceEmulator  # noqa: E402
from oss.hardware.link import LinkTiming  # noqa: E402
from oss.hardware.manager import DeviceManager  # noqa: E402
from oss.records import InputEvent, Phase, StationState  # noqa: E402


def _stats(xs: list[float]) -> dict[str, float | int]:
    xs = sorted(xs)
    return {
        "n": len(xs),
        "median_ms": round(statistics.median(xs) * 1000, 3),
        "p95_ms": round(xs[int(0.95 * (len(xs) - 1))] * 1000, 3),
        "max_ms": round(xs[-1] * 1000, 3),
    }


def _wait_connected(m: DeviceManager, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not all(m.connected().values()):
        if time.monotonic() > end:
            raise SystemExit(f"device did not connect: {m.status_events()}")
        time.sleep(0.01)


def _next_event(m: DeviceManager, timeout: float = 5.0) -> tuple[InputEvent, float]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        evs = m.poll_inputs()
        if evs:
            return evs[0], time.monotonic()
        time.sleep(0.0002)
    raise SystemExit("a press did not arrive")


def emulated(n: int) -> dict[str, object]:
    pedal = DeviceEmulator("pedal", "BENCH-PD")
    light = DeviceEmulator("stacklight", "BENCH-SL")
    cfgs = [
        DeviceConfig("pedal", port=pedal.plug(), name="pedal"),
        DeviceConfig("stacklight", port=light.plug(), name="light"),
    ]
    press, to_queue = [], []
    show_to_ack: list[float] = []
    with DeviceManager(cfgs, timing=LinkTiming(retry_s=0.1)) as m:
        _wait_connected(m)
        for _ in range(n):
            t_wire = pedal.press(0)
            ev, t_avail = _next_event(m)
            press.append(t_avail - t_wire)
            to_queue.append(max(0.0, ev.t - t_wire))
            pedal.release(0)
            time.sleep(0.002)
        ind = m.stacklights[0]
        for i in range(n):
            phase = Phase.RUNNING if i % 2 else Phase.ERROR
            t0 = time.monotonic()
            m.follow(StationState(phase, 0, "s", None, 0), [], "")
            while not ind.acknowledged:
                time.sleep(0.0002)
            show_to_ack.append(time.monotonic() - t0)
        rt = m.round_trips()
    pedal.unplug()
    light.unplug()
    return {
        "press_wire_to_input_event": _stats(press),
        "press_wire_to_reader_thread": _stats(to_queue),
        "command_round_trip_send_to_ack": _stats(rt),
        "command_follow_to_acknowledged": _stats(show_to_ack),
    }


def firmware(n: int) -> dict[str, object] | str:
    if shutil.which("avr-gcc") is None or not Path("/usr/include/simavr/parts/uart_pty.h").exists():
        return "skipped: needs gcc-avr, avr-libc, binutils-avr, libsimavr-dev, libsimavrparts1"
    out = Path(tempfile.mkdtemp(prefix="oss-avr-"))
    subprocess.run(
        ["make", "-s", "-C", str(ROOT / "hardware/firmware"), "KIND=pedal", f"BUILD={out}"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["make", "-s", "-C", str(ROOT / "hardware/sim"), f"BUILD={out}"], check=True, capture_output=True
    )
    proc = subprocess.Popen(
        [str(out / "oss_simavr"), str(out / "oss-pedal.elf")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        bufsize=1,
    )
    assert proc.stdin is not None and proc.stdout is not None
    port = next(line.split()[1] for line in proc.stdout if line.startswith("port "))
    lat = []
    try:
        cfg = DeviceConfig("pedal", port=port, name="pedal")
        with DeviceManager([cfg], timing=LinkTiming(retry_s=0.2)) as m:
            _wait_connected(m)
            for _ in range(n):
                t0 = time.monotonic()
                proc.stdin.write("pin D2 0\n")
                proc.stdin.flush()
                _, t_avail = _next_event(m)
                lat.append(t_avail - t0)
                proc.stdin.write("pin D2 1\n")
                proc.stdin.flush()
                time.sleep(0.06)
    finally:
        proc.stdin.close()
        proc.wait(timeout=5)
        shutil.rmtree(out, ignore_errors=True)
    return {"press_pin_to_input_event_incl_20ms_debounce": _stats(lat)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--no-simavr", action="store_true")
    args = ap.parse_args()
    result: dict[str, object] = {"emulator_over_pty": emulated(args.n)}
    if not args.no_simavr:
        result["firmware_in_simavr"] = firmware(min(args.n, 50))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
