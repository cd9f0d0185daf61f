"""Window tests use the shared X display fixture (tests/xdisplay.py)."""

from tests.xdisplay import SCREEN, x_display

__all__ = ["SCREEN", "x_display"]
