"""Guidance levels: what a step shows at full, reduced and minimal guidance.

Every overlay shows at its ``level`` and at every level with more guidance (full > reduced > minimal).
An overlay without ``level`` follows its kind: zone marks (``highlight``, ``outline``, ``number``)
show down to reduced guidance, ``arrow``, ``text`` and ``image`` only at full guidance. The operator
panel shows the step's ``guidance:`` items for the level (default: text, pictogram and animation at
full; nothing at reduced and minimal). ``read_guidance``/``read_level`` parse the YAML for the loader.
"""

from __future__ import annotations

import yaml

from oss.instructions.model import (
    GUIDANCE_LEVELS,
    PANEL_ITEMS,
    Arrow,
    Guidance,
    Highlight,
    ImageOverlay,
    NumberOverlay,
    Outline,
    Overlay,
    Step,
    TextOverlay,
)
from oss.instructions.reader import Reader
from oss.instructions.yamlnodes import suggest

FULL, REDUCED, MINIMAL = GUIDANCE_LEVELS
_RANK = {lvl: i for i, lvl in enumerate(GUIDANCE_LEVELS)}


def rank(level: str) -> int:
    """0 for full guidance, 1 reduced, 2 minimal (more is less guidance)."""
    return _RANK[level]


def default_level(o: Overlay) -> str:
    if isinstance(o, Highlight | Outline | NumberOverlay):
        return REDUCED
    if isinstance(o, Arrow | TextOverlay | ImageOverlay):
        return FULL
    return FULL


def overlay_level(o: Overlay) -> str:
    return o.level if o.level is not None else default_level(o)


def overlay_shown(o: Overlay, level: str) -> bool:
    """Whether overlay ``o`` is projected at guidance ``level``."""
    return rank(level) <= rank(overlay_level(o))


def panel_items(step: Step, level: str) -> tuple[str, ...]:
    """The panel items (text, pictogram, animation) ``step`` shows at ``level``."""
    return step.guidance.items(level)


# ---------------------------------------------------------------------------------------------------
# Reading the YAML


def read_level(r: Reader, node: yaml.Node, where: str) -> str | None:
    s = r.string(node, where)
    if s is None:
        return None
    if s not in GUIDANCE_LEVELS:
        r.p.error(
            node,
            f"{where} '{s}' is not a guidance level{suggest(s, GUIDANCE_LEVELS)}; "
            f"use one of: {', '.join(GUIDANCE_LEVELS)}",
        )
        return None
    return s


def read_guidance(r: Reader, node: yaml.Node, where: str) -> Guidance | None:
    """``guidance: {full: [...], reduced: [...], minimal: [...]}`` with items from PANEL_ITEMS."""
    f = r.mapping(node, f"{where} guidance", GUIDANCE_LEVELS)
    if f is None:
        return None
    got: dict[str, tuple[str, ...]] = {}
    for level, entry in f.items():
        items: list[str] = []
        for n in r.sequence(entry.value, f"guidance {level}"):
            s = r.string(n, f"guidance {level} item")
            if s is None:
                continue
            if s not in PANEL_ITEMS:
                r.p.error(
                    n,
                    f"'{s}' is not something the panel shows{suggest(s, PANEL_ITEMS)}; "
                    f"use {', '.join(PANEL_ITEMS)} (overlays take 'level:' themselves)",
                )
                continue
            if s in items:
                r.p.error(n, f"'{s}' is listed twice under guidance {level}")
                continue
            items.append(s)
        got[level] = tuple(items)
    g = Guidance(**got)
    for more, less in ((FULL, REDUCED), (REDUCED, MINIMAL), (FULL, MINIMAL)):
        missing = [x for x in g.items(less) if x not in g.items(more)]
        if missing:
            r.p.warning(
                f[less].key if less in f else node,
                f"{where}: {less} guidance shows {', '.join(missing)} but {more} guidance does not; "
                f"a level with more guidance should show at least as much",
            )
    return g
