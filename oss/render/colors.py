"""Named colours of the instruction format, as OpenCV BGR triples.

Projected light adds to the bench: a "translucent" fill is the colour scaled down, not blended with
what lies beneath. Saturated colours are kept for borders and highlights; panels stay dark.
"""

from __future__ import annotations

from oss.records import OssError

BGR = tuple[int, int, int]

NAMED: dict[str, BGR] = {
    "green": (0, 230, 0),
    "yellow": (0, 235, 255),
    "red": (0, 0, 255),
    "white": (255, 255, 255),
    "blue": (255, 120, 20),
    "orange": (0, 150, 255),
    "cyan": (255, 230, 0),
    "magenta": (255, 40, 255),
    "grey": (150, 150, 150),
    "gray": (150, 150, 150),
}

# A palette for people with red-green colour blindness (after Okabe & Ito): "go" is sky blue, "wrong"
# vermillion, and the two also differ in brightness. The renderer adds shapes (a cross over a wrong bin)
# so that no meaning rests on colour alone.
COLORBLIND: dict[str, BGR] = {
    **NAMED,
    "green": (233, 180, 86),  # sky blue
    "red": (0, 94, 213),  # vermillion
    "yellow": (66, 228, 240),
    "orange": (0, 159, 230),
    "blue": (178, 114, 0),
    "cyan": (233, 180, 86),
    "magenta": (167, 121, 204),  # reddish purple
}
PALETTES: dict[str, dict[str, BGR]] = {"standard": NAMED, "colorblind": COLORBLIND}

FILL_LEVEL = 0.45  # a highlight's fill is the colour at this level; its border is at full level
DIM_WHITE: BGR = (200, 200, 200)  # panel text: bright enough to read, not dazzling
PANEL_BG: BGR = (0, 0, 0)


def palette(name: str) -> dict[str, BGR]:
    if name not in PALETTES:
        raise OssError(f"unknown palette {name!r}: use one of {', '.join(PALETTES)}")
    return PALETTES[name]


def parse_color(name: str, named: dict[str, BGR] | None = None) -> BGR:
    """A named colour (``green``, from ``named``: default the standard palette) or ``#rrggbb`` as BGR;
    raises OssError for anything else."""
    key = name.strip().lower()
    table = NAMED if named is None else named
    if key in table:
        return table[key]
    if len(key) == 7 and key.startswith("#"):
        try:
            r, g, b = int(key[1:3], 16), int(key[3:5], 16), int(key[5:7], 16)
        except ValueError:
            pass
        else:
            return (b, g, r)
    raise OssError(
        f"unknown colour {name!r}: use one of {', '.join(sorted(set(NAMED) - {'gray'}))} or #rrggbb"
    )


def scaled(color: BGR, level: float) -> BGR:
    """``color`` dimmed to ``level`` (0..1) of its intensity."""
    return (int(color[0] * level), int(color[1] * level), int(color[2] * level))
