"""Load an instruction file into the model, reporting every problem with FILE:LINE:COL.

``load_instruction(path)`` returns an :class:`Instruction` or raises :class:`InstructionError` whose
``problems`` list every error and warning. ``check_instruction(path)`` returns the problems without
raising (used by ``oss validate``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from oss.instructions import model as m
from oss.instructions.levels import read_guidance, read_level
from oss.instructions.limits import (
    MAX_BENCH_MM,
    MAX_DWELL_S,
    MAX_HEIGHT_MM,
    MAX_MARKER_MM,
    MAX_OVERLAY_MM,
    MAX_PICK_COUNT,
    MAX_REPEAT,
    MAX_SECONDS,
    MAX_SHOWN_NUMBER,
)
from oss.instructions.reader import LANG_RE, Entry, Reader
from oss.instructions.semantics import check_semantics
from oss.instructions.yamlnodes import FileProblems, Problem, Problems, compose_file, suggest

InstructionError = FileProblems

TOP_KEYS = (
    "format",
    "product",
    "version",
    "languages",
    "default_language",
    "bench",
    "fixtures",
    "variants",
    "parts",
    "zones",
    "steps",
)
TOP_REQUIRED = ("format", "product", "version", "languages", "default_language", "bench", "steps")
OVERLAYS = ("highlight", "outline", "arrow", "text", "image", "number")
CONDITIONS = ("pick", "present", "absent", "hand_in", "press", "timer", "all", "any", "sequence")
BUTTONS = ("next", "confirm", "help")
ERROR_KINDS = ("wrong_pick",)
STEP_KEYS = (
    "id",
    "text",
    "pictogram",
    "image",
    "show",
    "done",
    "expected_s",
    "errors",
    "variants",
    "repeat",
    "each",
    "guidance",
)


@dataclass
class Refs:
    """References seen while parsing, checked once every definition is known."""

    zones: list[tuple[str, yaml.Node, str]] = field(default_factory=list)  # (name, node, role)
    bins: list[tuple[str, yaml.Node, str]] = field(default_factory=list)
    parts: list[tuple[str, yaml.Node, str]] = field(default_factory=list)
    variants: list[tuple[str, yaml.Node, str]] = field(default_factory=list)
    frames: list[tuple[str, yaml.Node, str]] = field(default_factory=list)
    media: list[tuple[str, yaml.Node, str]] = field(default_factory=list)
    texts: list[tuple[m.Text, yaml.Node, str]] = field(default_factory=list)
    each_uses: list[tuple[yaml.Node, str]] = field(default_factory=list)  # where '$each' was used (step id)


@dataclass
class Parsed:
    instruction: m.Instruction | None
    problems: list[Problem]


class _Parser:
    def __init__(self, path: Path):
        self.path = path
        self.p = Problems(str(path))
        self.r = Reader(self.p)
        self.refs = Refs()
        self._step_id = ""

    # --- helpers ----------------------------------------------------------------------------------
    def _text(self, node: yaml.Node, where: str) -> m.Text | None:
        t = self.r.text(node, where)
        if t is not None:
            self.refs.texts.append((t, node, where))
        return t

    def _zone_ref(self, node: yaml.Node, where: str, bin_only: bool = False) -> str | None:
        z = self.r.ident(node, where)
        if z is None:
            return None
        if z == m.EACH:
            self.refs.each_uses.append((node, self._step_id))
        else:
            (self.refs.bins if bin_only else self.refs.zones).append((z, node, where))
        return z

    def _media(self, node: yaml.Node, where: str) -> str | None:
        s = self.r.string(node, where)
        if s is not None:
            self.refs.media.append((s, node, where))
        return s

    def _frame(self, node: yaml.Node, where: str) -> str | None:
        f = self.r.ident(node, where)
        if f is not None and f != m.BENCH_FRAME:
            self.refs.frames.append((f, node, where))
        return f

    # --- top level --------------------------------------------------------------------------------
    def parse(self, root: yaml.Node) -> m.Instruction | None:
        top = self.r.mapping(root, "the instruction file", TOP_KEYS, TOP_REQUIRED)
        if top is None:
            return None
        if "format" in top:
            fmt = self.r.integer(top["format"].value, "format")
            if fmt is not None and fmt != m.FORMAT_VERSION:
                self.p.error(
                    top["format"].value,
                    f"format {fmt} is not known; this OSS reads format {m.FORMAT_VERSION}",
                )
        languages: tuple[str, ...] = ()
        if "languages" in top:
            items = self.r.sequence(top["languages"].value, "languages", min_items=1)
            langs = [self.r.string(n, "a language code") for n in items]
            for n, lang in zip(items, langs, strict=True):
                if lang is not None and not LANG_RE.match(lang):
                    self.p.error(n, f"'{lang}' is not a language code (like en, nl, de, pt-BR)")
            languages = tuple(x for x in langs if x is not None)
        default_language = "en"
        if "default_language" in top:
            node = top["default_language"].value
            dl = self.r.string(node, "default_language")
            if dl is not None:
                default_language = dl
                if languages and dl not in languages:
                    self.p.error(
                        node, f"default_language '{dl}' is not in languages ({', '.join(languages)})"
                    )
        self.r.default_language = default_language
        product_id, product_name = "", m.Text()
        if "product" in top:
            prod = self.r.mapping(top["product"].value, "product", ("id", "name"), ("id", "name"))
            if prod:
                if "id" in prod:
                    product_id = self.r.ident(prod["id"].value, "product id") or ""
                if "name" in prod:
                    product_name = self._text(prod["name"].value, "product name") or m.Text()
        version = ""
        if "version" in top:
            version = self.r.string(top["version"].value, "version") or ""
        bench = self._bench(top["bench"].value) if "bench" in top else None
        fixtures = self._fixtures(top["fixtures"].value) if "fixtures" in top else {}
        variants = self._variants(top["variants"].value) if "variants" in top else {}
        parts = self._parts(top["parts"].value) if "parts" in top else {}
        zones = self._zones(top["zones"].value) if "zones" in top else {}
        steps = self._steps(top["steps"].value) if "steps" in top else ()
        if bench is None or self.p.errors:
            return None
        return m.Instruction(
            product_id=product_id,
            product_name=product_name,
            version=version,
            languages=languages,
            default_language=default_language,
            bench=bench,
            fixtures=fixtures,
            parts=parts,
            zones=zones,
            steps=steps,
            variants=variants,
            source=str(self.path),
        )

    def _bench(self, node: yaml.Node) -> m.Bench | None:
        b = self.r.mapping(node, "bench", ("width_mm", "depth_mm", "surface"), ("width_mm", "depth_mm"))
        if b is None:
            return None
        w = (
            self.r.number(b["width_mm"].value, "bench width_mm", positive=True, maximum=MAX_BENCH_MM)
            if "width_mm" in b
            else None
        )
        d = (
            self.r.number(b["depth_mm"].value, "bench depth_mm", positive=True, maximum=MAX_BENCH_MM)
            if "depth_mm" in b
            else None
        )
        surface = "light"
        if "surface" in b:
            s = self.r.string(b["surface"].value, "bench surface")
            if s not in ("light", "dark"):
                self.p.error(b["surface"].value, "bench surface must be 'light' or 'dark'")
            else:
                surface = s
        return m.Bench(w, d, surface) if w is not None and d is not None else None

    def _fixtures(self, node: yaml.Node) -> dict[str, m.Fixture]:
        out: dict[str, m.Fixture] = {}
        keys = ("marker", "marker_size_mm", "dictionary", "at", "angle_deg", "height_mm")
        for fid, e in self.r.id_mapping(node, "fixtures"):
            f = self.r.mapping(e.value, f"fixture '{fid}'", keys, ("marker", "marker_size_mm"))
            if f is None:
                continue
            marker = self.r.integer(f["marker"].value, "marker", minimum=0) if "marker" in f else None
            size = (
                self.r.number(
                    f["marker_size_mm"].value, "marker_size_mm", positive=True, maximum=MAX_MARKER_MM
                )
                if "marker_size_mm" in f
                else None
            )
            dictionary = "DICT_4X4_50"
            if "dictionary" in f:
                dictionary = self._dictionary(f["dictionary"].value) or dictionary
            if marker is not None and marker >= (n := _dictionary_size(dictionary)):
                self.p.error(
                    f["marker"].value,
                    f"marker {marker} is not in {dictionary}, whose markers are 0 to {n - 1}; "
                    "print a marker of the dictionary or name a larger one",
                )
                marker = None
            at = self.r.point(f["at"].value, "at") if "at" in f else (0.0, 0.0)
            ang = self.r.number(f["angle_deg"].value, "angle_deg") if "angle_deg" in f else 0.0
            h = (
                self.r.number(f["height_mm"].value, "height_mm", minimum=0, maximum=MAX_HEIGHT_MM)
                if "height_mm" in f
                else 0.0
            )
            if marker is None or size is None or at is None or ang is None or h is None:
                continue
            out[fid] = m.Fixture(fid, marker, size, dictionary, at[0], at[1], ang, h)
        return out

    def _dictionary(self, node: yaml.Node) -> str | None:
        import cv2

        names = tuple(n for n in dir(cv2.aruco) if n.startswith("DICT_"))
        s = self.r.string(node, "dictionary")
        if s is None:
            return None
        if s not in names:
            self.p.error(
                node,
                f"'{s}' is not an ArUco dictionary{suggest_name(s, names)}; the usual one is DICT_4X4_50",
            )
            return None
        return s

    def _variants(self, node: yaml.Node) -> dict[str, m.Variant]:
        out: dict[str, m.Variant] = {}
        for vid, e in self.r.id_mapping(node, "variants"):
            v = self.r.mapping(e.value, f"variant '{vid}'", ("name",), ("name",))
            if v is None or "name" not in v:
                continue
            name = self._text(v["name"].value, f"variant '{vid}' name")
            if name is not None:
                out[vid] = m.Variant(vid, name)
        return out

    def _variant_list(self, node: yaml.Node, where: str) -> tuple[str, ...]:
        ids = [self.r.ident(n, where) for n in self.r.sequence(node, where, min_items=1)]
        for n, i in zip(self.r.sequence(node, where), ids, strict=False):
            if i is not None:
                self.refs.variants.append((i, n, where))
        return tuple(i for i in ids if i is not None)

    def _parts(self, node: yaml.Node) -> dict[str, m.Part]:
        out: dict[str, m.Part] = {}
        keys = ("name", "bin", "image", "color", "size_mm", "variants")
        for pid, e in self.r.id_mapping(node, "parts"):
            f = self.r.mapping(e.value, f"part '{pid}'", keys, ("name",))
            if f is None:
                continue
            name = self._text(f["name"].value, f"part '{pid}' name") if "name" in f else None
            bin_ = self._zone_ref(f["bin"].value, f"part '{pid}' bin", bin_only=True) if "bin" in f else None
            image = self._media(f["image"].value, f"part '{pid}' image") if "image" in f else None
            color = self.r.color(f["color"].value, "color") if "color" in f else None
            size = None
            if "size_mm" in f:
                vals = self.r.numbers(f["size_mm"].value, "size_mm", 2, "[width, depth] in mm")
                size = (vals[0], vals[1]) if vals else None
            variants = (
                self._variant_list(f["variants"].value, f"part '{pid}' variants") if "variants" in f else ()
            )
            if name is not None:
                out[pid] = m.Part(pid, name, image, bin_, color, size, variants)
        return out

    def _zones(self, node: yaml.Node) -> dict[str, m.Zone]:
        out: dict[str, m.Zone] = {}
        keys = ("rect", "polygon", "frame", "bin", "part", "label")
        for zid, e in self.r.id_mapping(node, "zones"):
            f = self.r.mapping(e.value, f"zone '{zid}'", keys)
            if f is None:
                continue
            points: tuple[tuple[float, float], ...] | None = None
            if "rect" in f and "polygon" in f:
                self.p.error(f["polygon"].key, f"zone '{zid}' has both 'rect' and 'polygon'; keep one")
            elif "rect" in f:
                r = self.r.numbers(f["rect"].value, "rect", 4, "[x, y, width, depth] in mm")
                if r is not None:
                    if r[2] <= 0 or r[3] <= 0:
                        self.p.error(f["rect"].value, "rect width and depth must be more than 0")
                    else:
                        x, y, w, d = r
                        points = ((x, y), (x + w, y), (x + w, y + d), (x, y + d))
            elif "polygon" in f:
                pts = [
                    self.r.point(n, "polygon point")
                    for n in self.r.sequence(f["polygon"].value, "polygon", 3)
                ]
                if all(p is not None for p in pts) and len(pts) >= 3:
                    points = tuple(p for p in pts if p is not None)
            else:
                self.p.error(
                    e.value,
                    f"zone '{zid}' needs its shape: 'rect: [x, y, width, depth]' or 'polygon: [[x, y], ...]'",
                )
            frame = self._frame(f["frame"].value, "frame") if "frame" in f else m.BENCH_FRAME
            is_bin = bool(self.r.boolean(f["bin"].value, "bin")) if "bin" in f else False
            part = None
            if "part" in f:
                part = self.r.ident(f["part"].value, "part")
                if part is not None:
                    self.refs.parts.append((part, f["part"].value, f"zone '{zid}' part"))
            label = self._text(f["label"].value, "label") if "label" in f else None
            if points is not None and frame is not None:
                out[zid] = m.Zone(zid, points, frame, is_bin, part, label or m.Text(), self.p.pos(e.key))
        return out

    # --- steps ------------------------------------------------------------------------------------
    def _steps(self, node: yaml.Node) -> tuple[m.Step, ...]:
        steps: list[m.Step] = []
        seen: dict[str, yaml.Node] = {}
        for item in self.r.sequence(node, "steps", min_items=1):
            f = self.r.mapping(item, "a step", STEP_KEYS, ("id", "text", "done"))
            if f is None:
                continue
            sid = self.r.ident(f["id"].value, "step id") if "id" in f else None
            if sid is not None:
                if sid in seen:
                    self.p.error(
                        f["id"].value,
                        f"step id '{sid}' is used twice (first on line {seen[sid].start_mark.line + 1}); give each step its own id",
                    )
                    sid = None
                else:
                    seen[sid] = f["id"].value
            self._step_id = sid or "?"
            where = f"step '{sid}'" if sid else "this step"
            step = self._step(f, sid, where, item)
            if step is not None:
                steps.append(step)
        return tuple(steps)

    def _step(self, f: dict[str, Entry], sid: str | None, where: str, node: yaml.Node) -> m.Step | None:
        text = self._text(f["text"].value, f"{where} text") if "text" in f else None
        pictogram = self._media(f["pictogram"].value, "pictogram") if "pictogram" in f else None
        image = self._media(f["image"].value, "image") if "image" in f else None
        show = (
            tuple(
                o
                for o in (self._overlay(n) for n in self.r.sequence(f["show"].value, "show"))
                if o is not None
            )
            if "show" in f
            else ()
        )
        done = self._condition(f["done"].value) if "done" in f else None
        expected = (
            self.r.number(f["expected_s"].value, "expected_s", positive=True, maximum=MAX_SECONDS)
            if "expected_s" in f
            else None
        )
        errors = (
            tuple(
                e
                for e in (self._error_rule(n) for n in self.r.sequence(f["errors"].value, "errors"))
                if e is not None
            )
            if "errors" in f
            else ()
        )
        variants = self._variant_list(f["variants"].value, f"{where} variants") if "variants" in f else ()
        repeat = 1
        if "repeat" in f:
            repeat = self.r.integer(f["repeat"].value, "repeat", minimum=1, maximum=MAX_REPEAT) or 1
        each: tuple[str, ...] = ()
        if "each" in f:
            if "repeat" in f:
                self.p.error(
                    f["each"].key,
                    f"{where} has both 'repeat' and 'each'; 'each' already repeats once per zone",
                )
            zs = [self._zone_ref(n, "each") for n in self.r.sequence(f["each"].value, "each", min_items=1)]
            each = tuple(z for z in zs if z is not None and z != m.EACH)
        guidance = read_guidance(self.r, f["guidance"].value, where) if "guidance" in f else None
        if sid is None or text is None or done is None:
            return None
        return m.Step(
            sid,
            text,
            done,
            show,
            pictogram,
            image,
            expected,
            errors,
            variants,
            repeat,
            each,
            self.p.pos(node),
            guidance or m.Guidance(),
        )

    def _overlay(self, node: yaml.Node) -> m.Overlay | None:
        """One overlay; the long form may also give ``level`` (see ``oss.instructions.levels``)."""
        o = self._overlay_kind(node)
        if o is None or not isinstance(node, yaml.MappingNode) or len(node.value) != 1:
            return o
        body = node.value[0][1]
        if isinstance(body, yaml.MappingNode):
            for k, v in body.value:
                if k.value == "level":
                    level = read_level(self.r, v, "overlay level")
                    return replace(o, level=level) if level is not None else None
        return o

    def _overlay_kind(self, node: yaml.Node) -> m.Overlay | None:
        got = self.r.one_key(node, "overlay", OVERLAYS)
        if got is None:
            return None
        kind, _, v = got
        zone_keys = ("zone", "color", "blink", "level")
        if kind in ("highlight", "outline", "number") and isinstance(v, yaml.ScalarNode):
            z = self._zone_ref(v, f"{kind} zone")
            if z is None:
                return None
            return (
                m.Highlight(z)
                if kind == "highlight"
                else m.Outline(z)
                if kind == "outline"
                else m.NumberOverlay(z)
            )
        allowed = {
            "highlight": zone_keys,
            "outline": zone_keys,
            "number": (*zone_keys, "value"),
            "arrow": ("from", "to", "color", "blink", "level"),
            "text": ("text", "at", "frame", "size_mm", "color", "blink", "level"),
            "image": ("image", "at", "frame", "size_mm", "blink", "level"),
        }[kind]
        required = {
            "highlight": ("zone",),
            "outline": ("zone",),
            "number": ("zone",),
            "arrow": ("from", "to"),
            "text": ("text", "at"),
            "image": ("image", "at"),
        }[kind]
        f = self.r.mapping(v, f"{kind} overlay", allowed, required)
        if f is None or any(k not in f for k in required):
            return None
        color = self.r.color(f["color"].value, "color") if "color" in f else None
        blink = bool(self.r.boolean(f["blink"].value, "blink")) if "blink" in f else False
        if kind in ("highlight", "outline", "number"):
            z = self._zone_ref(f["zone"].value, f"{kind} zone")
            if z is None:
                return None
            if kind == "highlight":
                return m.Highlight(z, color or "green", blink)
            if kind == "outline":
                return m.Outline(z, color or "white", blink)
            value = (
                self.r.integer(f["value"].value, "value", minimum=0, maximum=MAX_SHOWN_NUMBER)
                if "value" in f
                else 0
            )
            return m.NumberOverlay(z, value or 0, color or "white", blink)
        if kind == "arrow":
            a = self._zone_ref(f["from"].value, "arrow from")
            b = self._zone_ref(f["to"].value, "arrow to")
            return m.Arrow(a, b, color or "yellow", blink) if a and b else None
        at = self.r.point(f["at"].value, "at")
        frame = self._frame(f["frame"].value, "frame") if "frame" in f else m.BENCH_FRAME
        size = (
            self.r.number(f["size_mm"].value, "size_mm", positive=True, maximum=MAX_OVERLAY_MM)
            if "size_mm" in f
            else None
        )
        if at is None or frame is None:
            return None
        if kind == "text":
            t = self._text(f["text"].value, "overlay text")
            return m.TextOverlay(t, at, frame, size or 25.0, color or "white", blink) if t else None
        img = self._media(f["image"].value, "overlay image")
        return m.ImageOverlay(img, at, frame, size or 80.0, blink) if img else None

    def _condition(self, node: yaml.Node) -> m.Condition | None:
        got = self.r.one_key(node, "condition", CONDITIONS)
        if got is None:
            return None
        kind, _, v = got
        if kind in ("all", "any", "sequence"):
            subs = [self._condition(n) for n in self.r.sequence(v, f"'{kind}'", min_items=1)]
            if any(s is None for s in subs) or not subs:
                return None
            conds = tuple(s for s in subs if s is not None)
            return m.AllOf(conds) if kind == "all" else m.AnyOf(conds) if kind == "any" else m.Sequence(conds)
        main_key = {
            "pick": "bin",
            "present": "zone",
            "absent": "zone",
            "hand_in": "zone",
            "press": "button",
            "timer": "seconds",
        }[kind]
        extra = {
            "pick": ("count",),
            "present": ("part",),
            "absent": (),
            "hand_in": ("dwell_s",),
            "press": (),
            "timer": (),
        }[kind]
        if isinstance(v, yaml.MappingNode):
            f = self.r.mapping(v, f"'{kind}'", (main_key, *extra), (main_key,))
            if f is None or main_key not in f:
                return None
            main, opts = f[main_key].value, f
        else:
            main, opts = v, {}
        where = f"{kind} {main_key}"
        if kind == "pick":
            b = self._zone_ref(main, where, bin_only=True)
            count = (
                self.r.integer(opts["count"].value, "count", minimum=1, maximum=MAX_PICK_COUNT)
                if "count" in opts
                else 1
            )
            return m.Pick(b, count or 1) if b else None
        if kind == "present":
            z = self._zone_ref(main, where)
            part = None
            if "part" in opts:
                part = self.r.ident(opts["part"].value, "part")
                if part:
                    self.refs.parts.append((part, opts["part"].value, "present part"))
            return m.PartPresent(z, part) if z else None
        if kind == "absent":
            z = self._zone_ref(main, where)
            return m.PartAbsent(z) if z else None
        if kind == "hand_in":
            z = self._zone_ref(main, where)
            dwell = (
                self.r.number(opts["dwell_s"].value, "dwell_s", minimum=0, maximum=MAX_DWELL_S)
                if "dwell_s" in opts
                else 0.5
            )
            return m.HandIn(z, 0.5 if dwell is None else dwell) if z else None
        if kind == "press":
            b = self.r.string(main, where)
            if b is not None and b not in BUTTONS:
                self.p.error(
                    main, f"unknown button '{b}'{suggest_name(b, BUTTONS)}; use one of: {', '.join(BUTTONS)}"
                )
                return None
            return m.Press(b) if b else None
        s = self.r.number(main, "timer seconds", positive=True, maximum=MAX_SECONDS)
        return m.Timer(s) if s else None

    def _error_rule(self, node: yaml.Node) -> m.ErrorRule | None:
        got = self.r.one_key(node, "error rule", ERROR_KINDS)
        if got is None:
            return None
        kind, _, v = got
        f = self.r.mapping(v, f"'{kind}'", ("hint", "allowed_bins"), ("hint",))
        if f is None or "hint" not in f:
            return None
        hint = self._text(f["hint"].value, "hint")
        allowed: tuple[str, ...] = ()
        if "allowed_bins" in f:
            bs = [
                self._zone_ref(n, "allowed_bins", bin_only=True)
                for n in self.r.sequence(f["allowed_bins"].value, "allowed_bins", 1)
            ]
            allowed = tuple(b for b in bs if b)
        return m.ErrorRule(kind, hint, allowed) if hint else None


def _dictionary_size(name: str) -> int:
    """How many markers the ArUco dictionary ``name`` has (ids 0 to n - 1)."""
    import cv2

    return int(cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name)).bytesList.shape[0])


def suggest_name(name: str, choices: tuple[str, ...]) -> str:
    return suggest(name, choices)


def parse_instruction(path: str | Path) -> Parsed:
    """Parse and check a file; never raises for problems in the file itself."""
    path = Path(path)
    try:
        root = compose_file(path, "instruction file")
    except FileProblems as e:
        return Parsed(None, e.problems)
    parser = _Parser(path)
    instruction = parser.parse(root)
    check_semantics(parser.p, parser.refs, instruction, root, path)
    if instruction is not None and not parser.p.errors:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        instruction = _with_hash(instruction, digest)
    else:
        instruction = None
    return Parsed(instruction, sorted(parser.p.items, key=lambda p: (p.pos.line, p.pos.col)))


def _with_hash(ins: m.Instruction, digest: str) -> m.Instruction:
    from dataclasses import replace

    return replace(ins, content_hash=digest)


def check_instruction(path: str | Path) -> list[Problem]:
    return parse_instruction(path).problems


def load_instruction(path: str | Path) -> m.Instruction:
    """Load a valid instruction file; raise InstructionError listing every problem otherwise.

    Warnings (a missing translation, say) don't stop loading.
    """
    parsed = parse_instruction(path)
    if parsed.instruction is None:
        raise InstructionError([p for p in parsed.problems if p.severity == "error"] or parsed.problems)
    return parsed.instruction
