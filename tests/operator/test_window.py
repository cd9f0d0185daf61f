"""The sign-in screen and guidance levels in a real pyglet window (Xvfb), and a badge reader's typing."""

from __future__ import annotations

import time

import numpy as np
import pytest

from oss.engine.guidance import GuidanceView
from oss.operator.profile import OperatorProfile, ProfileBook
from oss.operator.signin import SignInScreen
from oss.records import Button, Phase, StationState
from tests.render.conftest import make_calibration

from .conftest import SCREEN

pytestmark = pytest.mark.display


@pytest.fixture(scope="module")
def renderer(sample_instruction):
    from oss.render import Renderer

    return Renderer(sample_instruction, make_calibration(), "w40")


def shown_in_window(image: np.ndarray) -> np.ndarray:
    from oss.display import open_display

    with open_display("window", fullscreen=True) as d:
        assert d.size == SCREEN == (image.shape[1], image.shape[0])
        d.show(image)
        return d.read_back()


def test_sign_in_screen_in_the_window_is_the_renderers_image(x_display, renderer) -> None:
    book = ProfileBook(
        tuple(OperatorProfile(f"op{i}", name=n) for i, n in enumerate(["Anna", "Bo", "Chen", "Dana", "Emre"]))
    )
    screen = SignInScreen(book, renderer.tile_rects)
    screen.cursor = 1
    image = renderer.render_tiles(screen.screen())
    shown = shown_in_window(image)
    assert np.abs(shown.astype(int) - image.astype(int)).max() <= 2
    assert image.max() > 200  # not an empty image


@pytest.mark.parametrize("level", ["full", "reduced", "minimal"])
def test_each_level_in_the_window_is_the_renderers_image(x_display, renderer, level) -> None:
    state = StationState(Phase.RUNNING, 1, "thermal_pad", "w40", 0, t=3.0)
    image = renderer.render(state, None, GuidanceView(level=level, shown=level))
    shown = shown_in_window(image)
    assert np.abs(shown.astype(int) - image.astype(int)).max() <= 2


def test_a_badge_burst_is_one_text_line_and_a_typed_h_is_help(x_display) -> None:
    from pyglet.window import key

    from oss.display import PygletDisplay, TextLine

    with PygletDisplay(fullscreen=False, size=(320, 200)) as d:
        w = d.window
        # a badge reader: "HS42" with a shifted S, then Enter, all within a few ms
        for sym, mod, ch in (
            (key.H, key.MOD_SHIFT, "H"),
            (key.S, key.MOD_SHIFT, "S"),
            (key._4, 0, "4"),
            (key._2, 0, "2"),
        ):
            w.dispatch_event("on_key_press", sym, mod)
            w.dispatch_event("on_text", ch)
        w.dispatch_event("on_key_press", key.ENTER, 0)
        got = d.poll_keys()
        assert len(got) == 1 and isinstance(got[0], TextLine) and got[0].text == "HS42"
        time.sleep(0.15)
        assert d.poll_keys() == []  # no HELP, no SKIP from the badge's letters
        # a person pressing h: HELP, a moment later
        w.dispatch_event("on_key_press", key.H, 0)
        w.dispatch_event("on_text", "h")
        first = d.poll_keys()
        time.sleep(0.15)
        later = first + d.poll_keys()
        assert [getattr(e, "button", None) for e in later] == [Button.HELP]
        # Enter alone is CONFIRM, as before
        w.dispatch_event("on_key_press", key.ENTER, 0)
        assert [getattr(e, "button", None) for e in d.poll_keys()] == [Button.CONFIRM]
