from __future__ import annotations

import numpy as np
import pytest

from oss.display import NO_DISPLAY, NullDisplay, QuitRequest, key_event, open_display
from oss.records import Button, InputEvent, OssError


@pytest.mark.parametrize(
    ("key", "shift", "button", "supervisor"),
    [
        ("SPACE", False, Button.NEXT, False),
        ("RIGHT", False, Button.NEXT, False),
        ("LEFT", False, Button.BACK, False),
        ("BACKSPACE", False, Button.BACK, False),
        ("H", False, Button.HELP, False),
        ("P", False, Button.PAUSE, False),
        ("S", True, Button.SKIP, True),
        ("ENTER", False, Button.CONFIRM, False),
    ],
)
def test_keys_map_to_buttons(key, shift, button, supervisor):
    ev = key_event(key, shift, t=1.5)
    assert ev == InputEvent(button, "keyboard", 1.5, device="keyboard", supervisor=supervisor)


def test_escape_is_a_quit_request_and_other_keys_nothing():
    assert key_event("ESCAPE", t=2.0) == QuitRequest(2.0)
    assert key_event("S") is None  # skip needs shift
    assert key_event("Q") is None


def test_null_display_keeps_the_last_image():
    with open_display("none") as d:
        assert isinstance(d, NullDisplay)
        img = np.zeros((8, 8, 3), np.uint8)
        d.show(img)
        assert d.last is img and d.frames == 1 and d.poll_keys() == []
    assert d.closed


def test_window_without_x_display_says_what_to_do():
    with pytest.raises(OssError) as err:
        open_display("window", environ={})
    assert str(err.value) == NO_DISPLAY and "--display none" in str(err.value)


def test_unknown_display_kind():
    with pytest.raises(OssError, match="window, none"):
        open_display("hdmi")
