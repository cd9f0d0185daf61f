"""The projector window on an X display (a private Xvfb when $DISPLAY is unset)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from oss.records import Button, Phase, StationState

from ..render.conftest import MEDIA, make_calibration, make_instruction
from .conftest import SCREEN

pytestmark = pytest.mark.display


@pytest.fixture(scope="module")
def projector_image() -> np.ndarray:
    from oss.render import Renderer

    r = Renderer(make_instruction(), make_calibration(), None, media_root=MEDIA)
    return r.render(
        StationState(Phase.ERROR, 0, "place", None, 0, error_bin="bin_b", error_hint="Pak één behuizing")
    )


def test_fullscreen_window_shows_the_rendered_image(x_display, projector_image):
    from oss.display import open_display

    with open_display("window", fullscreen=True) as d:
        assert d.size == SCREEN == (projector_image.shape[1], projector_image.shape[0])
        d.show(projector_image)
        shown = d.read_back()
    assert shown.shape == projector_image.shape
    assert np.abs(shown.astype(int) - projector_image.astype(int)).max() <= 2


def test_window_scales_the_image_to_its_size(x_display, projector_image):
    from oss.display import open_display

    with open_display("window", fullscreen=False, size=(640, 400)) as d:
        d.show(projector_image)
        shown = d.read_back()
    expected = cv2.resize(projector_image, (640, 400), interpolation=cv2.INTER_LINEAR)
    assert shown.shape == (400, 640, 3)
    assert np.abs(shown.astype(int) - expected.astype(int)).mean() < 4
    assert np.abs(shown.astype(int) - np.flipud(expected).astype(int)).mean() > 4  # not upside down


def test_key_presses_become_input_events(x_display):
    from pyglet.window import key

    from oss.display import PygletDisplay, QuitRequest

    with PygletDisplay(fullscreen=False, size=(320, 200)) as d:
        d.show(np.zeros((200, 320, 3), np.uint8))
        for sym, mod in ((key.SPACE, 0), (key.LEFT, 0), (key.S, key.MOD_SHIFT), (key.A, 0), (key.ESCAPE, 0)):
            d.window.dispatch_event("on_key_press", sym, mod)
        events = d.poll_keys()
        assert [getattr(e, "button", None) for e in events] == [Button.NEXT, Button.BACK, Button.SKIP, None]
        assert events[2].supervisor and isinstance(events[3], QuitRequest)
        assert d.poll_keys() == []
        d.window.dispatch_event("on_close")
        assert [type(e) for e in d.poll_keys()] == [QuitRequest]
    d.close()  # closing twice is harmless
