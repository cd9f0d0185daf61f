"""The real firmware, compiled with avr-gcc and run in simavr with its UART on a pty, against OSS.

Needs the Debian packages gcc-avr, avr-libc, binutils-avr, libsimavr-dev, libsimavrparts1 (CI installs
them); without them these tests are skipped and say why.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from oss.config import DeviceConfig
from oss.hardware.link import LinkTiming
from oss.hardware.manager import DeviceManager
from oss.hardware.protocol import Identity, Nak, encode, parse_device_line
from oss.records import Button, InputEvent, Phase, StationState
from tests.conftest import ROOT
from tests.hardware.conftest import add, wait_for

HW = ROOT / "hardware"
SIM_TIMING = LinkTiming(heartbeat_s=0.5, lost_after_s=1.5, retry_s=0.2, identify_s=2.0, resend_s=0.25)

pytestmark = pytest.mark.skipif(
    shutil.which("avr-gcc") is None or not Path("/usr/include/simavr/parts/uart_pty.h").exists(),
    reason="needs gcc-avr, avr-libc, binutils-avr, libsimavr-dev and libsimavrparts1 (apt-get install)",
)


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("avr")
    for kind in ("pedal", "stacklight"):
        subprocess.run(["make", "-s", "-C", str(HW / "firmware"), f"KIND={kind}", f"SERIAL=SIM-{kind[:2]}",
                        f"BUILD={out}"], check=True, capture_output=True)
    subprocess.run(["make", "-s", "-C", str(HW / "sim"), f"BUILD={out}"], check=True, capture_output=True)
    return out


class Board:
    """oss_simavr running one firmware: its port, its output pins, and a way to press inputs."""

    def __init__(self, build: Path, kind: str) -> None:
        self.proc = subprocess.Popen(
            [str(build / "oss_simavr"), str(build / f"oss-{kind}.elf")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
        )
        assert self.proc.stdout is not None
        self.port = ""
        for line in self.proc.stdout:
            if line.startswith("port "):
                self.port = line.split()[1]
                break
        assert self.port, "oss_simavr did not report its pty"
        self.pins: dict[str, int] = {}
        self.toggles: dict[str, int] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "pin":
                self.toggles[parts[1]] = self.toggles.get(parts[1], 0) + 1
                self.pins[parts[1]] = int(parts[2])

    def pin(self, name: str, value: int) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"pin {name} {value}\n")
        self.proc.stdin.flush()

    def outputs(self, *names: str) -> tuple[int, ...]:
        return tuple(self.pins.get(n, 0) for n in names)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


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
