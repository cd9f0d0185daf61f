"""The supervisor monitor: a second window for the supervisor or author.

It shows the camera view with zones, bins, hands and picks drawn on it, the current step, phase and
guidance level, frames per second and the recent log events, with a red banner while a supervisor is
called (hesitation or a help press). Behind a PIN the supervisor can skip the step, restart the unit
and change the operator's guidance level; every action is logged. See docs/operator.md.

    model.py    snapshots in, actions out, what the monitor keeps (no pixels)
    console.py  the PIN and the keys
    view.py     the image (camera part), panel.py its text
    window.py   SupervisorMonitor (headless) and MonitorWindow (pyglet)
    link.py     the station's side: StationParts.monitor
    pictures.py the screenshots in docs/images (python -m oss.monitor.pictures docs/images)
"""

from __future__ import annotations

from .console import NO_PIN, PIN_ENV, ConsoleStatus, SupervisorConsole, check_pin
from .model import Monitor, MonitorModel, MonitorSnapshot, SupervisorAction, SupervisorCall, step_level
from .view import MonitorView
from .window import MonitorWindow, SupervisorMonitor

__all__ = [
    "NO_PIN",
    "PIN_ENV",
    "ConsoleStatus",
    "Monitor",
    "MonitorModel",
    "MonitorSnapshot",
    "MonitorView",
    "MonitorWindow",
    "SupervisorAction",
    "SupervisorCall",
    "SupervisorConsole",
    "SupervisorMonitor",
    "check_pin",
    "step_level",
]
