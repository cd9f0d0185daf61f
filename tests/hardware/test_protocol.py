"""The line protocol: checksums, strict parsing, line splitting, sequence arithmetic."""

from __future__ import annotations

import pytest

from oss.hardware.protocol import (
    MAX_LINE,
    Ack,
    Heartbeat,
    Identify,
    Identity,
    InputChange,
    LineSplitter,
    Nak,
    ProtocolError,
    SetOutputs,
    crc8,
    encode,
    parse_device_line,
    parse_host_line,
    seq_after,
)


def test_crc8_check_value() -> None:
    assert crc8(b"123456789") == 0xF4  # the catalogued check value of CRC-8 (poly 0x07, init 0)


def test_line_made_by_the_firmware_parses() -> None:
    # copied from the firmware running in simavr
    msg = parse_device_line(b"OSS pedal 1.0.0 PE0001 boot=1 in=2 out=0 acked=0 proto=1*3A")
    assert msg == Identity("pedal", "1.0.0", "PE0001", 1, 2, 0, 0, 1)
    assert parse_device_line(b"E 1 0 D 597*2A") == InputChange(1, 0, True, 597)
    with pytest.raises(ProtocolError):  # the first byte was lost as the port opened
        parse_device_line(b"SS pedal 1.0.0 PE0001 boot=1 in=2 out=0 acked=0 proto=1*3A")


STACK = Identity("stacklight", "1.0", "SL1", 9, 0, 3, 7)


@pytest.mark.parametrize(
    "body, expected",
    [
        ("H 0", Heartbeat(0)),
        ("E 65535 3 U 12", InputChange(65535, 3, False, 12)),
        ("A 7", Ack(7)),
        ("N - crc", Nak(None, "crc")),
        ("N 12 range", Nak(12, "range")),
        (STACK.line(), STACK),
    ],
)
def test_device_messages_round_trip(body: str, expected: object) -> None:
    assert parse_device_line(encode(body).rstrip(b"\n")) == expected


@pytest.mark.parametrize(
    "line, error",
    [
        (b"E 1 0 D 5", "no checksum"),
        (b"E 1 0 D 5*00", "checksum mismatch"),
        (b"E 1 0 D 5*G1", "not hex"),
        (b"E 1 0 \x00D 5*00", "non-printable"),
        (b"\xff\xfe*00", "non-printable"),
        (b"X" * (MAX_LINE + 1), "longer than"),
        (encode("E 1 0 X 5").rstrip(), "D or U"),
        (encode("E 1 0 D").rstrip(), "not a device message"),
        (encode("E 70000 0 D 5").rstrip(), "seq 70000 out of range"),
        (encode("E -1 0 D 5").rstrip(), "not a number"),
        (encode("OSS toaster 1 X boot=1 in=0 out=0 proto=1").rstrip(), "unknown device kind"),
        (encode("OSS pedal 1 X in=0 out=0 acked=0 proto=1").rstrip(), "lacks boot="),
        (encode("OSS pedal 1 X boot=1 in=0 out=0 proto=1").rstrip(), "lacks acked="),
        (encode("OSS pedal 1 X boot=1 boot=2 in=0 out=0 proto=1").rstrip(), "bad identification field"),
        (encode("").rstrip(), "not a device message"),
    ],
)
def test_bad_device_lines_are_rejected(line: bytes, error: str) -> None:
    with pytest.raises(ProtocolError, match=error):
        parse_device_line(line)


@pytest.mark.parametrize(
    "line, expected",
    [
        (b"?", Identify()),
        (b"?\r", Identify()),
        (encode("?").rstrip(), Identify()),
        (encode("H").rstrip(), Heartbeat()),
        (encode("A 3").rstrip(), Ack(3)),
        (encode("O 4 012").rstrip(), SetOutputs(4, "012")),
    ],
)
def test_host_messages(line: bytes, expected: object) -> None:
    assert parse_host_line(line) == expected


@pytest.mark.parametrize("body", ["O 4 013", "O 4", "O x 01", "A", "H 1", "Z"])
def test_bad_host_lines_are_rejected(body: str) -> None:
    with pytest.raises(ProtocolError):
        parse_host_line(encode(body).rstrip())


def test_splitter_joins_pieces_and_drops_overlong_lines() -> None:
    s = LineSplitter()
    assert s.feed(b"H 0*") == []
    assert s.feed(b"E9\nA 1") == [b"H 0*E9"]
    assert s.feed(b"*xx\n") == [b"A 1*xx"]
    assert s.feed(b"Y" * 200) == []  # no newline yet: dropped whole, not cut into a valid-looking tail
    assert s.feed(b"Y" * 50 + b"\nH 0*E9\n") == [b"H 0*E9"]
    assert s.overlong == 1
    s.feed(b"half a li")
    s.reset()
    assert s.feed(b"ne\n") == [b"ne"]


@pytest.mark.parametrize(
    "seq, last, ahead", [(2, 1, 1), (1, 1, 0), (1, 2, -1), (1, 65535, 2), (65535, 1, -2), (10, 5, 5)]
)
def test_seq_after_wraps(seq: int, last: int, ahead: int) -> None:
    assert seq_after(seq, last) == ahead
