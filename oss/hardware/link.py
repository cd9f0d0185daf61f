"""One configured serial device kept alive on its own thread: find, identify, heartbeat, reconnect.

::

    ┌────────────┐ not found / wrong device / no answer: report lost once per message, retry after retry_s
    │ connecting │◀──────────────────────────────────────────────────────────────────────┐
    └─────┬──────┘  port from the station file, or the port whose USB serial number or     │
          │ OSS identification matches ``serial_number`` (so another port after a re-plug) │
          ▼ identified: report back, send the wanted outputs again                         │
    ┌────────────┐ read error (unplugged) / silent for lost_after_s / write timeout ────────┘
    │ connected  │  E <seq> … → de-duplicate by (boot, seq), hand over, answer A <seq>
    └────────────┘  wanted outputs ≠ acknowledged → O <cmd> <digits>, again after resend_s
                    idle for heartbeat_s → H

The thread owns the port. Other threads only change the wanted outputs (``set_outputs``), which wakes it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import serial

from oss.hardware.errors import DeviceError, DeviceNotFound, DeviceTimeout, WrongDevice, open_error
from oss.hardware.ports import PortInfo, PortLister, identify, open_serial, system_ports
from oss.hardware.protocol import (
    SEQ_MOD,
    Ack,
    Heartbeat,
    Identity,
    InputChange,
    LineSplitter,
    Nak,
    ProtocolError,
    encode,
    parse_device_line,
    seq_after,
)
from oss.hardware.records import DeviceStatus, Light, WireInput

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkTiming:
    """Seconds. The firmware sends a heartbeat every 0.5 s and drops to its safe state after 2 s."""

    heartbeat_s: float = 0.5
    lost_after_s: float = 1.5
    retry_s: float = 1.0
    identify_s: float = 2.5  # an Arduino Nano's bootloader takes up to ~2 s after the port opens
    resend_s: float = 0.25
    read_s: float = 0.05
    stale_after_s: float = 10.0  # presses older than this (buffered while away) are not acted upon


class _BusyPorts:
    """Ports held by links of this process, so a search by serial number does not probe them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: set[str] = set()

    def take(self, path: str) -> bool:
        with self._lock:
            if path in self._paths:
                return False
            self._paths.add(path)
            return True

    def give(self, path: str) -> None:
        with self._lock:
            self._paths.discard(path)


BUSY = _BusyPorts()


class _Busy(Exception):
    """The configured port is held by another link of this process for a moment."""


