"""Operator profiles: how the station suits each person, kept in ``profiles.yaml`` beside the log.

.. code-block:: yaml

    format: 1
    operators:
      anna:
        name: Anna de Vries
        photo: photos/anna.jpg       # relative to this file; shown on the sign-in screen
        badge: "0004521987"          # what the badge reader types
        language: nl
        text_size: large             # normal | large | largest
        sound: true
        volume: 0.8                  # 0..1
        speech: true                 # read the step text aloud (needs espeak-ng)
        palette: colorblind          # standard | colorblind
        hand: left                   # the working hand: right | left
        level: auto                  # full | reduced | minimal | auto

Parsed once into :class:`ProfileBook`; every problem is reported as FILE:LINE:COL. A supervisor edits it
with ``oss operators`` (the file is rewritten atomically), or by hand.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import yaml

from oss.instructions.reader import ID_RE, LANG_RE, Reader
from oss.instructions.semantics import image_problem
from oss.instructions.yamlnodes import FileProblems, Problems, compose_file, path_state
from oss.operator.adaptive import AUTO, LEVEL_SETTINGS
from oss.records import OssError

PROFILES_FILE = "profiles.yaml"
TEXT_SIZES = {"normal": 1.0, "large": 1.25, "largest": 1.5}
PALETTES = ("standard", "colorblind")
HANDS = ("right", "left")
KEYS = (
    "name",
    "photo",
    "badge",
    "language",
    "text_size",
    "sound",
    "volume",
    "speech",
    "palette",
    "hand",
    "level",
    "active",
)


@dataclass(frozen=True)
class OperatorProfile:
    """One person's settings. ``language`` None: the instruction's default language."""

    id: str
    name: str = ""
    photo: str | None = None
    badge: str | None = None
    language: str | None = None
    text_size: str = "normal"
    sound: bool = True
    volume: float = 0.7
    speech: bool = False
    palette: str = "standard"
    hand: str = "right"
    level: str = AUTO
    active: bool = True

    def __post_init__(self) -> None:
        problems = check_profile(self)
        if problems:
            raise OssError(f"operator '{self.id}': " + "; ".join(problems))

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @property
    def text_scale(self) -> float:
        return TEXT_SIZES[self.text_size]


def check_profile(p: OperatorProfile) -> list[str]:
    """What is wrong with a profile, in words (empty: nothing)."""
    out = []
    if not ID_RE.match(p.id):
        out.append(f"id '{p.id}' must be letters, digits, '_' and '-', starting with a letter")
    if p.language is not None and not LANG_RE.match(p.language):
        out.append(f"language '{p.language}' is not a language code (like en, nl, de)")
    if p.text_size not in TEXT_SIZES:
        out.append(f"text_size must be one of {', '.join(TEXT_SIZES)}, not '{p.text_size}'")
    if not 0.0 <= p.volume <= 1.0:
        out.append(f"volume must be between 0 and 1, not {p.volume}")
    if p.palette not in PALETTES:
        out.append(f"palette must be one of {', '.join(PALETTES)}, not '{p.palette}'")
    if p.hand not in HANDS:
        out.append(f"hand must be one of {', '.join(HANDS)}, not '{p.hand}'")
    if p.level not in LEVEL_SETTINGS:
        out.append(f"level must be one of {', '.join(LEVEL_SETTINGS)}, not '{p.level}'")
    if p.badge is not None and not p.badge.strip():
        out.append("badge must not be empty")
    return out


def anonymous_profile(operator_id: str = "") -> OperatorProfile:
    """The settings for someone without a profile: the defaults, full guidance."""
    return OperatorProfile(id=operator_id or "_anonymous", name=operator_id, level="full")


@dataclass(frozen=True)
class ProfileBook:
    """All operators of a station, in file order. ``source`` is the file they came from."""

    profiles: tuple[OperatorProfile, ...] = ()
    source: str = ""
    photos_root: Path = field(default_factory=Path.cwd)

    def __iter__(self) -> Iterator[OperatorProfile]:
        return iter(self.profiles)

    def __len__(self) -> int:
        return len(self.profiles)

    @property
    def active(self) -> tuple[OperatorProfile, ...]:
        return tuple(p for p in self.profiles if p.active)

    def get(self, operator_id: str) -> OperatorProfile | None:
        return next((p for p in self.profiles if p.id == operator_id), None)

    def by_badge(self, code: str) -> OperatorProfile | None:
        code = code.strip()
        return next((p for p in self.profiles if p.badge is not None and p.badge == code and p.active), None)

    def photo_path(self, p: OperatorProfile) -> Path | None:
        return (self.photos_root / p.photo) if p.photo else None

    def with_profile(self, profile: OperatorProfile) -> ProfileBook:
        """A copy with ``profile`` added, or replacing the one with its id (same place in the list)."""
        if profile.badge is not None:
            other = next((p for p in self.profiles if p.badge == profile.badge and p.id != profile.id), None)
            if other is not None:
                raise OssError(f"badge {profile.badge} already belongs to '{other.id}'; give each their own")
        if self.get(profile.id) is None:
            return replace(self, profiles=(*self.profiles, profile))
        return replace(self, profiles=tuple(profile if p.id == profile.id else p for p in self.profiles))

    # --- files ----------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> ProfileBook:
        """Read a profiles file; a missing file is an empty book. Raises FileProblems."""
        path = Path(path)
        if path_state(path) == "missing":
            return cls((), str(path), path.parent)
        root = compose_file(path, "profiles file")
        p = Problems(str(path))
        r = Reader(p)
        top = r.mapping(root, "the profiles file", ("format", "operators"), ("format",))
        profiles: list[OperatorProfile] = []
        if top is not None:
            if "format" in top and r.integer(top["format"].value, "format") not in (1, None):
                p.error(top["format"].value, "format must be 1")
            if "operators" in top and not (
                isinstance(top["operators"].value, yaml.ScalarNode)
                and top["operators"].value.value in ("", "~")
            ):
                for oid, e in r.id_mapping(top["operators"].value, "operators"):
                    prof = _read_profile(r, oid, e.value)
                    if prof is not None:
                        profiles.append(prof)
        badges: dict[str, str] = {}
        for prof in profiles:
            if prof.badge is not None and prof.badge in badges:
                p.error(root, f"badge {prof.badge} is given to '{badges[prof.badge]}' and '{prof.id}'")
            elif prof.badge is not None:
                badges[prof.badge] = prof.id
        if p.errors:
            raise FileProblems(p.items)
        return cls(tuple(profiles), str(path), path.parent)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the book (atomically: a crash leaves the old file or the new one, never half)."""
        out = Path(path or self.source)
        if not str(out):
            raise OssError("no file to save the operator profiles to; give a path")
        defaults = asdict(OperatorProfile(id="x"))
        ops: dict[str, dict[str, object]] = {}
        for prof in self.profiles:
            d = {k: v for k, v in asdict(prof).items() if k != "id" and v != defaults[k]}
            if "name" not in d:
                d["name"] = prof.name
            ops[prof.id] = d
        text = "# OSS operator profiles; edit with 'oss operators' (see docs/operator.md)\n" + yaml.safe_dump(
            {"format": 1, "operators": ops}, sort_keys=False, allow_unicode=True
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".profiles-", dir=out.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return out


def _read_profile(r: Reader, oid: str, node: yaml.Node) -> OperatorProfile | None:
    f = r.mapping(node, f"operator '{oid}'", KEYS)
    if f is None:
        return None
    kw: dict[str, object] = {}
    n_before = len(r.p.errors)
    for key in ("name", "photo", "badge", "language"):
        if key in f:
            node = f[key].value
            s = node.value if isinstance(node, yaml.ScalarNode) and key == "badge" else r.string(node, key)
            if s is not None:
                kw[key] = str(s)
    if "photo" in kw:  # a missing photo shows initials; one the sign-in screen cannot show is refused
        photo = Path(r.p.file).parent / str(kw["photo"])
        problem = image_problem(photo, str(kw["photo"])) if path_state(photo) != "missing" else None
        if problem:
            r.p.error(f["photo"].value, f"photo {problem}")
    if "language" in kw and not LANG_RE.match(str(kw["language"])):
        r.p.error(f["language"].value, f"'{kw['language']}' is not a language code (like en, nl, de)")
    for key, choices in (
        ("text_size", tuple(TEXT_SIZES)),
        ("palette", PALETTES),
        ("hand", HANDS),
        ("level", LEVEL_SETTINGS),
    ):
        if key in f:
            s = r.string(f[key].value, key)
            if s is not None and s not in choices:
                r.p.error(f[key].value, f"{key} must be one of {', '.join(choices)}, not '{s}'")
            elif s is not None:
                kw[key] = s
    for key in ("sound", "speech", "active"):
        if key in f:
            b = r.boolean(f[key].value, key)
            if b is not None:
                kw[key] = b
    if "volume" in f:
        v = r.number(f["volume"].value, "volume", minimum=0, maximum=1)
        if v is not None:
            kw["volume"] = v
    if len(r.p.errors) > n_before:
        return None
    return OperatorProfile(id=oid, **kw)  # type: ignore[arg-type]


def default_profiles_path(log_path: str | Path) -> Path:
    """Where a station keeps its profiles: ``profiles.yaml`` in the folder of its event log."""
    return Path(log_path).resolve().parent / PROFILES_FILE
