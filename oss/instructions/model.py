"""The instruction model: one product's assembly, parsed once into frozen dataclasses.

Everything an author writes is in bench millimetres (x to the operator's right, y away from the
operator, origin at the bench's front-left corner) or in a fixture frame (mm relative to a tracked
ArUco marker on the jig). See ``docs/instruction-format.md`` for the YAML that produces these records.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

FORMAT_VERSION = 1
BENCH_FRAME = "bench"


@dataclass(frozen=True)
class SourcePos:
    """Where a value came from in a YAML file (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Text:
    """A short text in several languages, keyed by language code (``en``, ``nl``, ...)."""

    values: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, mapping: Mapping[str, str] | None = None, **kw: str) -> Text:
        merged = dict(mapping or {}, **kw)
        return cls(tuple(sorted(merged.items())))

    def get(self, language: str, fallback: str = "en") -> str:
        """The text in ``language``, else in ``fallback``, else any, else an empty string."""
        d = dict(self.values)
        if language in d:
            return d[language]
        if fallback in d:
            return d[fallback]
        return self.values[0][1] if self.values else ""

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(k for k, _ in self.values)

    def __bool__(self) -> bool:
        return bool(self.values)


# ---------------------------------------------------------------------------------------------------
# Bench, fixtures, parts and zones


@dataclass(frozen=True)
class Bench:
    width_mm: float
    depth_mm: float
    surface: str = "light"  # "light" or "dark": what the bench top looks like, for contrast checks


@dataclass(frozen=True)
class Fixture:
    """A jig or product carrier tracked by one ArUco marker.

    ``x_mm``/``y_mm``/``angle_deg`` give the marker centre and rotation in bench mm where the fixture
    normally stands; at run time perception reports where it really is.
    """

    id: str
    marker_id: int
    marker_size_mm: float
    dictionary: str = "DICT_4X4_50"
    x_mm: float = 0.0
    y_mm: float = 0.0
    angle_deg: float = 0.0
    height_mm: float = 0.0

    def to_bench(
        self, x: float, y: float, pose: tuple[float, float, float] | None = None
    ) -> tuple[float, float]:
        """Map a point in this fixture's frame to bench mm, at ``pose`` (x, y, angle) or the nominal one."""
        px, py, ang = pose if pose is not None else (self.x_mm, self.y_mm, self.angle_deg)
        c, s = math.cos(math.radians(ang)), math.sin(math.radians(ang))
        return (px + c * x - s * y, py + s * x + c * y)


@dataclass(frozen=True)
class Variant:
    id: str
    name: Text


@dataclass(frozen=True)
class Part:
    id: str
    name: Text
    image: str | None = None
    bin: str | None = None
    color: str | None = None  # how the part looks (hex), used by the virtual bench and lint
    size_mm: tuple[float, float] | None = None  # footprint of one part, for the virtual bench
    variants: tuple[str, ...] = ()  # empty: every variant


@dataclass(frozen=True)
class Zone:
    """A region of the bench: a bin, a place on the jig, a button.

    ``points`` is a closed polygon in ``frame`` (``"bench"`` or a fixture id), in mm, counter-clockwise
    or clockwise; a rectangle is stored as its four corners.
    """

    id: str
    points: tuple[tuple[float, float], ...]
    frame: str = BENCH_FRAME
    is_bin: bool = False
    part: str | None = None  # a bin: the part it holds
    label: Text = field(default_factory=Text)
    pos: SourcePos | None = field(default=None, compare=False)

    @property
    def center(self) -> tuple[float, float]:
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return (sum(xs) / len(xs), sum(ys) / len(ys))

    def bounds(self) -> tuple[float, float, float, float]:
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return (min(xs), min(ys), max(xs), max(ys))


# ---------------------------------------------------------------------------------------------------
# What a step shows


@dataclass(frozen=True)
class Highlight:
    zone: str
    color: str = "green"
    blink: bool = False
    level: str | None = None  # shown at this guidance level and those with more; None: by kind


@dataclass(frozen=True)
class Outline:
    zone: str
    color: str = "white"
    blink: bool = False
    level: str | None = None  # shown at this guidance level and those with more; None: by kind


@dataclass(frozen=True)
class Arrow:
    from_zone: str
    to_zone: str
    color: str = "yellow"
    blink: bool = False
    level: str | None = None  # shown at this guidance level and those with more; None: by kind


