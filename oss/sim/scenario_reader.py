"""Walks a composed scenario YAML node tree into ``Scenario`` records, collecting every problem."""

from __future__ import annotations

import math
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from oss.instructions.reader import MAX_INTEGER, MAX_NUMBER
from oss.instructions.yamlnodes import (
    Problems,
    key_text,
    mapping_items,
    path_state,
    scalar_value,
    shorten,
    shown,
    suggest,
    type_name,
)
from oss.sim import scenario as s

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
# Limits of a scenario (issue 21): a simulated run must fit in memory and end.
MIN_SIZE_PX, MAX_SIZE_PX = 16, 4096  # a side of the camera or projector image
MAX_CYCLES = 1000
MAX_SEED = 2**32 - 1
MAX_TIME_LIMIT_S = 86400.0


class Reader:
    def __init__(self, file: str):
        self.problems = Problems(file)

    # --- typed values --------------------------------------------------------------------------
    def _mapping(
        self, node: yaml.Node, where: str, allowed: list[str]
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.problems.error(node, f"{where} must be a mapping of keys, not {type_name(node)}")
            return {}
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, knode, vnode in mapping_items(node):
            if key not in allowed:
                self.problems.error(
                    knode,
                    f"unknown key '{key}' in {where}{suggest(key, allowed)}; allowed: {', '.join(allowed)}",
                )
            elif key in out:
                self.problems.error(knode, f"'{key}' is given twice in {where}; keep one")
            else:
                out[key] = (knode, vnode)
        return out

    def number(
        self, node: yaml.Node, where: str, lo: float | None = None, hi: float | None = None
    ) -> float | None:
        """A finite number in [lo, hi]; without a limit, within ±MAX_NUMBER."""
        v = scalar_value(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(v, bool) or not isinstance(v, int | float) or (isinstance(v, float) and math.isnan(v)):
            self.problems.error(node, f"{where} must be a number, not {type_name(node)}")
            return None
        low = -MAX_NUMBER if lo is None else lo
        high = MAX_NUMBER if hi is None else hi
        if v < low or v > high:
            if lo is not None and hi is not None:
                rng = f"between {lo} and {hi}"
            elif lo is not None:
                rng = f"between {lo} and {high:.10g}" if v > high else f"at least {lo}"
            elif hi is not None:
                rng = f"between {low:.10g} and {hi}" if v < low else f"at most {hi}"
            else:
                rng = f"between {low:.10g} and {high:.10g}"
            self.problems.error(node, f"{where} is {shown(node)}; it must be {rng}")
            return None
        return float(v)

    def integer(self, node: yaml.Node, where: str, lo: int = 0, hi: int = MAX_INTEGER) -> int | None:
        v = scalar_value(node) if isinstance(node, yaml.ScalarNode) else None
        if (
            isinstance(v, bool)
            or not isinstance(v, int | float)
            or (isinstance(v, float) and not math.isinf(v))
        ):
            self.problems.error(
                node, f"{where} must be a whole number from {lo} to {hi}, not {type_name(node)}"
            )
            return None
        if not lo <= v <= hi:
            self.problems.error(node, f"{where} must be a whole number from {lo} to {hi}, not {shown(node)}")
            return None
        return int(v)

    def text(self, node: yaml.Node, where: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or scalar_value(node) is None:
            self.problems.error(node, f"{where} must be a text, not {type_name(node)}")
            return None
        return str(node.value)

    def boolean(self, node: yaml.Node, where: str) -> bool | None:
        v = scalar_value(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(v, bool):
            self.problems.error(node, f"{where} must be true or false, not {type_name(node)}")
            return None
        return v

    def vector(self, node: yaml.Node, where: str, n: int, integer: bool = False) -> tuple[float, ...] | None:
        if not isinstance(node, yaml.SequenceNode) or len(node.value) != n:
            self.problems.error(node, f"{where} must be a list of {n} numbers like [{', '.join(['0'] * n)}]")
            return None
        unbounded = (-math.inf, math.inf) if integer else ()  # sizes: checked together below
        vals = [self.number(v, f"{where}[{i}]", *unbounded) for i, v in enumerate(node.value)]
        if any(v is None for v in vals):
            return None
        lo, hi = MIN_SIZE_PX, MAX_SIZE_PX
        if integer and any(v is not None and not (lo <= v <= hi and v == int(v)) for v in vals):
            self.problems.error(node, f"{where} must be whole numbers from {lo} to {hi}, like [1280, 720]")
            return None
        return tuple(float(v) for v in vals if v is not None)

    def color(self, node: yaml.Node, where: str) -> str | None:
        t = self.text(node, where)
        if t is not None and not _HEX.match(t):
            self.problems.error(node, f'{where} must be a colour like "#c6977c" (quoted, # and 6 hex digits)')
            return None
        return t

    # --- sections ------------------------------------------------------------------------------
    def _section(self, node: yaml.Node, where: str, cls: type, spec: dict[str, tuple[str, Any]]) -> Any:
        """Parse a flat mapping whose keys are dataclass fields, each with a kind and limits."""
        entries = self._mapping(node, where, list(spec))
        kw: dict[str, object] = {}
        for key, (_, vnode) in entries.items():
            kind, lim = spec[key]
            w = f"{where}.{key}"
            isnull = isinstance(vnode, yaml.ScalarNode) and scalar_value(vnode) in (None, "auto")
            val: object
            if kind == "num":
                val = self.number(vnode, w, *lim)
            elif kind == "auto_num":
                val = "auto" if isnull else self.number(vnode, w, *lim)
            elif kind == "size":
                vec = self.vector(vnode, w, 2, integer=True)
                val = None if vec is None else (int(vec[0]), int(vec[1]))
            elif kind in ("vec2", "vec3"):
                val = "auto" if isnull else self.vector(vnode, w, int(kind[-1]))
            elif kind == "range":
                vec = self.vector(vnode, w, 2)
                val = vec if vec is None or vec[0] <= vec[1] else None
                if vec is not None and val is None:
                    self.problems.error(vnode, f"{w} must be [shortest, longest] with shortest <= longest")
            elif kind == "color":
                val = self.color(vnode, w)
            elif kind == "choice":
                t = self.text(vnode, w)
                val = t if t in lim else None
                if t is not None and val is None:
                    self.problems.error(vnode, f"{w} is '{t}'; write one of: {', '.join(lim)}")
            else:  # pragma: no cover - spec tables are fixed
                raise AssertionError(kind)
            if val is None:
                continue
            kw[key] = None if val == "auto" else val
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in kw.items() if k in names})

    def scenario(self, root: yaml.Node, path: Path) -> s.Scenario | None:
        keys = [
            "format",
            "name",
            "description",
            "instructions",
            "variant",
            "cycles",
            "seed",
            "time_limit_s",
            "camera",
            "projector",
            "lighting",
            "operator",
            "deviations",
        ]
        top = self._mapping(root, "the scenario file", keys)
        if not top:
            return None
        if "format" not in top:
            self.problems.error(
                root, f"missing 'format: {s.SCENARIO_FORMAT}' at the top of the scenario file"
            )
        elif scalar_value(top["format"][1]) != s.SCENARIO_FORMAT:  # type: ignore[arg-type]
            self.problems.error(
                top["format"][1], f"unknown format; this version of OSS reads 'format: {s.SCENARIO_FORMAT}'"
            )
        if "instructions" not in top:
            self.problems.error(
                root, "missing 'instructions:', the instruction file the operator works through"
            )
            return None
        inode = top["instructions"][1]
        ipath_text = self.text(inode, "instructions")
        ipath: Path | None = None
        if ipath_text is not None:
            tried = s.resolve_instructions(ipath_text, path)
            ipath = next((p for p in tried if path_state(p) != "missing"), None)
            state = path_state(ipath) if ipath is not None else "missing"
            if ipath is not None and state not in ("file", "folder"):
                self.problems.error(
                    inode, f"instruction file '{shorten(ipath_text, 300)}' cannot be read ({state})"
                )
                ipath = None
            elif ipath is not None and state == "folder":
                self.problems.error(
                    inode,
                    f"instruction file '{ipath_text}' is a folder ({ipath}); name the instruction file in it",
                )
                ipath = None
            elif ipath is None:
                self.problems.error(
                    inode,
                    f"instruction file '{ipath_text}' not found; looked in: "
                    f"{', '.join(str(p) for p in tried)}",
                )
        kw: dict[str, object] = {"name": path.stem, "source": str(path)}
        for key, conv in (("name", self.text), ("description", self.text), ("variant", self.text)):
            if key in top:
                kw[key] = conv(top[key][1], key)
        if "variant" in top:
            kw["variant_pos"] = self.problems.pos(top["variant"][1])
        if "cycles" in top:
            kw["cycles"] = self.integer(top["cycles"][1], "cycles", 1, MAX_CYCLES)
        if "seed" in top:
            kw["seed"] = self.integer(top["seed"][1], "seed", 0, MAX_SEED)
        if "time_limit_s" in top:
            kw["time_limit_s"] = self.number(top["time_limit_s"][1], "time_limit_s", 1.0, MAX_TIME_LIMIT_S)
        sections: dict[str, tuple[type, dict[str, tuple[str, Any]]]] = {
            "camera": (
                s.CameraSpec,
                {
                    "size": ("size", ()),
                    "fps": ("num", (1, 240)),
                    "position_mm": ("vec3", ()),
                    "look_at_mm": ("vec2", ()),
                    "roll_deg": ("num", (-180, 180)),
                    "focal_px": ("auto_num", (50, 20000)),
                    "fill": ("num", (0.2, 1.5)),
                    "k1": ("num", (-1, 1)),
                    "k2": ("num", (-1, 1)),
                    "exposure": ("num", (0.05, 5)),
                    "noise_sigma": ("num", (0, 40)),
                    "shot_noise": ("num", (0, 5)),
                    "exposure_ms": ("num", (0, 100)),
                    "defocus_px": ("num", (0, 10)),
                },
            ),
            "projector": (
                s.ProjectorSpec,
                {
                    "size": ("size", ()),
                    "position_mm": ("vec3", ()),
                    "look_at_mm": ("vec2", ()),
                    "roll_deg": ("num", (-180, 180)),
                    "focal_px": ("auto_num", (50, 20000)),
                    "fill": ("num", (0.2, 2)),
                    "principal_shift": ("num", (-1, 1)),
                    "brightness": ("num", (0, 5)),
                    "black_level": ("num", (0, 1)),
                },
            ),
            "lighting": (
                s.LightingSpec,
                {
                    "ambient": ("num", (0, 3)),
                    "drift_amplitude": ("num", (0, 1)),
                    "drift_period_s": ("num", (1, None)),
                    "vignette": ("num", (0, 1)),
                },
            ),
            "operator": (
                s.OperatorSpec,
                {
                    "reaction_s": ("num", (0, 10)),
                    "speed_mm_s": ("num", (50, 5000)),
                    "jitter": ("num", (0, 0.8)),
                    "pick_s": ("range", ()),
                    "place_s": ("num", (0, 10)),
                    "margin_s": ("num", (0.05, 10)),
                    "stuck_timeout_s": ("num", (0.5, 600)),
                    "hand": ("choice", ("auto", "left", "right")),
                    "x_mm": ("auto_num", (-1e5, 1e5)),
                    "skin": ("color", ()),
                    "sleeve": ("color", ()),
                },
            ),
        }
        for key, (cls, spec) in sections.items():
            if key in top:
                kw[key] = self._section(top[key][1], key, cls, spec)
        if "deviations" in top:
            kw["deviations"] = self.deviations(top["deviations"][1])
        if ipath is None or any(v is None for k, v in kw.items() if k not in ("variant",)):
            return None
        return s.Scenario(instructions=ipath, **kw)  # type: ignore[arg-type]

    def deviations(self, node: yaml.Node) -> tuple[s.Deviation, ...]:
        if not isinstance(node, yaml.SequenceNode):
            self.problems.error(
                node, "deviations must be a list, each item like '- hesitate: {step: lens, seconds: 3}'"
            )
            return ()
        out: list[s.Deviation] = []
        for item in node.value:
            if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
                self.problems.error(
                    item,
                    "each deviation is one kind with its settings, like "
                    "'- wrong_pick: {step: thermal_pad, bin: bin_led40}'",
                )
                continue
            knode, vnode = item.value[0]
            kind = key_text(knode)
            if kind not in s.DEVIATIONS:
                self.problems.error(
                    knode,
                    f"unknown deviation '{kind}'{suggest(kind, s.DEVIATIONS)}; known: "
                    f"{', '.join(s.DEVIATIONS)}",
                )
                continue
            params = s.DEVIATIONS[kind]
            allowed = ["step", "cycle", "at_s", "after_s", *params]
            entries = self._mapping(vnode, kind, allowed)
            pos = self.problems.pos(knode)
            kw: dict[str, Any] = {}
            vals: list[tuple[str, object]] = []
            ok = True
            for key, (_, v) in entries.items():
                w = f"{kind}.{key}"
                val: object
                if key == "step":
                    val = self.text(v, w)
                elif key == "cycle":
                    val = self.integer(v, w, 0)
                elif key in ("at_s", "after_s"):
                    val = self.number(v, w, 0.0)
                else:
                    ptype = params[key][0]
                    if ptype in ("bin", "zone", "fixture?"):
                        val = self.text(v, w)
                    elif ptype == "bool":
                        val = self.boolean(v, w)
                    elif ptype == "seconds":
                        val = self.number(v, w, 0.0, 600.0)
                    elif ptype == "level":
                        val = self.number(v, w, 0.0, 5.0)
                    else:
                        val = self.number(v, w, -1e5, 1e5)
                if val is None:
                    ok = False
                    continue
                if key in ("step", "cycle", "at_s", "after_s"):
                    kw[key] = val
                else:
                    vals.append((key, val))
            for key, (_, default) in params.items():
                if default is ... and key not in entries:
                    self.problems.error(vnode, f"{kind} needs '{key}:'")
                    ok = False
            if kind in s.OPERATOR_DEVIATIONS and "step" not in kw:
                self.problems.error(
                    vnode, f"{kind} happens during a step: give 'step:' (a run step uid like led_screw#2)"
                )
                ok = False
            elif "step" not in kw and "at_s" not in kw:
                self.problems.error(
                    vnode,
                    f"{kind} needs 'at_s:' (seconds into the run) or 'step:' (when the operator "
                    "starts that step)",
                )
                ok = False
            elif "step" in kw and "at_s" in kw:
                self.problems.error(vnode, f"{kind} has both 'step:' and 'at_s:'; keep one")
                ok = False
            if ok:
                out.append(s.Deviation(kind=kind, params=tuple(vals), pos=pos, **kw))
        return tuple(out)