class SerialLink:
    """The connection to one device named ``name`` of ``kind``, by ``port`` or ``serial_number``."""

    def __init__(
        self,
        name: str,
        kind: str,
        *,
        port: str | None = None,
        serial_number: str | None = None,
        on_input: Callable[[WireInput], None] | None = None,
        on_status: Callable[[DeviceStatus], None] | None = None,
        lister: PortLister = system_ports,
        timing: LinkTiming | None = None,
    ) -> None:
        if port is None and serial_number is None:
            raise DeviceError(f"device '{name}': give 'port' or 'serial_number' in the station file")
        self.name, self.kind, self.port_spec, self.serial_number = name, kind, port, serial_number
        self._on_input = on_input or (lambda w: None)
        self._on_status = on_status or (lambda s: None)
        self._lister = lister
        self.timing = timing or LinkTiming()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ser: serial.Serial | None = None
        self._splitter = LineSplitter()
        self.identity: Identity | None = None
        self.port = ""
        self._ok: bool | None = None
        self._was_connected = False
        self._last_message = ""
        self._boot: int | None = None
        self._dropped_seen = 0  # input events the device said it dropped (it counts since its boot)
        self._last_seq: int | None = None
        self._gap_at: int | None = None
        self._wanted: tuple[Light, ...] | None = None
        self._acked: str | None = None
        self._refused: str | None = None
        self._pending: tuple[int, str, float] | None = None  # cmd, digits, sent at
        self._cmd = 0
        self._last_rx = 0.0
        self._last_tx = 0.0
        self.rejected_lines = 0
        self.duplicates = 0
        self.round_trips: deque[float] = deque(maxlen=1000)

    # -- called from any thread -----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._ser is not None

    @property
    def outputs_acknowledged(self) -> bool:
        """The device confirmed the outputs last asked for."""
        w = self._wanted
        return w is not None and self._acked == self._digits(w)

    def open(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"oss-device-{self.name}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def set_outputs(self, lights: Sequence[Light]) -> None:
        """Ask for these channel states (padded with OFF to the device's channel count)."""
        wanted = tuple(lights)
        if wanted == self._wanted:
            return
        self._wanted = wanted
        self._wake()

    def _wake(self) -> None:
        with self._lock:
            if self._ser is not None:
                try:
                    self._ser.cancel_read()
                except (OSError, serial.SerialException, TypeError):
                    log.debug("%s: cancel_read failed", self.name)

    # -- the link thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._ser is None:
                try:
                    self._connect()
                except _Busy:  # another link of ours is probing it right now
                    self._stop.wait(self.timing.retry_s)
                except DeviceError as e:
                    self._status(False, str(e))
                    self._stop.wait(self.timing.retry_s)
                continue
            try:
                self._service()
            except (serial.SerialException, OSError, DeviceTimeout) as e:
                why = str(e) or type(e).__name__
                self._disconnect()
                self._status(
                    False,
                    f"{self.name} ({self.kind}) lost on {self.port}: {why}. Touch and keyboard still work; "
                    f"re-plug the device, it is picked up again without a restart",
                )
        self._disconnect()

    def _candidates(self) -> list[PortInfo]:
        if self.port_spec is not None:
            return [PortInfo(self.port_spec)]
        ports = list(self._lister())
        sn = self.serial_number
        first = [p for p in ports if p.usb_serial == sn]
        rest = [p for p in ports if p.usb_serial != sn and p.probe]
        return first + rest

    def _connect(self) -> None:
        tried: list[str] = []
        for p in self._candidates():
            if not BUSY.take(p.path):
                if self.port_spec is not None:
                    raise _Busy(p.path)
                continue
            try:
                ser = open_serial(p.path, self.timing.read_s)
            except DeviceError as e:
                BUSY.give(p.path)
                if self.port_spec is not None:
                    raise DeviceNotFound(f"{self.name} ({self.kind}): {e}") from None
                tried.append(f"{p.path}: {e}")
                continue
            try:
                ident = identify(ser, self.timing.identify_s, self._splitter)
                self._check_identity(ident, p)
            except (DeviceError, serial.SerialException, OSError) as e:
                ser.close()
                BUSY.give(p.path)
                err = e if isinstance(e, DeviceError) else open_error(p.path, e)
                if self.port_spec is not None:
                    raise type(err)(f"{self.name} ({self.kind}): {err}") from None
                tried.append(str(err))
                continue
            self._connected(ser, p.path, ident)
            return
        log.debug("%s: not found; tried %s", self.name, "; ".join(tried) or "no port")
        raise DeviceNotFound(
            f"{self.name} ({self.kind}) with serial number {self.serial_number} not found on any port. "
            f"Plug it in; 'oss devices list' shows what is connected"
        )

    def _check_identity(self, ident: Identity, p: PortInfo) -> None:
        if ident.kind != self.kind:
            raise WrongDevice(
                f"{p.path} has an OSS {ident.kind} (serial {ident.serial}), but the station file says "
                f"'{self.kind}': fix 'kind' or 'port'"
            )
        sn = self.serial_number
        if sn is not None and sn not in (ident.serial, p.usb_serial):
            raise WrongDevice(f"{p.path} has OSS {ident.kind} {ident.serial}, not serial number {sn}")
        if ident.protocol != 1:
            raise WrongDevice(
                f"{p.path}: firmware {ident.firmware} speaks protocol {ident.protocol}, OSS speaks 1: "
                f"flash the firmware in hardware/firmware (see docs/hardware.md)"
            )

    def _connected(self, ser: serial.Serial, path: str, ident: Identity) -> None:
        if ident.boot != self._boot:  # a boot we have not seen: its events after ``acked`` are new
            self._boot, self._last_seq = ident.boot, ident.acked
            self._dropped_seen = 0
        now = time.monotonic()
        self._last_rx = self._last_tx = now
        self._pending = None
        self._acked = self._refused = None
        self.identity, self.port = ident, path
        with self._lock:
            self._ser = ser
        again = "back" if self._ok is False and self._was_connected else "connected"
        self._was_connected = True
        self._status(True, f"{self.name} ({self.kind}) {again} on {path}: {ident}")

    def _disconnect(self) -> None:
        with self._lock:
            ser, self._ser = self._ser, None
        if ser is not None:
            try:
                ser.close()
            except (OSError, serial.SerialException):
                log.debug("%s: close failed", self.name)
            BUSY.give(self.port)
        self._splitter.reset()

    def _status(self, ok: bool, message: str) -> None:
        if ok == self._ok and message == self._last_message:
            return
        self._ok, self._last_message = ok, message
        sn = self.identity.serial if self.identity else (self.serial_number or "")
        self._on_status(DeviceStatus(self.name, self.kind, ok, message, time.monotonic(), self.port, sn))

    def _send(self, body: str) -> None:
        assert self._ser is not None
        self._ser.write(encode(body))
        self._last_tx = time.monotonic()

    def _service(self) -> None:
        ser = self._ser
        assert ser is not None
        data = ser.read(max(1, ser.in_waiting))
        if data and ser.in_waiting:
            data += ser.read(ser.in_waiting)
        now = time.monotonic()
        if data:
            for line in self._splitter.feed(data):
                self._handle(line, now)
        self._send_outputs(now)
        if now - self._last_tx >= self.timing.heartbeat_s:
            self._send("H")
        if now - self._last_rx > self.timing.lost_after_s:
            raise DeviceTimeout(f"no heartbeat for {self.timing.lost_after_s:.1f} s")

    def _handle(self, line: bytes, now: float) -> None:
        try:
            msg = parse_device_line(line)
        except ProtocolError as e:
            self.rejected_lines += 1
            log.debug("%s: rejected line %r: %s", self.name, line[:40], e)
            return
        self._last_rx = now
        if isinstance(msg, InputChange):
            self._input(msg, now)
        elif isinstance(msg, Ack):
            p = self._pending
            if p is not None and msg.number == p[0]:
                self._acked, self._pending = p[1], None
                self.round_trips.append(now - p[2])
        elif isinstance(msg, Nak):
            p = self._pending
            if p is not None and msg.number == p[0]:
                self._refused, self._pending = p[1], None
                self._status(True, f"{self.name} refused outputs {p[1]} ({msg.reason})")
        elif isinstance(msg, Identity):
            if msg.boot != self._boot:  # rebooted behind our back (brown-out, watchdog)
                self._boot, self._last_seq = msg.boot, msg.acked
                self._dropped_seen = 0
                self._acked = None
        elif isinstance(msg, Heartbeat) and msg.dropped != self._dropped_seen:
            # the device counts since its boot: say only how many more were dropped, and only then
            more = msg.dropped - self._dropped_seen if msg.dropped > self._dropped_seen else msg.dropped
            self._dropped_seen = msg.dropped
            if more > 0:
                self._status(
                    True,
                    f"{self.name}: {more} input event(s) dropped by the device, its buffer was full "
                    f"({msg.dropped} since it started): a chattering switch or a loose wire?",
                )

    def _input(self, msg: InputChange, now: float) -> None:
        last = self._last_seq
        ahead = 1 if last is None else seq_after(msg.seq, last)
        if ahead > 1 and self._gap_at != msg.seq:
            # an earlier event was garbled: the device sends all unacknowledged events again, oldest
            # first, so wait for it (acknowledging this one would acknowledge the missing one too)
            self._gap_at = msg.seq
            return
        if ahead <= 0:
            self.duplicates += 1
        else:
            if ahead > 1:  # seen twice without the missing ones before it: the device dropped them
                self._status(True, f"{self.name}: {ahead - 1} input event(s) missing before #{msg.seq}")
            self._gap_at = None
            self._last_seq = msg.seq
            age = msg.age_ms / 1000.0
            if age > self.timing.stale_after_s:
                self._status(True, f"{self.name}: ignored input {msg.input} made {age:.0f} s ago while away")
            else:
                self._on_input(WireInput(self.name, msg.input, msg.down, msg.seq, now - age, now))
        self._send(f"A {self._last_seq}")

    def _digits(self, wanted: tuple[Light, ...]) -> str:
        n = self.identity.outputs if self.identity else len(wanted)
        return "".join(x.value for x in wanted[:n]).ljust(n, "0")

    def _send_outputs(self, now: float) -> None:
        wanted, ident = self._wanted, self.identity
        if wanted is None or ident is None or ident.outputs == 0:
            return
        digits = self._digits(wanted)
        if digits in (self._acked, self._refused):
            return
        p = self._pending
        if p is not None and p[1] == digits and now - p[2] < self.timing.resend_s:
            return
        if len(wanted) > ident.outputs and any(x is not Light.OFF for x in wanted[ident.outputs :]):
            last = ident.outputs - 1
            self._status(True, f"{self.name} has {ident.outputs} outputs; lamps above {last} stay dark")
        if p is None or p[1] != digits:
            self._cmd = self._cmd % (SEQ_MOD - 1) + 1
        self._pending = (self._cmd, digits, now)
        self._send(f"O {self._cmd} {digits}")