@dataclass(frozen=True)
class TextOverlay:
    text: Text
    at: tuple[float, float]
    frame: str = BENCH_FRAME
    size_mm: float = 25.0
    color: str = "white"
    blink: bool = False
    level: str | None = None  # shown at this guidance level and those with more; None: by kind


@dataclass(frozen=True)
class ImageOverlay:
    image: str
    at: tuple[float, float]
    frame: str = BENCH_FRAME
    size_mm: float = 80.0
    blink: bool = False
    level: str | None = None  # shown at this guidance level and those with more; None: by kind


@dataclass(frozen=True)
class NumberOverlay:
    """A large number drawn in a zone (screw 3 of 4, say). ``value`` 0 means the repetition number."""

    zone: str
    value: int = 0
    color: str = "white"
    blink: bool = False
    level: str | None = None  # shown at this guidance level and those with more; None: by kind


Overlay = Highlight | Outline | Arrow | TextOverlay | ImageOverlay | NumberOverlay

GUIDANCE_LEVELS = ("full", "reduced", "minimal")
"""Guidance levels, most guidance first (see ``docs/instruction-format.md``)."""
PANEL_ITEMS = ("text", "pictogram", "animation")
"""What a step's ``guidance:`` lists per level, besides the overlays (which carry their own ``level``)."""


@dataclass(frozen=True)
class Guidance:
    """What the operator panel shows at each guidance level; ``None``: the default for that level.

    Defaults: full shows text, pictogram and animation; reduced and minimal show none of them.
    """

    full: tuple[str, ...] | None = None
    reduced: tuple[str, ...] | None = None
    minimal: tuple[str, ...] | None = None

    def items(self, level: str) -> tuple[str, ...]:
        given = getattr(self, level) if level in GUIDANCE_LEVELS else None
        if given is not None:
            return given
        return PANEL_ITEMS if level == "full" else ()


# ---------------------------------------------------------------------------------------------------
# When a step is done


@dataclass(frozen=True)
class Pick:
    """A hand reached into ``bin`` and left it, ``count`` times."""

    bin: str
    count: int = 1


@dataclass(frozen=True)
class PartPresent:
    """``zone`` looks occupied (or like its taught 'done' reference) while no hand covers it."""

    zone: str
    part: str | None = None


@dataclass(frozen=True)
class PartAbsent:
    """``zone`` looks empty again (the finished product was taken off the jig) while no hand covers it."""

    zone: str


@dataclass(frozen=True)
class HandIn:
    """A hand stays in ``zone`` for ``dwell_s`` seconds."""

    zone: str
    dwell_s: float = 0.5


@dataclass(frozen=True)
class Press:
    """A button: ``next`` on the pedal, button box, keyboard or a projected touch button."""

    button: str = "next"


@dataclass(frozen=True)
class Timer:
    seconds: float


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Sequence:
    """The conditions in order: each only counts once the one before is met."""

    conditions: tuple[Condition, ...]


Condition = Pick | PartPresent | PartAbsent | HandIn | Press | Timer | AllOf | AnyOf | Sequence


def iter_conditions(cond: Condition) -> Iterator[Condition]:
    """Every condition in a tree, depth first, the combinators included."""
    yield cond
    if isinstance(cond, AllOf | AnyOf | Sequence):
        for c in cond.conditions:
            yield from iter_conditions(c)


# ---------------------------------------------------------------------------------------------------
# Steps


@dataclass(frozen=True)
class ErrorRule:
    """What counts as an error in a step, and the hint the operator sees then.

    ``kind`` is ``wrong_pick``: a pick from any bin not in ``allowed_bins`` (default: the bins the
    step's done-condition picks from).
    """

    kind: str
    hint: Text
    allowed_bins: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    id: str
    text: Text
    done: Condition
    show: tuple[Overlay, ...] = ()
    pictogram: str | None = None
    image: str | None = None
    expected_s: float | None = None
    errors: tuple[ErrorRule, ...] = ()
    variants: tuple[str, ...] = ()  # empty: every variant
    repeat: int = 1
    each: tuple[
        str, ...
    ] = ()  # zones the step repeats over; "$each" in a zone reference means the current one
    pos: SourcePos | None = field(default=None, compare=False)
    guidance: Guidance = field(default_factory=Guidance)


