"""``oss devices`` against emulated devices on ptys."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable

import pytest

from oss.devices_cli import add_commands
from oss.hardware.emulator import DeviceEmulator
from oss.hardware.records import Light

Make = Callable[..., DeviceEmulator]


def oss_devices(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="oss")
    commands: dict[str, Callable[[argparse.Namespace], int]] = {}
    add_commands(parser.add_subparsers(dest="command"), commands)
    args = parser.parse_args(["devices", *argv])
    return commands[args.command](args)


def test_list_identifies_a_device_on_a_given_port(emulators: Make,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    pedal = emulators("pedal", "PD0100")
    assert oss_devices(["list", "--port", str(pedal.port)]) == 0
    out = capsys.readouterr().out
    assert f"{pedal.port}  (given with --port)\n    -> OSS pedal PD0100 (firmware emu-1.0)" in out


def test_test_shows_presses(emulators: Make, capsys: pytest.CaptureFixture[str]) -> None:
    box = emulators("buttonbox", "BB0100")
    clicker = threading.Timer(0.8, lambda: (box.click(2), box.click(0)))
    clicker.start()
    assert oss_devices(["test", "--port", str(box.port), "--seconds", "2"]) == 0
    clicker.join()
    out = capsys.readouterr().out
    assert "input 2 (help) down  seq 1" in out and "input 2 (help) up  seq 2" in out
    assert "input 0 (next) down  seq 3" in out


def test_test_lights_each_colour(emulators: Make, capsys: pytest.CaptureFixture[str]) -> None:
    light = emulators("stacklight", "SL0100")
    seen: list[tuple[Light, ...]] = []
    light.on_outputs = seen.append
    assert oss_devices(["test", "--port", str(light.port), "--step", "0.05"]) == 0
    out = capsys.readouterr().out
    for colour in ("green", "yellow", "red"):
        assert f"{colour} on: acknowledged" in out
    on, off, blink = Light.ON, Light.OFF, Light.BLINK
    assert seen == [(on, off, off), (off, on, off), (off, off, on), (blink,) * 3, (off,) * 3]


def test_test_needs_one_target(capsys: pytest.CaptureFixture[str]) -> None:
    from oss.hardware.errors import DeviceError

    with pytest.raises(DeviceError, match="give one --port or one --serial"):
        oss_devices(["test"])
