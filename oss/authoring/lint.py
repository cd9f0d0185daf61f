"""``oss lint``: what makes an instruction hard to follow or likely to fail, as FILE:LINE:COL: message.

Every finding names its check and says what to write instead. The checks (names as used in
``# oss-lint: allow CHECK`` comments) are:

- ``words``: a step text with more than ``MAX_WORDS`` words in some language;
- ``visual``: a step without a pictogram, image or projected image;
- ``text-size``: projected text whose letters look smaller than ``MIN_ARCMIN`` from the operator's eyes;
- ``contrast``: a projected colour that adds too little light to the bench surface (``bench.surface``);
- ``translation``: a text missing a language of ``languages`` (or in a language not listed);
- ``bin-overlap``: two bins that overlap on the bench;
- ``projector-reach``: an overlay outside the projector image (needs a calibration file);
- ``manual-press``: a step only a button press can complete (nothing the camera sees ends it);
- ``expected-duration``: a step without ``expected_s``.

A comment ``# oss-lint: allow CHECK[, CHECK]`` on any line of a step accepts those checks for that step
(for a press step by design: ``# oss-lint: allow manual-press``); on another line, for that line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

from oss.calibration.model import Calibration
from oss.instructions.loader import parse_instruction
from oss.instructions.model import (
    BENCH_FRAME,
    AllOf,
    AnyOf,
    Arrow,
    Condition,
    Highlight,
    ImageOverlay,
    Instruction,
    NumberOverlay,
    Outline,
    Overlay,
    Press,
    Sequence,
    SourcePos,
    Step,
    TextOverlay,
    Zone,
)
from oss.instructions.yamlnodes import Problem, compose_file, mapping_items

CHECKS = (
    "words",
    "visual",
    "text-size",
    "contrast",
    "translation",
    "bin-overlap",
    "projector-reach",
    "manual-press",
    "expected-duration",
)
MAX_WORDS = 12
MIN_ARCMIN = 22.0  # ISO 9241-303 asks 20-22 arcmin of character height for comfortable reading
EYE_MM = (None, -250.0, 700.0)  # operator's eyes: bench centre in x, 250 mm before the edge, 700 mm up
PROJECTOR_GAIN = 0.75  # light a full-white projection adds on a white surface (as the virtual bench)
AMBIENT = 0.5  # room light on the bench, same scale
DARK_SURFACE_FACTOR = 0.5  # a dark mat returns about half of what a light top returns, against the room
MIN_CONTRAST = 0.3  # the projected colour must add at least this much to the light already there
_EXTRA_COLORS = {"cyan": (255, 255, 0), "magenta": (255, 0, 255)}
_ALLOW_RE = re.compile(r"#\s*oss-lint:\s*allow\s+([A-Za-z\-,\s]+)")


@dataclass(frozen=True)
class Finding:
    pos: SourcePos
    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.pos}: {self.message} [{self.check}]"


@dataclass(frozen=True)
class LintReport:
    file: str
    findings: tuple[Finding, ...]
    errors: tuple[Problem, ...]  # the file does not load: lint checks nothing else
    suppressed: int = 0

    @property
    def clean(self) -> bool:
        return not self.findings and not self.errors


# ---------------------------------------------------------------------------------------------------
# Geometry and colour helpers


def zone_bench_polygon(ins: Instruction, zone: Zone) -> np.ndarray:
    """The zone's corners in bench mm, fixture zones at their fixture's nominal pose."""
    if zone.frame == BENCH_FRAME:
        return np.asarray(zone.points, np.float64)
    fx = ins.fixtures[zone.frame]
    return np.asarray([fx.to_bench(x, y) for x, y in zone.points], np.float64)


def _at_bench(ins: Instruction, at: tuple[float, float], frame: str) -> tuple[float, float]:
    return at if frame == BENCH_FRAME else ins.fixtures[frame].to_bench(*at)


def min_letter_mm(ins: Instruction, x: float, y: float) -> float:
    """Least letter height (mm) at bench point (x, y) that reads from the operator's eyes.

    The letter's apparent height is its height times the sine of the elevation of the line of sight
    (text lies flat on the bench), and must subtend ``MIN_ARCMIN``.
    """
    ex = ins.bench.width_mm / 2 if EYE_MM[0] is None else EYE_MM[0]
    _, ey, ez = EYE_MM
    horiz = math.hypot(x - ex, y - ey)
    dist = math.hypot(horiz, ez)
    sin_elev = ez / dist
    return dist * math.tan(math.radians(MIN_ARCMIN / 60.0)) / sin_elev


def luminance(bgr: tuple[int, int, int]) -> float:
    """Relative luminance (0..1) of an sRGB colour given as BGR."""

    def lin(c: int) -> float:
        v = c / 255.0
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    b, g, r = bgr
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def projected_contrast(color: str, surface: str) -> float | None:
    """Weber contrast a projected ``color`` adds on the bench (None: a colour the renderer can't draw)."""
    from oss.render.colors import parse_color

    try:
        bgr = parse_color(color)
    except Exception:  # an OssError for a colour name the renderer lacks
        if color not in _EXTRA_COLORS:
            return None
        bgr = _EXTRA_COLORS[color]
    c = PROJECTOR_GAIN * luminance(bgr) / AMBIENT
    return c * (DARK_SURFACE_FACTOR if surface == "dark" else 1.0)


def needs_press(cond: Condition) -> bool:
    """True when nothing but a button press can satisfy ``cond``."""
    if isinstance(cond, Press):
        return True
    if isinstance(cond, AllOf | Sequence):
        return any(needs_press(c) for c in cond.conditions)
    if isinstance(cond, AnyOf):
        return all(needs_press(c) for c in cond.conditions)
    return False


def _overlay_color(o: Overlay) -> str | None:
    return None if isinstance(o, ImageOverlay) else o.color


# ---------------------------------------------------------------------------------------------------
# Nodes: where each step and overlay is in the file


@dataclass(frozen=True)
class _StepNodes:
    node: yaml.Node
    keys: dict[str, tuple[yaml.Node, yaml.Node]]
    show: tuple[yaml.Node, ...]


def _pos(file: str, node: yaml.Node) -> SourcePos:
    return SourcePos(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _step_nodes(root: yaml.Node) -> list[_StepNodes]:
    if not isinstance(root, yaml.MappingNode):
        return []
    steps = next((v for k, _, v in mapping_items(root) if k == "steps"), None)
    if not isinstance(steps, yaml.SequenceNode):
        return []
    out = []
    for item in steps.value:
        keys = (
            {k: (kn, vn) for k, kn, vn in mapping_items(item)} if isinstance(item, yaml.MappingNode) else {}
        )
        show = keys.get("show", (None, None))[1]
        out.append(_StepNodes(item, keys, tuple(show.value) if isinstance(show, yaml.SequenceNode) else ()))
    return out


def _allowances(text: str) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for i, line in enumerate(text.splitlines(), start=1):
        m = _ALLOW_RE.search(line)
        if m:
            out[i] = {c.strip() for c in m.group(1).split(",") if c.strip()}
    return out


# ---------------------------------------------------------------------------------------------------
# The checks


class _Linter:
    def __init__(self, ins: Instruction, file: str, nodes: list[_StepNodes], cal: Calibration | None):
        self.ins, self.file, self.nodes, self.cal = ins, file, nodes, cal
        self.out: list[Finding] = []
        self._reach_seen: set[tuple[int, int]] = set()

    def add(self, node: yaml.Node, check: str, message: str) -> None:
        self.out.append(Finding(_pos(self.file, node), check, message))

    def run(self) -> list[Finding]:
        for step, sn in zip(self.ins.steps, self.nodes, strict=True):
            self.step(step, sn)
        self.bins()
        if self.cal is not None:
            self.reach()
        return self.out

    def step(self, s: Step, sn: _StepNodes) -> None:
        text_node = sn.keys.get("text", (sn.node, sn.node))[1]
        for lang, t in s.text.values:
            n = len(t.split())
            if n > MAX_WORDS:
                self.add(
                    text_node,
                    "words",
                    f"step '{s.id}' text has {n} words in {lang}; keep it to {MAX_WORDS} or fewer: "
                    "split the step or show the detail as a pictogram",
                )
        if not s.pictogram and not s.image and not any(isinstance(o, ImageOverlay) for o in s.show):
            self.add(
                sn.node,
                "visual",
                f"step '{s.id}' has no picture; add 'pictogram: media/<name>.png' (a drawing of the action) "
                "so the step reads without words",
            )
        if s.expected_s is None:
            self.add(
                sn.node,
                "expected-duration",
                f"step '{s.id}' has no expected_s; add 'expected_s: <seconds>' (the time it normally takes; "
                "'oss teach' measures it) so reports can flag slow steps",
            )
        if needs_press(s.done):
            done_node = sn.keys.get("done", (sn.node, sn.node))[0]
            self.add(
                done_node,
                "manual-press",
                f"step '{s.id}' can only be completed by pressing a button; make the camera see it "
                "(hand_in on a zone, present/absent of a part) or, for a deliberate check, write "
                "'# oss-lint: allow manual-press' in the step",
            )
        surface = self.ins.bench.surface
        for o, node in zip(s.show, sn.show, strict=False):
            color = _overlay_color(o)
            if color is not None:
                c = projected_contrast(color, surface)
                if c is None:
                    self.add(
                        node, "contrast", f"colour '{color}' can't be drawn; use a named colour or #rrggbb"
                    )
                elif c < MIN_CONTRAST:
                    self.add(
                        node,
                        "contrast",
                        f"'{color}' adds only {c:.0%} light on a {surface} bench (needs {MIN_CONTRAST:.0%}); "
                        "use a brighter colour such as white, yellow or green",
                    )
            if isinstance(o, TextOverlay):
                x, y = _at_bench(self.ins, o.at, o.frame)
                need = min_letter_mm(self.ins, x, y)
                if o.size_mm < need:
                    self.add(
                        node,
                        "text-size",
                        f"text letters {o.size_mm:g} mm high at ({x:.0f}, {y:.0f}) mm are too small to read "
                        f"from the operator's position; make size_mm at least {math.ceil(need)}",
                    )

    def bins(self) -> None:
        bins = [z for z in self.ins.zones.values() if z.is_bin]
        polys = {z.id: zone_bench_polygon(self.ins, z).astype(np.float32) for z in bins}
        for i, a in enumerate(bins):
            for b in bins[i + 1 :]:
                pa, pb = cv2.convexHull(polys[a.id]), cv2.convexHull(polys[b.id])
                area, _ = cv2.intersectConvexConvex(pa, pb)
                if area > 1.0:
                    pos = b.pos or SourcePos(self.file, 1, 1)
                    self.out.append(
                        Finding(
                            pos,
                            "bin-overlap",
                            f"bin '{b.id}' overlaps bin '{a.id}' by {area:.0f} mm²; move them apart so a reach "
                            "into one is not counted as a pick from the other",
                        )
                    )

    def _targets(self, o: Overlay) -> list[np.ndarray]:
        ins = self.ins
        if isinstance(o, Highlight | Outline | NumberOverlay):
            return [zone_bench_polygon(ins, ins.zones[o.zone])]
        if isinstance(o, Arrow):
            return [
                zone_bench_polygon(ins, ins.zones[o.from_zone]),
                zone_bench_polygon(ins, ins.zones[o.to_zone]),
            ]
        x, y = _at_bench(ins, o.at, o.frame)
        h = o.size_mm / 2
        return [np.array([[x - h, y - h], [x + h, y - h], [x + h, y + h], [x - h, y + h]], np.float64)]

    def reach(self) -> None:
        assert self.cal is not None
        w, h = self.cal.projector_size
        by_id = {s.id: (k, s) for k, s in enumerate(self.ins.steps)}
        variants: list[str | None] = list(self.ins.variants) or [None]
        for v in variants:
            for rs in self.ins.run_steps(v):
                k, _ = by_id[rs.step.id]
                nodes = self.nodes[k].show
                for j, o in enumerate(rs.show):
                    if (k, j) in self._reach_seen or j >= len(nodes):
                        continue
                    for poly in self._targets(o):
                        ppx = self.cal.bench_to_projector(poly)
                        if (
                            (ppx[:, 0] < 0).any()
                            or (ppx[:, 0] > w).any()
                            or (ppx[:, 1] < 0).any()
                            or (ppx[:, 1] > h).any()
                        ):
                            self._reach_seen.add((k, j))
                            self.add(
                                nodes[j],
                                "projector-reach",
                                f"step '{rs.uid}': this overlay falls outside the projector image ({w}x{h} px) "
                                "on this station; move the zone or text inward, or move/zoom the projector and "
                                "recalibrate",
                            )
                            break


def lint_file(path: str | Path, calibration: Calibration | str | Path | None = None) -> LintReport:
    """Lint the instruction file ``path``; with a ``calibration`` also check the projector's reach."""
    path = Path(path)
    parsed = parse_instruction(path)
    errors = tuple(p for p in parsed.problems if p.severity == "error")
    if parsed.instruction is None or errors:
        return LintReport(str(path), (), errors or tuple(parsed.problems))
    cal = Calibration.load(calibration) if isinstance(calibration, str | Path) else calibration
    ins = parsed.instruction
    root = compose_file(path, "instruction file")
    nodes = _step_nodes(root)
    findings = _Linter(ins, str(path), nodes, cal).run()
    for p in parsed.problems:  # the loader's warnings: translations
        if "translation" in p.message or "not in languages" in p.message:
            findings.append(
                Finding(p.pos, "translation", f"{p.message}; write the text in every language of 'languages'")
            )
    allow = _allowances(path.read_text(encoding="utf-8"))
    starts = [sn.node.start_mark.line + 1 for sn in nodes]
    ends = [b - 1 for b in starts[1:]] + [nodes[-1].node.end_mark.line + 1 if nodes else 0]
    spans = list(zip(starts, ends, strict=True))
    kept: list[Finding] = []
    for f in findings:
        allowed = set(allow.get(f.pos.line, ()))
        for a, b in spans:
            if a <= f.pos.line <= b:
                for line in range(a, b + 1):
                    allowed |= allow.get(line, set())
        if f.check not in allowed:
            kept.append(f)
    kept.sort(key=lambda f: (f.pos.line, f.pos.col, f.check))
    return LintReport(str(path), tuple(kept), (), len(findings) - len(kept))
