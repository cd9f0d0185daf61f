"""Host drivers against the emulator on real pseudo-terminals: presses, lights, noise, re-plugs."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest
import serial

from oss.config import DeviceConfig
from oss.hardware.emulator import DeviceEmulator, EmulatorBus
from oss.hardware.manager import DeviceManager, stack_lights
from oss.hardware.protocol import encode, parse_device_line
from oss.hardware.records import Light
from oss.records import Button, InputEvent, Phase, StationState
from tests.hardware.conftest import FAST, add, wait_for

Make = Callable[..., DeviceEmulator]
L0, L1, L2 = Light.OFF, Light.ON, Light.BLINK


def state(phase: Phase, error_bin: str = "") -> StationState:
    return StationState(phase, 0, "s1", None, 0, error_bin=error_bin)


def collect(m: DeviceManager, n: int, timeout: float = 5.0) -> list[InputEvent]:
    got: list[InputEvent] = []
    wait_for(lambda: len(add(got, m.poll_inputs())) >= n, timeout)
    return got


def connected(m: DeviceManager) -> bool:
    return all(m.connected().values())


def test_pedal_press_on_the_wire_becomes_next_with_its_latency(emulators: Make) -> None:
    pedal = emulators("pedal", "PD0001")
    with DeviceManager([DeviceConfig("pedal", port=pedal.port, name="pedal")], timing=FAST) as m:
        assert wait_for(lambda: connected(m))
        t_wire = pedal.press(0)
        got = collect(m, 1)
        t_polled = time.monotonic()
        pedal.release(0)
        assert [(e.button, e.source, e.device) for e in got] == [(Button.NEXT, "pedal", "pedal")]
        # the press time is when its line reached the host, before it was handed over
        assert t_wire - 0.001 <= got[0].t <= t_polled
        assert len(m.latencies) == 1 and 0.0 <= m.latencies[0] <= t_polled - t_wire + 0.001
        statuses = m.status_events()
        assert [s.ok for s in statuses] == [True] and "connected on" in statuses[0].message


def test_button_box_maps_inputs_and_ignores_releases(emulators: Make) -> None:
    box = emulators("buttonbox", "BB0001")
    with DeviceManager([DeviceConfig("buttonbox", port=box.port, name="box")], timing=FAST) as m:
        assert wait_for(lambda: connected(m))
        for i in (0, 1, 2, 3):
            box.click(i)
        got = collect(m, 4)
        assert [e.button for e in got] == [Button.NEXT, Button.BACK, Button.HELP, Button.PAUSE]
        assert wait_for(lambda: box.unacknowledged == 0)  # the up edges were acknowledged too
        assert m.poll_inputs() == []


@pytest.mark.parametrize("phase", list(Phase))
def test_stack_light_follows_the_phase(emulators: Make, phase: Phase) -> None:
    light = emulators("stacklight", "SL0001")
    with DeviceManager([DeviceConfig("stacklight", serial_number="SL0001", name="light")],
                       lister=EmulatorBus(light), timing=FAST) as m:
        m.follow(state(phase), [], "")
        assert light.wait_outputs(stack_lights(phase))
        assert wait_for(lambda: m.stacklights[0].acknowledged)


def test_bin_lamps_follow_the_step_and_the_wrong_pick_blinks(emulators: Make) -> None:
    lamps = emulators("picklight", "PL0001", channels=(0, 4))
    light = emulators("stacklight", "SL0002")
    cfgs = [DeviceConfig("picklight", port=lamps.port, name="lamps"),
            DeviceConfig("stacklight", port=light.port, name="light")]
    with DeviceManager(cfgs, lamps={"bin_a": 0, "bin_b": 2, "bin_c": ("lamps", 3)}, timing=FAST) as m:
        m.follow(state(Phase.RUNNING), ["bin_b", "bin_unmapped"], "")
        assert lamps.wait_outputs([L0, L0, L1, L0])
        m.follow(state(Phase.ERROR, "bin_c"), ["bin_b"], "bin_c")
        assert lamps.wait_outputs([L0, L0, L1, L2])
        assert light.wait_outputs([L0, L0, L1])
        m.follow(state(Phase.RUNNING), ["bin_a", "bin_c"], "")
        assert lamps.wait_outputs([L1, L0, L0, L1])
        m.follow(state(Phase.FINISHED), ["bin_a"], "")
        assert lamps.wait_outputs([L0, L0, L0, L0])
        assert light.wait_outputs([L0, L0, L0])
        assert m.round_trips()


def test_garbage_and_half_lines_are_rejected_without_crashing(emulators: Make) -> None:
    pedal = emulators("pedal", "PD0002")
    with DeviceManager([DeviceConfig("pedal", port=pedal.port)], timing=FAST) as m:
        assert wait_for(lambda: connected(m))
        link = m.inputs[0].link
        pedal.write_raw(b"\x00\xff\xfe garbage\n")          # binary noise
        pedal.write_raw(b"E 99 0 D 0*00\n")                 # a wrong checksum: must not count as a press
        pedal.write_raw(encode("E 98 0 D 0")[:7] + b"\n")   # half a line
        pedal.write_raw(b"E" * 500 + b"\n")                 # an endless line
        pedal.write_raw(encode("E 97 7 Q 0"))               # valid checksum, invalid content
        pedal.write_raw(b"E 5 0 D")                          # a half line the next press completes...
        pedal.click(0)                                      # ...so that line is rejected, the press is not
        got = collect(m, 1)
        assert [e.button for e in got] == [Button.NEXT]
        assert wait_for(lambda: link.rejected_lines >= 5)
        assert m.connected() == {"pedal": True}
        assert pedal.rejected == 0  # and the host never sent the device anything malformed


def test_device_rejects_host_garbage_and_keeps_answering(emulators: Make) -> None:
    pedal = emulators("pedal", "PD0003")
    with serial.Serial(pedal.port, 115200, timeout=0.2) as s:
        s.write(b"\x01\x02 nonsense\nO 1 11*00\n" + b"A" * 300 + b"\n?\n")
        lines: list[bytes] = []
        wait_for(lambda: any(b"OSS" in x for x in add(lines, s.read(4096).splitlines())))
        msgs = [parse_device_line(x) for x in lines]
        assert sum(1 for x in msgs if type(x).__name__ == "Nak") == 3
        assert any(type(x).__name__ == "Identity" for x in msgs)
        assert pedal.rejected == 3


def test_unplug_and_replug_on_another_port_loses_no_event(emulators: Make) -> None:
    pedal = emulators("pedal", "PD0004")
    bus = EmulatorBus(pedal)
    with DeviceManager([DeviceConfig("pedal", serial_number="PD0004", name="pedal")], lister=bus,
                       timing=FAST, chatter_limit=0) as m:  # every click counts
        assert wait_for(lambda: connected(m))
        got: list[InputEvent] = []
        pedal.click(0)
        got += collect(m, 1)
        first_port = pedal.port
        for _ in range(3):  # a press in flight when the cable is pulled: sent again after the re-plug
            pedal.click(0)
            pedal.unplug()
        pedal.click(0)  # pressed while unplugged
        assert wait_for(lambda: not connected(m))
        spacer = os.openpty()  # takes the freed pty number: the device comes back on another port
        try:
            pedal.plug()
        finally:
            os.close(spacer[0])
            os.close(spacer[1])
        assert pedal.port != first_port
        got += collect(m, 5)
        pedal.click(0)  # and after the re-plug, as usual
        got += collect(m, 1)
        time.sleep(3 * FAST.resend_s)  # any duplicate still on its way would arrive now
        got += m.poll_inputs()
        assert [e.button for e in got] == [Button.NEXT] * 6
        assert [e.t for e in got] == sorted(e.t for e in got)
        statuses = m.status_events()
        oks = [s.ok for s in statuses]  # connected, lost (then maybe "not found" while searching), back
        assert oks[0] and oks[-1] and not any(oks[1:-1]) and len(oks) >= 3
        assert "lost" in statuses[1].message and "re-plug" in statuses[1].message
        assert statuses[-1].message.startswith("pedal (pedal) back on " + str(pedal.port))
        assert m.inputs[0].link.duplicates >= 0 and pedal.unacknowledged == 0


def test_a_power_cycled_device_counts_from_one_again(emulators: Make) -> None:
    pedal = emulators("pedal", "PD0005")
    with DeviceManager([DeviceConfig("pedal", port=pedal.port)], timing=FAST) as m:
        assert wait_for(lambda: connected(m))
        pedal.click(0)
        pedal.click(1)
        assert [e.button for e in collect(m, 2)] == [Button.NEXT, Button.BACK]
        pedal.reboot()
        pedal.click(0)  # seq 1 again, under a new boot number: not a duplicate
        assert [e.button for e in collect(m, 1)] == [Button.NEXT]


def test_a_hung_device_is_noticed_and_picked_up_again(emulators: Make) -> None:
    pedal = emulators("pedal", "PD0006")
    with DeviceManager([DeviceConfig("pedal", port=pedal.port)], timing=FAST) as m:
        assert wait_for(lambda: connected(m))
        pedal.frozen = True
        assert wait_for(lambda: not connected(m))
        pedal.frozen = False
        assert wait_for(lambda: connected(m))
        oks = [(s.ok, s.message) for s in m.status_events()]
        assert [ok for ok, _ in oks] == [True, False, True]
        assert "no heartbeat" in oks[1][1]


def test_the_wrong_device_and_a_missing_port_are_reported(emulators: Make, tmp_path: object) -> None:
    light = emulators("stacklight", "SL0009")
    cfgs = [DeviceConfig("pedal", port=light.port, name="pedal"),
            DeviceConfig("buttonbox", port="/dev/oss-no-such-port", name="box"),
            DeviceConfig("picklight", serial_number="PL404", name="lamps")]
    with DeviceManager(cfgs, lister=EmulatorBus(light), timing=FAST) as m:
        got: list = []
        assert wait_for(lambda: len(add(got, m.status_events())) >= 3)
        by = {s.device: s for s in got}
        assert not any(s.ok for s in got)
        wrong = "has an OSS stacklight (serial SL0009), but the station file says 'pedal'"
        assert wrong in by["pedal"].message
        assert "no such port" in by["box"].message and "oss devices list" in by["box"].message
        assert "serial number PL404 not found" in by["lamps"].message
        time.sleep(5 * FAST.retry_s)
        assert m.status_events() == []  # retried quietly: each problem is reported once


def test_device_falls_back_to_its_safe_state_when_the_host_goes(emulators: Make) -> None:
    light = emulators("stacklight", "SL0003", host_timeout_s=0.4)
    with DeviceManager([DeviceConfig("stacklight", port=light.port)], timing=FAST) as m:
        m.follow(state(Phase.RUNNING), [], "")
        assert light.wait_outputs([L1, L0, L0])
    assert light.wait_outputs([L0, L2, L0])  # nobody drives the light: yellow blinks
