"""Checks that need the whole file: references, geometry, media files, translations."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from PIL import Image

from oss.instructions import model as m
from oss.instructions.limits import MAX_MEDIA_PIXELS, MAX_RUN_STEPS
from oss.instructions.yamlnodes import Problems, key_text, path_state, shorten, suggest

if TYPE_CHECKING:
    from oss.instructions.loader import Refs

EDGE_TOLERANCE_MM = 0.5


def _defined_names(root: yaml.Node, section: str) -> set[str]:
    """Ids defined in a top-level section, even where their definition had problems."""
    if not isinstance(root, yaml.MappingNode):
        return set()
    for k, v in root.value:
        if k.value == section and isinstance(v, yaml.MappingNode):
            return {key_text(kk) for kk, _ in v.value}
    return set()


def check_semantics(p: Problems, refs: Refs, ins: m.Instruction | None, root: yaml.Node, path: Path) -> None:
    zones = _defined_names(root, "zones")
    bins = set(ins.bins) if ins is not None else set()
    if ins is None:  # without the model, fall back to the names; bin-ness can't be checked then
        bins = zones
    parts = _defined_names(root, "parts")
    variants = _defined_names(root, "variants")
    fixtures = _defined_names(root, "fixtures")

    for name, node, where in refs.zones:
        if name not in zones:
            p.error(node, f"{where}: no zone '{name}'{suggest(name, zones)}; define it under 'zones:'")
    for name, node, where in refs.bins:
        if name not in zones:
            p.error(
                node,
                f"{where}: no bin '{name}'{suggest(name, sorted(bins))}; define it under 'zones:' with 'bin: true'",
            )
        elif name not in bins:
            p.error(
                node,
                f"{where}: zone '{name}' is not a bin; add 'bin: true' to it or name a bin{suggest(name, sorted(bins))}",
            )
    for name, node, where in refs.parts:
        if name not in parts:
            p.error(node, f"{where}: no part '{name}'{suggest(name, parts)}; define it under 'parts:'")
    for name, node, where in refs.variants:
        if name not in variants:
            hint = suggest(name, variants) if variants else "; there is no 'variants:' section"
            p.error(node, f"{where}: no variant '{name}'{hint}")
    for name, node, where in refs.frames:
        if name not in fixtures:
            hint = suggest(name, fixtures) if fixtures else "; there is no 'fixtures:' section"
            p.error(node, f"{where}: no fixture '{name}' (use 'bench' or a fixture id){hint}")
    checked: dict[str, str | None] = {}
    for name, node, where in refs.media:
        if name not in checked:
            checked[name] = media_problem(path, name)
        if checked[name] is not None:
            p.error(node, f"{where}: {checked[name]}")
    if ins is None:
        return
    languages = ins.languages
    for text, node, where in refs.texts:
        missing = [lang for lang in languages if lang not in text.languages]
        if missing:
            p.warning(node, f"{where} has no {', '.join(missing)} translation")
        extra = sorted(text.languages - set(languages))
        if extra:
            p.warning(
                node,
                f"{where} has text in {', '.join(extra)}, which is not in languages ({', '.join(languages)})",
            )
    each_steps = {s.id for s in ins.steps if s.each}
    for node, sid in refs.each_uses:
        if sid not in each_steps:
            p.error(node, f"'$each' is used in step '{sid}', which has no 'each:' list of zones")
    _check_geometry(p, ins, root)
    _check_parts(p, ins, root)
    if _check_run_steps(p, ins, root):
        _check_variants(p, ins, root)


def media_problem(instruction_file: Path, name: str) -> str | None:
    """What is wrong with the picture ``name`` of an instruction, as the station would find it, or None.

    The station loads every picture from the instruction's folder when it starts; anything it would
    refuse is refused here: a path out of the folder, a missing file, a folder, a file that is not a
    picture OpenCV can read, or one too large to hold.
    """
    folder = instruction_file.parent
    f = folder / name
    inside = os.path.normpath(folder / name)
    if Path(name).is_absolute() or not (inside + os.sep).startswith(os.path.normpath(folder) + os.sep):
        return (
            f"'{shorten(name, 300)}' must be inside the instruction's folder: write a path relative to it, "
            "like media/housing.png, and keep the pictures with the instruction"
        )
    if path_state(f) == "missing":
        return f"file '{shorten(name, 300)}' not found next to the instruction file ({f}); add it or fix the path"
    return image_problem(f, name)


def image_problem(f: Path, name: str) -> str | None:
    """What keeps the station from showing the picture file ``f`` (written ``name``), or None."""
    shown = shorten(name, 300)
    state = path_state(f)
    if state == "folder":
        return f"'{shown}' is a folder, not a picture; name the picture file in it"
    if state == "missing":
        return f"file '{shown}' not found ({f}); add it or fix the path"
    if state != "file":
        return f"'{shown}' cannot be read ({state})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(f) as img:
                w, h = img.size
    except Image.DecompressionBombError:
        return f"'{shown}' is too large: a picture may have at most {MAX_MEDIA_PIXELS // 1_000_000} million pixels"
    except (OSError, ValueError, SyntaxError):
        return f"'{shown}' is not an image (PNG or JPEG); the station could not show it"
    if w * h > MAX_MEDIA_PIXELS:
        return (
            f"'{shown}' is {w} x {h} px; a picture may have at most {MAX_MEDIA_PIXELS // 1_000_000} "
            "million pixels (a pictogram needs a few hundred px a side)"
        )
    import cv2

    if cv2.imread(str(f), cv2.IMREAD_UNCHANGED) is None:
        return f"'{shown}' is not an image OpenCV can read; save it as PNG or JPEG"
    return None


def _check_run_steps(p: Problems, ins: m.Instruction, root: yaml.Node) -> bool:
    """At most MAX_RUN_STEPS steps in one unit of any variant; counted before anything is expanded."""
    for v in ins.variants or (None,):
        n = sum(len(s.each) if s.each else s.repeat for s in ins.steps if not s.variants or v in s.variants)
        if n > MAX_RUN_STEPS:
            of = f" of variant '{v}'" if v is not None else ""
            p.error(
                _key_node(root, "steps"),
                f"one unit{of} has {n} steps (repeats and 'each' counted); at most {MAX_RUN_STEPS} are "
                "allowed: split the work into several instructions",
            )
            return False
    return True


def _key_node(root: yaml.Node, key: str) -> yaml.Node:
    if isinstance(root, yaml.MappingNode):
        for k, _v in root.value:
            if k.value == key:
                return k
    return root


def _zone_node(root: yaml.Node, zid: str) -> yaml.Node | None:
    if isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            if k.value == "zones" and isinstance(v, yaml.MappingNode):
                for kk, _vv in v.value:
                    if kk.value == zid:
                        return kk
    return root


def _check_geometry(p: Problems, ins: m.Instruction, root: yaml.Node) -> None:
    w, d = ins.bench.width_mm, ins.bench.depth_mm
    for z in ins.zones.values():
        fx = ins.fixtures.get(z.frame)
        pts = [fx.to_bench(x, y) for x, y in z.points] if fx is not None else list(z.points)
        outside = [
            (x, y)
            for x, y in pts
            if x < -EDGE_TOLERANCE_MM
            or y < -EDGE_TOLERANCE_MM
            or x > w + EDGE_TOLERANCE_MM
            or y > d + EDGE_TOLERANCE_MM
        ]
        if outside:
            x, y = outside[0]
            where = "" if fx is None else f" (with fixture '{fx.id}' at its place)"
            p.error(
                _zone_node(root, z.id),
                f"zone '{z.id}' reaches outside the {w:g} x {d:g} mm bench{where}: point ({x:.0f}, {y:.0f}) mm; "
                "move or shrink it",
            )
    seen: dict[int, str] = {}
    for f in ins.fixtures.values():
        if f.marker_id in seen:
            p.error(
                root,
                f"fixtures '{seen[f.marker_id]}' and '{f.id}' use the same marker {f.marker_id}; give each its own",
            )
        seen[f.marker_id] = f.id


def _check_parts(p: Problems, ins: m.Instruction, root: yaml.Node) -> None:
    for part in ins.parts.values():
        if part.bin is not None and part.bin in ins.zones:
            held = ins.zones[part.bin].part
            if held is not None and held != part.id:
                p.warning(
                    root, f"part '{part.id}' comes from bin '{part.bin}', but that bin says it holds '{held}'"
                )


def _check_variants(p: Problems, ins: m.Instruction, root: yaml.Node) -> None:
    if not ins.variants:
        return
    for v in ins.variants:
        if not ins.run_steps(v):
            p.error(root, f"variant '{v}' has no steps")