@dataclass(frozen=True)
class RunStep:
    """One step as the station runs it: a repetition expanded, ``$each`` resolved.

    ``uid`` is unique within a variant (``screw#2``); ``index``/``total`` count the run steps of one unit.
    """

    uid: str
    step: Step
    index: int
    total: int
    repetition: int = 1  # 1-based
    repetitions: int = 1
    done: Condition = field(default_factory=lambda: Press())
    show: tuple[Overlay, ...] = ()

    def picked_bins(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.bin for c in iter_conditions(self.done) if isinstance(c, Pick)))


@dataclass(frozen=True)
class Instruction:
    product_id: str
    product_name: Text
    version: str
    languages: tuple[str, ...]
    default_language: str
    bench: Bench
    fixtures: Mapping[str, Fixture]
    parts: Mapping[str, Part]
    zones: Mapping[str, Zone]
    steps: tuple[Step, ...]
    variants: Mapping[str, Variant] = field(default_factory=dict)
    source: str = ""
    content_hash: str = ""  # sha256 of the file bytes, first 16 hex digits

    @property
    def bins(self) -> dict[str, Zone]:
        return {k: z for k, z in self.zones.items() if z.is_bin}

    def default_variant(self) -> str | None:
        return next(iter(self.variants), None)

    def run_steps(self, variant: str | None = None) -> tuple[RunStep, ...]:
        """The steps of one unit of ``variant`` in order, repetitions expanded."""
        if variant is None:
            variant = self.default_variant()
        if variant is not None and self.variants and variant not in self.variants:
            raise KeyError(f"unknown variant {variant!r}; this instruction has: {', '.join(self.variants)}")
        chosen = [s for s in self.steps if not s.variants or variant in s.variants]
        expanded: list[tuple[Step, int, int, Condition, tuple[Overlay, ...]]] = []
        for s in chosen:
            if s.each:
                n = len(s.each)
                for i, z in enumerate(s.each, start=1):
                    expanded.append(
                        (s, i, n, _subst_cond(s.done, z), tuple(_subst_overlay(o, z) for o in s.show))
                    )
                    if any(EACH in r.allowed_bins for r in s.errors):
                        rules = tuple(
                            ErrorRule(r.kind, r.hint, tuple(_z(b, z) for b in r.allowed_bins))
                            for r in s.errors
                        )
                        expanded[-1] = (replace(s, errors=rules), *expanded[-1][1:])
            else:
                for i in range(1, s.repeat + 1):
                    expanded.append((s, i, s.repeat, s.done, s.show))
        total = len(expanded)
        return tuple(
            RunStep(
                uid=s.id if n == 1 else f"{s.id}#{i}",
                step=s,
                index=k,
                total=total,
                repetition=i,
                repetitions=n,
                done=done,
                show=show,
            )
            for k, (s, i, n, done, show) in enumerate(expanded)
        )


EACH = "$each"


def _z(ref: str, each: str) -> str:
    return each if ref == EACH else ref


def _subst_cond(c: Condition, each: str) -> Condition:
    if isinstance(c, Pick):
        return Pick(_z(c.bin, each), c.count)
    if isinstance(c, PartPresent):
        return PartPresent(_z(c.zone, each), c.part)
    if isinstance(c, PartAbsent):
        return PartAbsent(_z(c.zone, each))
    if isinstance(c, HandIn):
        return HandIn(_z(c.zone, each), c.dwell_s)
    if isinstance(c, AllOf):
        return AllOf(tuple(_subst_cond(x, each) for x in c.conditions))
    if isinstance(c, AnyOf):
        return AnyOf(tuple(_subst_cond(x, each) for x in c.conditions))
    if isinstance(c, Sequence):
        return Sequence(tuple(_subst_cond(x, each) for x in c.conditions))
    return c


def _subst_overlay(o: Overlay, each: str) -> Overlay:
    if isinstance(o, Highlight):
        return Highlight(_z(o.zone, each), o.color, o.blink, o.level)
    if isinstance(o, Outline):
        return Outline(_z(o.zone, each), o.color, o.blink, o.level)
    if isinstance(o, Arrow):
        return Arrow(_z(o.from_zone, each), _z(o.to_zone, each), o.color, o.blink, o.level)
    if isinstance(o, NumberOverlay):
        return NumberOverlay(_z(o.zone, each), o.value, o.color, o.blink, o.level)
    return o
