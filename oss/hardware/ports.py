"""Finding and opening serial ports, and asking what is on them (pyserial stays inside this module)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import serial
from serial.tools import list_ports

from oss.hardware.errors import DeviceTimeout, open_error
from oss.hardware.protocol import Identity, LineSplitter, ProtocolError, encode, parse_device_line

BAUD = 115200


@dataclass(frozen=True)
class PortInfo:
    """One serial port. ``probe``: worth opening to ask for an OSS device (USB adapters, emulators)."""

    path: str
    usb_serial: str | None = None
    description: str = ""
    vid: int | None = None
    pid: int | None = None
    probe: bool = True

    def describe(self) -> str:
        ids = f" [{self.vid:04x}:{self.pid:04x}]" if self.vid is not None and self.pid is not None else ""
        sn = f" usb-serial={self.usb_serial}" if self.usb_serial else ""
        return f"{self.path}  {self.description}{ids}{sn}"


PortLister = Callable[[], Sequence[PortInfo]]


def system_ports() -> list[PortInfo]:
    """The machine's serial ports; only USB ones are probed (opening a bare ttyS port only waits)."""
    out = []
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        out.append(
            PortInfo(
                path=p.device,
                usb_serial=p.serial_number or None,
                description=p.description if p.description and p.description != "n/a" else "",
                vid=p.vid,
                pid=p.pid,
                probe=p.vid is not None,
            )
        )
    return out


def open_serial(path: str, timeout: float = 0.05) -> serial.Serial:
    """Open ``path`` at the protocol's 115200 8N1, exclusively. Raises DeviceError with what to do."""
    try:
        return serial.Serial(path, BAUD, timeout=timeout, write_timeout=0.5, exclusive=True)
    except (serial.SerialException, OSError, ValueError) as e:
        raise open_error(path, e) from e


def identify(ser: serial.Serial, timeout: float, splitter: LineSplitter | None = None) -> Identity:
    """Ask ``?`` (again every 0.25 s: an Arduino resets when its port opens) until an OSS identification
    arrives. Other lines are dropped: an unacknowledged event is sent again by the device anyway."""
    splitter = splitter or LineSplitter()
    splitter.reset()
    end = time.monotonic() + timeout
    next_ask = 0.0
    rejected = 0
    while True:
        now = time.monotonic()
        if now >= end:
            what = f"{rejected} unreadable line(s)" if rejected else "nothing"
            raise DeviceTimeout(
                f"{ser.port}: no OSS identification within {timeout:.1f} s (got {what}). Is it an OSS device "
                f"with OSS firmware (see hardware/README.md) and is nothing else using the port?"
            )
        if now >= next_ask:
            ser.write(encode("?"))
            next_ask = now + 0.25
        data = ser.read(max(1, ser.in_waiting))
        for line in splitter.feed(data):
            try:
                msg = parse_device_line(line)
            except ProtocolError:
                rejected += 1
                continue
            if isinstance(msg, Identity):
                return msg


def probe(path: str, timeout: float = 2.5) -> Identity:
    """Open ``path``, identify what is there, close it again. Raises DeviceError."""
    ser = open_serial(path)
    try:
        return identify(ser, timeout)
    except (serial.SerialException, OSError) as e:
        raise open_error(path, e) from e
    finally:
        ser.close()
