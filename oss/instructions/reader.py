"""Typed reading of YAML nodes that records a problem, with its position, instead of raising.

Every method returns ``None`` (or a default) when the value is wrong and has recorded why, so that a
parser can go on and report every problem of a file at once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import yaml

from oss.instructions.model import Text
from oss.instructions.yamlnodes import (
    Problems,
    key_text,
    mapping_items,
    scalar_value,
    shorten,
    shown,
    suggest,
    type_name,
)

ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
HEX_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
COLORS = ("green", "yellow", "red", "white", "blue", "orange", "cyan", "magenta")
MAX_NUMBER = 1_000_000.0  # no OSS number (mm, seconds, settings) is larger: a sanity bound for all of them
MAX_INTEGER = 1_000_000  # the same for whole numbers; counts have their own, smaller limits
MAX_TEXT = 2000  # characters of a text (a step text, a hint, a name, a path)
MAX_ID = 100  # characters of an id (step, zone, part, station)


@dataclass(frozen=True)
class Entry:
    key: yaml.Node
    value: yaml.Node


class Reader:
    def __init__(self, problems: Problems, default_language: str = "en"):
        self.p = problems
        self.default_language = default_language

    # --- containers -------------------------------------------------------------------------------
    def mapping(
        self,
        node: yaml.Node,
        where: str,
        allowed: tuple[str, ...],
        required: tuple[str, ...] = (),
    ) -> dict[str, Entry] | None:
        """The entries of a mapping with known keys; unknown, duplicate and missing keys are reported."""
        if not isinstance(node, yaml.MappingNode):
            self.p.error(node, f"{where} must be a mapping of keys to values, not {type_name(node)}")
            return None
        out: dict[str, Entry] = {}
        for key, knode, vnode in mapping_items(node):
            if key in out:
                self.p.error(
                    knode,
                    f"'{key}' is given twice in {where} (first on line {out[key].key.start_mark.line + 1})",
                )
                continue
            if key not in allowed:
                self.p.error(
                    knode,
                    f"unknown key '{shorten(key)}' in {where}{suggest(key, allowed)}; "
                    f"allowed here: {', '.join(allowed)}",
                )
                continue
            out[key] = Entry(knode, vnode)
        for key in required:
            if key not in out:
                self.p.error(node, f"{where} needs '{key}'")
        return out

    def id_mapping(self, node: yaml.Node, where: str) -> list[tuple[str, Entry]]:
        """A mapping from ids (checked) to values."""
        if not isinstance(node, yaml.MappingNode):
            self.p.error(node, f"{where} must be a mapping from ids to definitions, not {type_name(node)}")
            return []
        out: list[tuple[str, Entry]] = []
        seen: dict[str, yaml.Node] = {}
        for key, knode, vnode in mapping_items(node):
            if key in seen:
                self.p.error(
                    knode,
                    f"'{key}' is defined twice in {where} (first on line {seen[key].start_mark.line + 1})",
                )
                continue
            seen[key] = knode
            if len(key) > MAX_ID:
                self.p.error(knode, f"'{shorten(key)}' is not a valid id: at most {MAX_ID} characters")
                continue
            if not ID_RE.match(key):
                self.p.error(
                    knode,
                    f"'{shorten(key)}' is not a valid id: use letters, digits, '_' and '-', starting with a letter",
                )
                continue
            out.append((key, Entry(knode, vnode)))
        return out

    def sequence(self, node: yaml.Node, where: str, min_items: int = 0) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            self.p.error(node, f"{where} must be a list (lines starting with '- '), not {type_name(node)}")
            return []
        if len(node.value) < min_items:
            self.p.error(node, f"{where} needs at least {min_items} item{'s' if min_items > 1 else ''}")
        return list(node.value)

    def one_key(
        self, node: yaml.Node, where: str, kinds: tuple[str, ...]
    ) -> tuple[str, yaml.Node, yaml.Node] | None:
        """A mapping with exactly one key naming a kind (an overlay, a condition, an error rule)."""
        if not isinstance(node, yaml.MappingNode) or len(node.value) != 1:
            got = type_name(node) if not isinstance(node, yaml.MappingNode) else f"{len(node.value)} keys"
            self.p.error(node, f"{where} must be one key naming its kind ({', '.join(kinds)}), not {got}")
            return None
        knode, vnode = node.value[0]
        kind = key_text(knode)
        if kind not in kinds:
            self.p.error(
                knode, f"unknown {where} '{kind}'{suggest(kind, kinds)}; use one of: {', '.join(kinds)}"
            )
            return None
        return kind, knode, vnode

    # --- scalars ----------------------------------------------------------------------------------
    def _scalar(self, node: yaml.Node) -> object:
        return scalar_value(node) if isinstance(node, yaml.ScalarNode) else node

    def string(self, node: yaml.Node, where: str) -> str | None:
        v = self._scalar(node)
        if isinstance(v, str) and len(v) > MAX_TEXT:
            self.p.error(node, f"{where} must be at most {MAX_TEXT} characters, not {len(v)}")
            return None
        if isinstance(v, str) and v.strip():
            return v
        if isinstance(v, int | float) and not isinstance(v, bool) and isinstance(node, yaml.ScalarNode):
            return node.value  # a version like 1.2 is fine as text
        self.p.error(node, f"{where} must be a text, not {type_name(node)}")
        return None

    def ident(self, node: yaml.Node, where: str) -> str | None:
        v = self._scalar(node)
        if isinstance(v, str) and len(v) > MAX_ID:
            self.p.error(node, f"{where} must be at most {MAX_ID} characters, not {len(v)}")
            return None
        if isinstance(v, str) and (ID_RE.match(v) or v == "$each"):
            return v
        self.p.error(node, f"{where} must be an id (letters, digits, '_' and '-'), not {type_name(node)}")
        return None

    def number(
        self,
        node: yaml.Node,
        where: str,
        minimum: float | None = None,
        positive: bool = False,
        maximum: float = MAX_NUMBER,
    ) -> float | None:
        """A finite number within limits: every number has a ``maximum`` (and ``-MAX_NUMBER`` below)."""
        v = self._scalar(node)
        if isinstance(v, bool) or not isinstance(v, int | float):
            self.p.error(node, f"{where} must be a number, not {type_name(node)}")
            return None
        if isinstance(v, float) and math.isnan(v):
            self.p.error(node, f"{where} must be a number, not {shown(node)}")
            return None
        if positive and v <= 0:
            self.p.error(node, f"{where} must be more than 0, not {shown(node)}")
            return None
        low = minimum if minimum is not None else -MAX_NUMBER
        if v < low:
            self.p.error(node, f"{where} must be at least {low:.10g}, not {shown(node)}")
            return None
        if v > maximum:
            self.p.error(node, f"{where} must be at most {maximum:.10g}, not {shown(node)}")
            return None
        return float(v)

    def integer(
        self, node: yaml.Node, where: str, minimum: int | None = None, maximum: int = MAX_INTEGER
    ) -> int | None:
        """A whole number within limits: every count has a ``maximum`` (and ``-MAX_INTEGER`` below)."""
        v = self._scalar(node)
        if isinstance(v, float) and math.isinf(v):  # a whole number too long to read
            low = minimum if minimum is not None else -MAX_INTEGER
            limit = f"at least {low}" if v < 0 else f"at most {maximum}"
            self.p.error(node, f"{where} must be {limit}, not {shown(node)}")
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            self.p.error(node, f"{where} must be a whole number, not {type_name(node)}")
            return None
        low = minimum if minimum is not None else -MAX_INTEGER
        if v < low:
            self.p.error(node, f"{where} must be at least {low}, not {shown(node)}")
            return None
        if v > maximum:
            self.p.error(node, f"{where} must be at most {maximum}, not {shown(node)}")
            return None
        return v

    def boolean(self, node: yaml.Node, where: str) -> bool | None:
        v = self._scalar(node)
        if isinstance(v, bool):
            return v
        self.p.error(node, f"{where} must be true or false, not {type_name(node)}")
        return None

    def color(self, node: yaml.Node, where: str) -> str | None:
        v = self._scalar(node)
        if isinstance(v, str) and (v in COLORS or HEX_RE.match(v)):
            return v
        hint = suggest(str(v), COLORS) if isinstance(v, str) else ""
        self.p.error(
            node, f"{where} must be a colour ({', '.join(COLORS)} or #rrggbb), not {type_name(node)}{hint}"
        )
        return None

    def point(self, node: yaml.Node, where: str) -> tuple[float, float] | None:
        items = self.sequence(node, where)
        if not isinstance(node, yaml.SequenceNode):
            return None
        if len(items) != 2:
            self.p.error(node, f"{where} must be two numbers [x, y] in mm, not {len(items)} values")
            return None
        x = self.number(items[0], f"{where} x")
        y = self.number(items[1], f"{where} y")
        return (x, y) if x is not None and y is not None else None

    def numbers(self, node: yaml.Node, where: str, n: int, what: str) -> list[float] | None:
        items = self.sequence(node, where)
        if not isinstance(node, yaml.SequenceNode):
            return None
        if len(items) != n:
            self.p.error(node, f"{where} must be {n} numbers {what}, not {len(items)} values")
            return None
        vals = [self.number(it, where) for it in items]
        return None if any(v is None for v in vals) else [float(v) for v in vals if v is not None]

    def text(self, node: yaml.Node, where: str) -> Text | None:
        """A Text: a plain string (the default language) or a mapping language -> string."""
        if isinstance(node, yaml.ScalarNode):
            s = self.string(node, where)
            return Text.of({self.default_language: s}) if s is not None else None
        if not isinstance(node, yaml.MappingNode):
            self.p.error(
                node, f"{where} must be a text or a mapping of language codes to texts, not {type_name(node)}"
            )
            return None
        vals: dict[str, str] = {}
        for lang, knode, vnode in mapping_items(node):
            if not LANG_RE.match(lang):
                self.p.error(knode, f"'{lang}' in {where} is not a language code (like en, nl, de, pt-BR)")
                continue
            s = self.string(vnode, f"{where} ({lang})")
            if s is not None:
                vals[lang] = s
        if not node.value:
            self.p.error(node, f"{where} is empty; write the text, e.g. {{en: ..., nl: ...}}")
        return Text.of(vals) if vals else None
