"""The real firmware, compiled with avr-gcc and run in simavr with its UART on a pty, against OSS.

Needs the Debian packages gcc-avr, avr-libc, binutils-avr, libsimavr-dev, libsimavrparts1 (CI installs
them); without them these tests are skipped and say why, and in CI (CI=true) they fail.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from oss.config import DeviceConfig
from oss.hardware.link import LinkTiming
from oss.hardware.manager import DeviceManager
from oss.hardware.protocol import Identity, Nak, encode, parse_device_line
from oss.records import Button, InputEvent, Phase, StationState
from tests.hardware.conftest import add, wait_for
from tests.hardware.simavr import HW, Board, build_firmware, require_simavr

SIM_TIMING = LinkTiming(heartbeat_s=0.5, lost_after_s=1.5, retry_s=0.2, identify_s=2.0, resend_s=0.25)


@pytest.fixture(autouse=True)
def _simavr() -> None:
    require_simavr()


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_simavr()
    return build_firmware(tmp_path_factory.mktemp("avr"))


@pytest.fixture
def board(build: Path, request: pytest.FixtureRequest) -> Iterator[Board]:
    b = Board(build, request.param)
    yield b
    b.close()


@pytest.mark.parametrize("board", ["pedal"], indirect=True)
def test_firmware_pedal_press_becomes_next(board: Board) -> None:
    with DeviceManager([DeviceConfig("pedal", port=board.port, name="pedal")], timing=SIM_TIMING) as m:
        assert wait_for(lambda: m.connected()["pedal"], 10.0), m.status_events()
        ident = m.inputs[0].link.identity
        assert ident is not None and (ident.kind, ident.serial, ident.inputs) == ("pedal", "SIM-pe", 2)
        got: list[InputEvent] = []
        link = m.inputs[0].link
        for n in (1, 2, 3):
            board.pin("D2", 0)  # the pedal closes its switch to GND...
            assert wait_for(lambda n=n: len(add(got, m.poll_inputs())) == n, 5.0)  # type: ignore[misc]
            board.pin("D2", 1)  # ...and opens it again
            assert wait_for(lambda n=n: link._last_seq == 2 * n, 5.0)  # type: ignore[misc]
        board.pin("D3", 0)
        assert wait_for(lambda: len(add(got, m.poll_inputs())) == 4, 5.0)
        board.pin("D3", 1)
        assert [e.button for e in got] == [Button.NEXT] * 3 + [Button.BACK]
        assert m.inputs[0].link.rejected_lines <= 1  # at most the half line cut when the port opened


@pytest.mark.parametrize("board", ["pedal"], indirect=True)
def test_firmware_debounces_a_bouncing_switch(board: Board) -> None:
    with DeviceManager([DeviceConfig("pedal", port=board.port, name="pedal")], timing=SIM_TIMING) as m:
        assert wait_for(lambda: m.connected()["pedal"], 10.0)
        for _ in range(5):  # contact bounce: changes far quicker than the 20 ms debounce
            board.pin("D2", 0)
            board.pin("D2", 1)
        board.pin("D2", 0)
        got: list[InputEvent] = []
        assert wait_for(lambda: len(add(got, m.poll_inputs())) >= 1, 5.0)
        board.pin("D2", 1)
        assert wait_for(lambda: m.inputs[0].link._last_seq == 2, 5.0)
        assert [e.button for e in got + m.poll_inputs()] == [Button.NEXT]


@pytest.mark.parametrize("board", ["stacklight"], indirect=True)
def test_firmware_rejects_garbage_and_drives_the_stack_light(board: Board) -> None:
    with serial.Serial(board.port, 115200, timeout=0.1) as s:
        s.write(b"\x01\xfe noise\n" + encode("O 7 101")[:5] + b"\n" + b"Z" * 200 + b"\n")
        s.write(encode("O 8 1") + encode("O 9 010") + b"?\n")
        lines: list[bytes] = []
        assert wait_for(lambda: any(b"OSS" in x for x in add(lines, s.read(4096).splitlines())), 5)
    msgs = [parse_device_line(x) for x in lines if x.startswith((b"N", b"A", b"OSS"))]
    naks = [m for m in msgs if isinstance(m, Nak)]
    want = [(None, "syntax"), (None, "syntax"), (None, "long"), (8, "range")]
    assert [(n.number, n.reason) for n in naks] == want
    assert any(isinstance(m, Identity) and m.kind == "stacklight" and m.outputs == 3 for m in msgs)
    assert wait_for(lambda: board.outputs("D5", "D6", "D7") == (0, 1, 0), 5.0)  # O 9 010: yellow

    def st(phase: Phase) -> StationState:
        return StationState(phase, 0, "s", None, 0)

    with DeviceManager([DeviceConfig("stacklight", port=board.port, name="light")], timing=SIM_TIMING) as m:
        m.follow(st(Phase.RUNNING), [], "")
        assert wait_for(lambda: board.outputs("D5", "D6", "D7") == (1, 0, 0), 10.0)
        assert wait_for(lambda: m.stacklights[0].acknowledged, 5.0)
        m.follow(st(Phase.ERROR), [], "")
        assert wait_for(lambda: board.outputs("D5", "D6", "D7") == (0, 0, 1), 5.0)
        m.follow(st(Phase.HELP), [], "")
        assert wait_for(lambda: board.outputs("D5", "D7") == (0, 0) and board.toggles.get("D6", 0) >= 4, 5.0)
        m.follow(st(Phase.RUNNING), [], "")
        assert wait_for(lambda: board.outputs("D5", "D6", "D7") == (1, 0, 0), 5.0)
        board.toggles["D6"] = 0
    # the host is gone: after 2 s the firmware turns green off and blinks yellow on its own
    assert wait_for(lambda: board.toggles["D6"] >= 4 and board.outputs("D5", "D7") == (0, 0), 8.0)


def test_every_kind_of_firmware_compiles_and_fits(tmp_path: Path) -> None:
    done = subprocess.run(["make", "-C", str(HW / "firmware"), "all-kinds", f"BUILD={tmp_path}"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for kind in ("pedal", "buttonbox", "stacklight", "picklight"):
        hex_file = tmp_path / f"oss-{kind}.hex"
        size = sum(int(line[1:3], 16) for line in hex_file.read_text().splitlines() if line[7:9] == "00")
        assert 0 < size < 30 * 1024  # the ATmega328P has 32 KiB of flash, 2 KiB of it for the bootloader
