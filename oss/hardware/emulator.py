"""A device emulator: speaks the OSS protocol like the firmware does, on the far end of a pseudo-terminal.

    emu = DeviceEmulator("pedal", "PD0001")
    port = emu.plug()          # a new /dev/pts/N: open it with OSS like a real USB serial port
    emu.click(0)               # press and release input 0
    emu.unplug(); emu.plug()   # another port path, same serial number; unacknowledged events are kept

It behaves as a self-powered board on a USB-serial adapter: pulling the cable does not reset it, so
presses made while unplugged are sent once a host is back. ``reboot()`` is a power cycle (new boot
number, sequence numbers from 1). Run ``python -m oss.hardware.emulator pedal`` for a demo device.
"""

from __future__ import annotations

import argparse
import os
import select
import sys
import threading
import time
import tty
from collections.abc import Callable, Sequence

from oss.hardware.ports import PortInfo
from oss.hardware.protocol import (
    SEQ_MOD,
    Ack,
    Heartbeat,
    Identify,
    Identity,
    LineSplitter,
    ProtocolError,
    SetOutputs,
    encode,
    parse_host_line,
    seq_after,
)
from oss.hardware.records import Light

CHANNELS = {"pedal": (2, 0), "buttonbox": (4, 0), "stacklight": (0, 3), "picklight": (0, 12)}
OUTBOX = 16


