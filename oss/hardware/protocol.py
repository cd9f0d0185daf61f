"""The OSS serial line protocol (version 1), shared by the host drivers and the device emulator.

Every line is printable ASCII, at most ``MAX_LINE`` bytes, ended by ``\\n`` (a ``\\r`` before it is
ignored) and carries a CRC-8 of its body: ``<body>*<CC>`` with CC two upper-case hex digits of CRC-8
(polynomial 0x07, initial value 0) over the body bytes. The one exception is a bare ``?`` typed by a
person in a terminal. Anything else (a bad checksum, a half line, binary noise, an unknown message or
a field out of range) is rejected with :class:`ProtocolError`; the firmware answers ``N - <reason>``.

host → device                           device → host
``?``            identify               ``OSS <kind> <fw> <serial> boot=<n> in=<n> out=<n> acked=<seq>
                                        proto=1``
``H``            heartbeat              ``H <dropped>``       heartbeat; events lost to a full outbox
``A <seq>``      events ≤ seq received  ``E <seq> <input> <D|U> <age_ms>``  input down/up
``O <cmd> <ds>`` set all outputs        ``A <cmd>`` done   ``N <cmd|-> <reason>`` refused

``<ds>`` holds one digit per output channel: ``0`` off, ``1`` on, ``2`` blinking (2 Hz). A stack light's
channels are green, yellow, red; a pick-to-light's are its bin lamps by index. ``seq`` counts input
events from 1 after each boot (16 bits, wrapping); a device keeps unacknowledged events and sends them
again every 300 ms, so the host drops duplicates by ``(serial, boot, seq)``; ``acked`` in the
identification is the last event no longer kept, so a host meeting a boot for the first time knows
which sequence number comes next. ``age_ms`` is how long ago
the input changed, so a press sent again after a re-plug keeps its time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oss.records import OssError

PROTOCOL_VERSION = 1
MAX_LINE = 96
KINDS = ("pedal", "buttonbox", "stacklight", "picklight")
INPUT_KINDS = ("pedal", "buttonbox")
OUTPUT_KINDS = ("stacklight", "picklight")
SEQ_MOD = 1 << 16

_TOKEN = re.compile(r"[A-Za-z0-9_.\-]{1,16}\Z")
_UINT = re.compile(r"[0-9]{1,10}\Z")


class ProtocolError(OssError):
    """A line that is not valid protocol: it is dropped and counted, never acted upon."""


def crc8(data: bytes) -> int:
    """CRC-8, polynomial x^8+x^2+x+1 (0x07), initial value 0, no reflection (as in the firmware)."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def encode(body: str) -> bytes:
    """One complete line: body, ``*``, checksum, newline."""
    raw = body.encode("ascii")
    return raw + b"*%02X\n" % crc8(raw)


def check(line: bytes) -> str:
    """The body of one received line (without its newline) after checking characters and checksum."""
    if line.endswith(b"\r"):
        line = line[:-1]
    if len(line) > MAX_LINE:
        raise ProtocolError(f"line longer than {MAX_LINE} bytes")
    if any(b < 0x20 or b > 0x7E for b in line):
        raise ProtocolError("non-printable bytes in line")
    if line == b"?":
        return "?"
    body, star, cc = line.rpartition(b"*")
    if not star or len(cc) != 2:
        raise ProtocolError("no checksum (a line ends in *CC)")
    try:
        want = int(cc, 16)
    except ValueError:
        raise ProtocolError(f"checksum {cc!r} is not hex") from None
    if crc8(body) != want:
        raise ProtocolError(f"checksum mismatch (got {cc.decode()}, body gives {crc8(body):02X})")
    return body.decode("ascii")


