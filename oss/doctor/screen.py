"""The projector screen: an X display with the screen the station file names, at the projector's size."""

from __future__ import annotations

import os
from typing import Any

from oss.config import StationConfig
from oss.doctor.result import CheckResult, DataValue, fail, ok, skipped, warn
from oss.records import OssError

SCREEN_FIX = (
    "connect and switch on the projector, extend the desktop to it (Settings → Displays, or xrandr "
    "--output NAME --auto --right-of PRIMARY), or set projector: {screen: N} to one of the screens listed"
)


def _screens() -> list[Any]:
    """pyglet's screens of the X display (pyglet is imported only here: it needs the display)."""
    import pyglet

    pyglet.options["shadow_window"] = False  # no hidden GL window: only the screen list is read
    return list(pyglet.display.get_display().get_screens())


def _listing(screens: list[Any]) -> str:
    return ", ".join(f"{i}: {s.width}x{s.height}+{s.x}+{s.y}" for i, s in enumerate(screens))


def check_screen(cfg: StationConfig) -> list[CheckResult]:
    name = "projector screen"
    if cfg.display == "none":
        return [
            skipped(
                name,
                "display: none: the station opens no projector window (a trial or a recording run)",
                "projector: {display: window, screen: N} in the station file",
            )
        ]
    from oss.display.pyglet_display import check_display_available

    try:
        check_display_available()
    except OssError:
        return [
            fail(
                name,
                "no X display (DISPLAY is not set): the projector window cannot open",
                "run the station in the desktop session of the station computer (the autostart entry in "
                "deploy/); over ssh: export DISPLAY=:0. For a run without projector: projector: {display: none}",
            )
        ]
    where = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or ""
    try:
        screens = _screens()
    except Exception as e:  # pyglet raises its own exception types per platform
        return [
            fail(
                name,
                f"cannot open the X display {where} ({type(e).__name__}: {e})",
                "check that the desktop runs and that this user may use it (run from the desktop session; "
                "over ssh: export DISPLAY=:0 and the desktop user's XAUTHORITY)",
            )
        ]
    out = [_projector(cfg, screens, where)]
    if cfg.monitor:
        out.append(_monitor(cfg, screens))
    return out


def _projector(cfg: StationConfig, screens: list[Any], where: str) -> CheckResult:
    name = "projector screen"
    i = cfg.screen
    data: dict[str, DataValue] = dict(display=where, screens=len(screens))
    if not 0 <= i < len(screens):
        return fail(
            name,
            f"the station file puts the projector on screen {i}, but display {where} has {len(screens)} "
            f"screen{'s' * (len(screens) != 1)} ({_listing(screens)})",
            SCREEN_FIX,
            **data,
        )
    s = screens[i]
    w, h = cfg.projector_size
    if (s.width, s.height) != (w, h):
        return fail(
            name,
            f"screen {i} is {s.width}x{s.height}, the station file (and so the calibration) says the projector "
            f"is {w}x{h}",
            f"set the projector's mode to {w}x{h} (xrandr --output NAME --mode {w}x{h}; the projector's native "
            f"mode is best), or write projector: {{width: {s.width}, height: {s.height}}} and recalibrate",
            width=s.width,
            height=s.height,
            **data,
        )
    return ok(
        name,
        f"screen {i} of display {where}: {s.width}x{s.height} at +{s.x}+{s.y}, as the station file says",
        width=s.width,
        height=s.height,
        **data,
    )


def _monitor(cfg: StationConfig, screens: list[Any]) -> CheckResult:
    name = "monitor screen"
    i = cfg.monitor_screen
    if not 0 <= i < len(screens):
        return fail(
            name,
            f"the supervisor monitor is on screen {i}, but there are {len(screens)} ({_listing(screens)})",
            "set monitor: {screen: N} to the supervisor's screen (or connect it)",
        )
    if i == cfg.screen:
        return warn(
            name,
            f"the supervisor monitor opens on screen {i}, the projector's: its window covers the projection",
            "set monitor: {screen: N} to another screen (a monitor beside the bench)",
        )
    s = screens[i]
    return ok(name, f"screen {i}: {s.width}x{s.height}")