class DeviceEmulator:
    def __init__(
        self,
        kind: str,
        serial: str,
        *,
        firmware: str = "emu-1.0",
        boot: int = 1,
        heartbeat_s: float = 0.5,
        resend_s: float = 0.3,
        host_timeout_s: float = 2.0,
        channels: tuple[int, int] | None = None,
    ) -> None:
        self.kind, self.serial, self.firmware, self.boot = kind, serial, firmware, boot
        self.inputs, self.outputs_n = channels or CHANNELS[kind]
        self.heartbeat_s, self.resend_s, self.host_timeout_s = heartbeat_s, resend_s, host_timeout_s
        self._lock = threading.Lock()
        self._master: int | None = None
        self._slave: int | None = None
        self.port: str | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._splitter = LineSplitter()
        self._outputs = [Light.OFF] * self.outputs_n
        self._safe = True
        self._outbox: list[tuple[int, int, bool, float]] = []  # seq, input, down, t
        self._seq = 0
        self._dropped = 0
        self._last_tx = self._last_rx = self._last_resend = 0.0
        self.rejected = 0
        self.host_lines: list[str] = []
        self.on_outputs: Callable[[tuple[Light, ...]], None] | None = None
        self.frozen = False  # a hung device: reads nothing, writes nothing

    # -- cable ----------------------------------------------------------------------------------------

    def plug(self) -> str:
        """Create a new pty (a new port path) and start answering on it; returns the path."""
        if self._master is not None:
            return self.port or ""
        master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(master)
        self._master, self._slave, self.port = master, slave, os.ttyname(slave)
        self._splitter.reset()
        self._last_rx = time.monotonic()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"emu-{self.serial}", daemon=True)
        self._thread.start()
        return self.port

    def unplug(self) -> None:
        """Pull the cable: the port disappears and the host's reads fail."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        with self._lock:
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None
        self.port = None

    close = unplug

    def reboot(self) -> None:
        """A power cycle: new boot number, events and outputs forgotten."""
        with self._lock:
            self.boot += 1
            self._seq, self._outbox, self._dropped = 0, [], 0
            self._outputs = [Light.OFF] * self.outputs_n
            self._write(encode(self.identity().line()))

    def port_info(self, usb_serial: str | None = None) -> PortInfo:
        """How this device appears in a port list (a CH340-like adapter: no USB serial number)."""
        return PortInfo(self.port or "", usb_serial, f"OSS emulator ({self.kind})")

    def identity(self) -> Identity:
        acked = (self._outbox[0][0] - 1) % SEQ_MOD if self._outbox else self._seq
        return Identity(self.kind, self.firmware, self.serial, self.boot, self.inputs, self.outputs_n, acked)

    # -- what a person does ---------------------------------------------------------------------------

    def press(self, input: int = 0) -> float:
        """Input goes down (after debouncing); returns the monotonic time its line was written."""
        return self._edge(input, True)

    def release(self, input: int = 0) -> float:
        return self._edge(input, False)

    def click(self, input: int = 0) -> float:
        t = self.press(input)
        self.release(input)
        return t

    def write_raw(self, data: bytes) -> None:
        """Put arbitrary bytes on the line (noise, half lines)."""
        with self._lock:
            self._write(data)

    @property
    def outputs(self) -> tuple[Light, ...]:
        """What the lamps show now (the safe state when the host went silent)."""
        with self._lock:
            return tuple(self._outputs)

    @property
    def unacknowledged(self) -> int:
        with self._lock:
            return len(self._outbox)

    def wait_outputs(self, want: Sequence[Light], timeout: float = 3.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.outputs == tuple(want):
                return True
            time.sleep(0.005)
        return False

    # -- internals ------------------------------------------------------------------------------------

    def _edge(self, input: int, down: bool) -> float:
        if not 0 <= input < self.inputs:
            raise ValueError(f"{self.kind} has inputs 0..{self.inputs - 1}")
        with self._lock:
            self._seq = (self._seq + 1) % SEQ_MOD
            now = time.monotonic()
            if len(self._outbox) >= OUTBOX:
                self._outbox.pop(0)
                self._dropped += 1
            self._outbox.append((self._seq, input, down, now))
            self._send_event(self._outbox[-1], now)
            return time.monotonic()

    def _send_event(self, ev: tuple[int, int, bool, float], now: float) -> None:
        seq, inp, down, t = ev
        self._write(encode(f"E {seq} {inp} {'D' if down else 'U'} {int((now - t) * 1000)}"))

    def _write(self, data: bytes) -> None:
        if self._master is None or self.frozen:
            return
        try:
            os.write(self._master, data)
            self._last_tx = time.monotonic()
        except OSError:
            pass  # nobody reads the port: like a real UART, bytes are lost

    def _run(self) -> None:
        with self._lock:
            self._write(encode(self.identity().line()))
        while not self._stop.is_set():
            master = self._master
            if master is None:
                return
            if self.frozen:
                time.sleep(0.02)
                continue
            try:
                ready, _, _ = select.select([master], [], [], 0.02)
                data = os.read(master, 4096) if ready else b""
            except OSError:
                data = b""  # no host has the port open (EIO): wait for one
                time.sleep(0.02)
            now = time.monotonic()
            with self._lock:
                overlong = self._splitter.overlong
                for line in self._splitter.feed(data):
                    self._handle(line, now)
                if self._splitter.overlong != overlong:
                    self.rejected += 1
                    self._write(encode("N - long"))
                self._tick(now)

    def _handle(self, line: bytes, now: float) -> None:
        try:
            msg = parse_host_line(line)
        except ProtocolError as e:
            self.rejected += 1
            self._write(encode(f"N - {'crc' if 'checksum' in str(e) else 'syntax'}"))
            return
        self._last_rx = now
        self._safe = False
        self.host_lines.append(line.decode("ascii", "replace"))
        if isinstance(msg, Identify):
            self._write(encode(self.identity().line()))
        elif isinstance(msg, Ack):
            self._outbox = [e for e in self._outbox if seq_after(e[0], msg.number) > 0]
        elif isinstance(msg, SetOutputs):
            if len(msg.states) != self.outputs_n:
                self._write(encode(f"N {msg.cmd} range"))
                return
            self._outputs = [Light(c) for c in msg.states]
            self._write(encode(f"A {msg.cmd}"))
            if self.on_outputs is not None:
                self.on_outputs(tuple(self._outputs))
        elif isinstance(msg, Heartbeat):
            pass

    def _tick(self, now: float) -> None:
        if not self._safe and now - self._last_rx > self.host_timeout_s:
            self._safe = True  # host silent: stack light blinks yellow, bin lamps off (as the firmware)
            self._outputs = [Light.OFF] * self.outputs_n
            if self.kind == "stacklight":
                self._outputs[1] = Light.BLINK
        if self._outbox and now - self._last_resend >= self.resend_s:
            self._last_resend = now
            for ev in self._outbox:
                self._send_event(ev, now)
        if now - self._last_tx >= self.heartbeat_s:
            self._write(encode(f"H {self._dropped}"))


class EmulatorBus:
    """A port lister over emulators, as ``serial.tools.list_ports`` is over real adapters."""

    def __init__(self, *emulators: DeviceEmulator) -> None:
        self.emulators = list(emulators)

    def __call__(self) -> list[PortInfo]:
        return [e.port_info() for e in self.emulators if e.port is not None]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m oss.hardware.emulator", description=__doc__.split("\n")[0])
    ap.add_argument("kind", choices=sorted(CHANNELS))
    ap.add_argument("--serial", default="EMU0001")
    args = ap.parse_args(argv)
    emu = DeviceEmulator(args.kind, args.serial)
    def show(o: tuple[Light, ...]) -> None:
        sys.stdout.write("outputs " + "".join(x.value for x in o) + "\n")
        sys.stdout.flush()

    emu.on_outputs = show
    port = emu.plug()
    sys.stdout.write(f"OSS {args.kind} {args.serial} on {port}\n"
                     "type an input number (Enter alone: 0) to click it; Ctrl-D to quit\n")
    sys.stdout.flush()
    try:
        for line in sys.stdin:
            if emu.inputs:
                emu.click(int(line.strip() or "0"))
    except (KeyboardInterrupt, ValueError):
        pass
    emu.unplug()
    return 0


if __name__ == "__main__":
    sys.exit(main())
