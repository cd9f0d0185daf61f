from tests.xdisplay import x_display

__all__ = ["x_display"]
