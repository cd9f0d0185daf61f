"""Where the operator panel goes: a strip along the operator's edge of the bench (small y).

All numbers are bench mm. From the operator outwards the panel holds the progress bar, the main row
(pictogram, step text, step counter) and a status line for messages such as a lost camera.
"""

from __future__ import annotations

from dataclasses import dataclass

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 in bench mm, y0 < y1

MARGIN_MM = 10.0
BAR_MM = 10.0
STATUS_MM = 30.0
GAP_MM = 8.0
COUNTER_MM = 150.0
MIN_PANEL_MM = 110.0
MAX_PANEL_MM = 220.0

TEXT_EM_MM = 48.0  # step text font size to start from: capitals ≈ 35 mm
MIN_TEXT_EM_MM = 28.0  # capitals ≈ 20.4 mm, the least that reads from the operator's position
HINT_EM_MM = 54.0  # error hints are larger
COUNTER_EM_MM = 40.0
STATUS_EM_MM = 28.0
LINE_SPACING = 1.18


@dataclass(frozen=True)
class PanelLayout:
    panel: Rect
    bar: Rect
    icon: Rect
    text: Rect
    counter: Rect
    status: Rect
    align: str = "left"  # how the step text lines up: away from the working hand

    @classmethod
    def fit(cls, bench_w: float, bench_d: float, first_zone_y: float, hand: str = "right") -> PanelLayout:
        """The panel between the operator's edge and the first zone, clamped to a readable height.

        For a right-handed operator the pictogram and text sit on the left, the step counter on the
        right, where the working hand may cover it; for a left-handed one it is mirrored.
        """
        lay = cls._fit(bench_w, bench_d, first_zone_y)
        if hand != "left":
            return lay

        def flip(r: Rect) -> Rect:
            return (bench_w - r[2], r[1], bench_w - r[0], r[3])

        return cls(lay.panel, lay.bar, flip(lay.icon), flip(lay.text), flip(lay.counter), lay.status, "right")

    @classmethod
    def _fit(cls, bench_w: float, bench_d: float, first_zone_y: float) -> PanelLayout:
        top = min(max(first_zone_y - 12.0, MIN_PANEL_MM), MAX_PANEL_MM, bench_d)
        m = MARGIN_MM
        bar = (m, m, bench_w - m, m + BAR_MM)
        status = (m, top - STATUS_MM, bench_w - m, top)
        main_y0, main_y1 = bar[3] + GAP_MM, status[1] - GAP_MM / 2
        side = main_y1 - main_y0
        icon = (m, main_y0, m + side, main_y1)
        counter = (bench_w - m - COUNTER_MM, main_y0, bench_w - m, main_y1)
        text = (icon[2] + 2 * GAP_MM, main_y0, counter[0] - 2 * GAP_MM, main_y1)
        return cls((0.0, 0.0, bench_w, top), bar, icon, text, counter, status)


def rect_points(r: Rect) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = r
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def tile_grid(bench_w: float, panel_top: float, bench_d: float, n: int, cols: int = 4) -> list[Rect]:
    """``n`` tiles (sign-in names, the sign-out button) in rows above the panel, centred on the bench."""
    if n <= 0:
        return []
    cols = max(1, min(cols, n))
    rows = (n + cols - 1) // cols
    gap = 30.0
    avail_w = bench_w - 2 * 60.0
    avail_h = bench_d - panel_top - 2 * 40.0
    tw = min(260.0, (avail_w - (cols - 1) * gap) / cols)
    th = min(170.0, (avail_h - (rows - 1) * gap) / rows)
    x0 = (bench_w - (cols * tw + (cols - 1) * gap)) / 2
    top = panel_top + 40.0 + (avail_h + rows * th + (rows - 1) * gap) / 2
    out: list[Rect] = []
    for i in range(n):
        r, c = divmod(i, cols)
        x = x0 + c * (tw + gap)
        y1 = top - r * (th + gap)
        out.append((x, y1 - th, x + tw, y1))
    return out
