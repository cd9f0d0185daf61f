"""The supervisor monitor in a real pyglet window (Xvfb): what it shows is the view's image, and keys
typed into it unlock the supervisor's actions."""

from __future__ import annotations

import numpy as np
import pytest

from oss.config import StationConfig
from oss.monitor import MonitorWindow, SupervisorConsole
from oss.records import Phase

from .conftest import PIN, ev, snapshot

pytestmark = pytest.mark.display


def camera_picture() -> np.ndarray:
    """A camera frame with structure everywhere (gradients and a grid), so scaling errors show."""
    y, x = np.mgrid[0:720, 0:1280]
    img = np.stack([(x * 255 // 1279), (y * 255 // 719), ((x // 40 + y // 40) % 2) * 160 + 40], axis=2)
    return img.astype(np.uint8)


def test_the_window_shows_the_monitor_image(x_display, instruction, calibration) -> None:
    with MonitorWindow(SupervisorConsole(PIN), size=(1280, 720)) as mon:
        assert mon.window.width == 1280 and mon.window.height == 720 and not mon.window.fullscreen
        mon.attach(instruction, None, calibration, "st-7")
        events = (
            ev("step_start", 4.0, "place", index=0),
            ev("hesitation", 5.0, "place", stage=4, name="supervisor", idle_s=30.0),
            ev("help", 5.0, "place", on=True, source="hesitation"),
        )
        mon.feed(snapshot(6.0, phase=Phase.HELP, frame=camera_picture(), events=events, stage=4))
        image = mon.image
        assert image is not None and mon.draws == 1 and mon.model.call is not None
        shown = mon.read_back()
        assert shown.shape == image.shape == (720, 1280, 3)
        assert np.abs(shown.astype(int) - image.astype(int)).max() <= 2
        assert image.std() > 30  # not an empty image


def test_keys_typed_in_the_window_unlock_and_skip_and_escape_only_locks(
    x_display, instruction, calibration
) -> None:
    from pyglet.window import key

    with MonitorWindow(SupervisorConsole(PIN), size=(640, 360)) as mon:
        mon.attach(instruction, None, calibration, "st-7")
        w = mon.window
        w.dispatch_event("on_key_press", key.S, 0)  # locked: refused
        for sym in (key._2, key._4, key._6, key._8, key.ENTER, key.S):
            w.dispatch_event("on_key_press", sym, 0)
            w.dispatch_event("on_text", "x")  # the characters are swallowed, not taken as a badge
        got = mon.poll_actions()
        assert [(a.action, a.accepted) for a in got] == [("skip", False), ("unlock", True), ("skip", True)]
        w.dispatch_event("on_key_press", key.ESCAPE, 0)
        w.dispatch_event("on_key_press", key.R, 0)
        got = mon.poll_actions()
        assert [(a.action, a.accepted, a.reason) for a in got] == [
            ("lock", True, "escape"),
            ("restart", False, "locked: type the PIN and press Enter"),
        ]
        assert mon.display.poll_keys() == []  # nothing reached the projector's key handling (no quit)
        mon.feed(snapshot(7.0))
        assert mon.read_back().shape == (360, 640, 3)


def test_the_station_builds_its_monitor_with_the_pin_from_the_environment(x_display, monkeypatch) -> None:
    from oss.station.build import _monitor

    assert _monitor(StationConfig()) is None
    monkeypatch.setenv("OSS_SUPERVISOR_PIN", "97531")
    mon = _monitor(StationConfig(monitor=True, monitor_pin="1234"))
    assert mon is not None
    try:
        mon.type_keys("_1", "_2", "_3", "_4", "ENTER", "_9", "_7", "_5", "_3", "_1", "ENTER")
        assert [(a.action, a.accepted) for a in mon.poll_actions()] == [
            ("wrong_pin", False),
            ("unlock", True),
        ]
    finally:
        mon.close()
    monkeypatch.setenv("OSS_SUPERVISOR_PIN", "12ab")
    with pytest.raises(Exception, match="4 to 12 digits"):
        _monitor(StationConfig(monitor=True))