class LineSplitter:
    """Cuts a byte stream into lines; drops overlong lines whole (up to the next newline)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._skipping = False
        self.overlong = 0

    def reset(self) -> None:
        """Forget a partial line (after a reconnect its start belongs to another connection)."""
        self._buf.clear()
        self._skipping = False

    def feed(self, data: bytes) -> list[bytes]:
        out: list[bytes] = []
        start = 0
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                rest = data[start:]
                if not self._skipping:
                    self._buf += rest
                    if len(self._buf) > MAX_LINE + 1:
                        self._buf.clear()
                        self._skipping = True
                        self.overlong += 1
                return out
            piece = data[start:nl]
            if self._skipping:
                self._skipping = False
            else:
                self._buf += piece
                if len(self._buf) > MAX_LINE + 1:
                    self.overlong += 1
                else:
                    out.append(bytes(self._buf))
                self._buf.clear()
            start = nl + 1


# ---------------------------------------------------------------------------------------------------
# Messages


@dataclass(frozen=True)
class Identity:
    """What a device says about itself in answer to ``?``."""

    kind: str
    firmware: str
    serial: str
    boot: int
    inputs: int
    outputs: int
    acked: int = 0
    protocol: int = PROTOCOL_VERSION

    def line(self) -> str:
        return (
            f"OSS {self.kind} {self.firmware} {self.serial} boot={self.boot} in={self.inputs} "
            f"out={self.outputs} acked={self.acked} proto={self.protocol}"
        )

    def __str__(self) -> str:
        return f"OSS {self.kind} {self.serial} (firmware {self.firmware})"


@dataclass(frozen=True)
class Heartbeat:
    dropped: int = 0


@dataclass(frozen=True)
class InputChange:
    """``E``: input ``input`` went down (pressed) or up, ``age_ms`` ago."""

    seq: int
    input: int
    down: bool
    age_ms: int


@dataclass(frozen=True)
class Ack:
    number: int


@dataclass(frozen=True)
class Nak:
    number: int | None
    reason: str


@dataclass(frozen=True)
class Identify:
    pass


@dataclass(frozen=True)
class SetOutputs:
    cmd: int
    states: str  # one of 0/1/2 per channel


DeviceMessage = Identity | Heartbeat | InputChange | Ack | Nak
HostMessage = Identify | Heartbeat | Ack | SetOutputs


def _uint(tok: str, what: str, limit: int) -> int:
    if not _UINT.match(tok):
        raise ProtocolError(f"{what} {tok!r} is not a number")
    v = int(tok)
    if v >= limit:
        raise ProtocolError(f"{what} {v} out of range")
    return v


def _parse_identity(parts: list[str]) -> Identity:
    if len(parts) < 4:
        raise ProtocolError("identification needs: OSS <kind> <fw> <serial> ...")
    kind, fw, serial = parts[1], parts[2], parts[3]
    if kind not in KINDS:
        raise ProtocolError(f"unknown device kind {kind!r}")
    if not _TOKEN.match(fw) or not _TOKEN.match(serial):
        raise ProtocolError("bad firmware version or serial number in identification")
    kv: dict[str, int] = {}
    for p in parts[4:]:
        k, eq, v = p.partition("=")
        if not eq or k in kv:
            raise ProtocolError(f"bad identification field {p!r}")
        kv[k] = _uint(v, k, 1 << 32)
    for need in ("boot", "in", "out", "acked", "proto"):
        if need not in kv:
            raise ProtocolError(f"identification lacks {need}=")
    if kv["acked"] >= SEQ_MOD:
        raise ProtocolError("acked= out of range")
    return Identity(kind, fw, serial, kv["boot"], kv["in"], kv["out"], kv["acked"], kv["proto"])


def parse_device_line(line: bytes) -> DeviceMessage:
    """A line a device sent (checksum included); raises ProtocolError for anything not valid."""
    body = check(line)
    parts = body.split(" ")
    head, n = parts[0], len(parts)
    if head == "OSS":
        return _parse_identity(parts)
    if head == "H" and n == 2:
        return Heartbeat(_uint(parts[1], "dropped", 1 << 16))
    if head == "E" and n == 5:
        if parts[3] not in ("D", "U"):
            raise ProtocolError(f"input edge must be D or U, not {parts[3]!r}")
        return InputChange(
            _uint(parts[1], "seq", SEQ_MOD), _uint(parts[2], "input", 32), parts[3] == "D",
            _uint(parts[4], "age", 1 << 32),
        )
    if head == "A" and n == 2:
        return Ack(_uint(parts[1], "command", SEQ_MOD))
    if head == "N" and n == 3:
        num = None if parts[1] == "-" else _uint(parts[1], "command", SEQ_MOD)
        return Nak(num, parts[2])
    raise ProtocolError(f"not a device message: {body[:20]!r}")


def parse_host_line(line: bytes) -> HostMessage:
    """A line the host sent (used by the emulator; the firmware does the same in C)."""
    body = check(line)
    parts = body.split(" ")
    head, n = parts[0], len(parts)
    if head == "?" and n == 1:
        return Identify()
    if head == "H" and n == 1:
        return Heartbeat()
    if head == "A" and n == 2:
        return Ack(_uint(parts[1], "seq", SEQ_MOD))
    if head == "O" and n == 3:
        states = parts[2]
        if not states or len(states) > 32 or any(c not in "012" for c in states):
            raise ProtocolError(f"output states must be digits 0/1/2, not {states[:20]!r}")
        return SetOutputs(_uint(parts[1], "command", SEQ_MOD), states)
    raise ProtocolError(f"not a host message: {body[:20]!r}")


def seq_after(seq: int, last: int) -> int:
    """How far ``seq`` is ahead of ``last`` (1: the next one); 0 or negative: already seen."""
    d = (seq - last) % SEQ_MOD
    return d if d < SEQ_MOD // 2 else d - SEQ_MOD
