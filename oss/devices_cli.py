"""``oss devices``: list serial ports, identify OSS devices on them, test one.

    oss devices                       list ports and ask each USB one what it is
    oss devices list --no-probe       list ports without opening them
    oss devices list --port /dev/pts/7  also ask this port (an emulator, a port list does not show)
    oss devices test --port /dev/ttyUSB0 [--seconds 20]   show presses; light each colour/lamp in turn
    oss devices test --serial SL0001
"""

from __future__ import annotations

import argparse
import queue
import sys
import time
from collections.abc import Callable

from oss.config import DEVICE_KINDS, DeviceConfig
from oss.hardware.devices import SerialIndicator, SerialInputDevice
from oss.hardware.errors import DeviceError, DeviceNotFound
from oss.hardware.link import LinkTiming
from oss.hardware.ports import PortInfo, probe, system_ports
from oss.hardware.protocol import INPUT_KINDS
from oss.hardware.records import STACK_CHANNELS, Light, WireInput

Command = Callable[[argparse.Namespace], int]


def add_commands(subparsers: argparse._SubParsersAction, commands: dict[str, Command]) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("devices", help="list serial ports, identify OSS devices, test one")
    p.add_argument("action", nargs="?", choices=("list", "test"), default="list")
    p.add_argument("--port", action="append", default=[], help="a port to ask (list) or to test")
    p.add_argument("--serial", help="test the OSS device with this serial number (found on any port)")
    p.add_argument("--kind", choices=DEVICE_KINDS, help="test: the kind expected (default: what answers)")
    p.add_argument("--no-probe", action="store_true", help="list: do not open ports to identify devices")
    p.add_argument("--seconds", type=float, default=20.0, help="test: how long to watch inputs (default 20)")
    p.add_argument("--step", type=float, default=1.0, help="test: seconds per colour/lamp (default 1)")
    commands["devices"] = run


def run(args: argparse.Namespace) -> int:
    if args.action == "test":
        return _test(args)
    return _list(args)


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _list(args: argparse.Namespace) -> int:
    ports = system_ports() + [PortInfo(p, description="(given with --port)") for p in args.port]
    if not ports:
        _out("no serial ports. Plug a device in; on Linux it appears as /dev/ttyUSB* or /dev/ttyACM*")
        return 0
    for p in ports:
        line = p.describe()
        if p.probe and not args.no_probe:
            try:
                line += f"\n    -> {probe(p.path)}"
            except DeviceError as e:
                line += f"\n    -> no OSS device: {e}"
        _out(line)
    return 0


def _target(args: argparse.Namespace) -> tuple[str | None, str | None, str]:
    if len(args.port) > 1 or (args.port and args.serial) or not (args.port or args.serial):
        raise DeviceError("oss devices test: give one --port or one --serial")
    port = args.port[0] if args.port else None
    if args.kind:
        return port, args.serial, args.kind
    if port is not None:
        return port, None, probe(port).kind
    for p in system_ports():
        if p.probe:
            try:
                ident = probe(p.path)
            except DeviceError:
                continue
            if args.serial in (ident.serial, p.usb_serial):
                return p.path, None, ident.kind
    raise DeviceNotFound(f"no OSS device with serial number {args.serial}: see 'oss devices list'")


def _test(args: argparse.Namespace) -> int:
    port, serial_number, kind = _target(args)
    cfg = DeviceConfig(kind, port, serial_number, name=f"test-{kind}")
    timing = LinkTiming(retry_s=0.5)
    if kind in INPUT_KINDS:
        raw: queue.SimpleQueue[WireInput] = queue.SimpleQueue()
        with SerialInputDevice(cfg, raw=raw, timing=timing) as dev:
            _out(f"press the {kind}'s buttons; watching for {args.seconds:.0f} s (Ctrl-C ends)")
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                for st in dev.status_events():
                    _out(("" if st.ok else "LOST: ") + st.message)
                for ev in dev.read_events():
                    _out(f"  {ev.button.value}")
                try:
                    w = raw.get(timeout=0.05)
                except queue.Empty:
                    continue
                button = dev.buttons.get(w.input)
                name = button.value if button else "unmapped"
                _out(f"input {w.input} ({name}) {'down' if w.down else 'up'}  seq {w.seq}")
            return 0
    with SerialIndicator(cfg, timing=timing) as ind:
        end = time.monotonic() + 5.0
        while not ind.connected and time.monotonic() < end:
            time.sleep(0.05)
        for st in ind.status_events():
            _out(("" if st.ok else "LOST: ") + st.message)
        if not ind.connected:
            return 1
        n = ind.channels
        names = STACK_CHANNELS if kind == "stacklight" else tuple(f"lamp {i}" for i in range(n))
        ok = True
        for i in range(n):
            one = [Light.ON if j == i else Light.OFF for j in range(n)]
            ok &= _show(ind, one, f"{names[i]} on", args.step)
        ok &= _show(ind, [Light.BLINK] * n, "all blinking", args.step * 2)
        ok &= _show(ind, [Light.OFF] * n, "all off", 0.2)
        return 0 if ok else 1


def _show(ind: SerialIndicator, lights: list[Light], what: str, hold: float) -> bool:
    ind.show(lights)
    end = time.monotonic() + 1.0
    while not ind.acknowledged and time.monotonic() < end:
        time.sleep(0.01)
    _out(f"{what}: {'acknowledged' if ind.acknowledged else 'NOT acknowledged'}")
    time.sleep(hold)
    return ind.acknowledged
