"""Operator tests: pyglet's silent audio driver (no sound hardware), the shared X display for windows."""

from __future__ import annotations

import pyglet
import pytest

from tests.xdisplay import SCREEN, x_display

pyglet.options["audio"] = ("silent",)  # before pyglet.media is imported anywhere in the test session
pyglet.options["shadow_window"] = False

__all__ = ["SCREEN", "x_display"]


@pytest.fixture(scope="session")
def player():
    from oss.operator.sound import SoundPlayer

    p = SoundPlayer(drivers=("silent",))
    yield p
    p.close()
