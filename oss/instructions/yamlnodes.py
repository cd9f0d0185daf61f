"""Safe YAML reading that keeps line and column numbers, with limits on size, depth, values and aliases.

Files are composed with PyYAML's safe composer (never constructed into arbitrary objects) and the
node tree is walked by the parsers, which report problems at the exact key or value.

Before anything is composed, the parser's event stream is scanned (iteratively, so it cannot overflow a
stack) for nesting deeper than ``MAX_DEPTH``, more than ``MAX_NODES`` values and YAML tags other than the
plain ones: libyaml's composer recurses in C, and 50000 ``[`` under the size cap used to crash it.
"""

from __future__ import annotations

import difflib
import math
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.reader import ReaderError

from oss.instructions.model import SourcePos
from oss.records import OssError

MAX_FILE_BYTES = 2_000_000
MAX_DEPTH = 40
MAX_NODES = 200_000
MAX_SHOWN = 40  # characters of a value quoted in a message; longer ones are shortened
MAX_WORD = 300  # any word of a message longer than this is shortened (a path stays whole)
MAX_MESSAGE = 900  # characters of one message at most
PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")
) | {"!"}

try:  # the C composer is much faster where PyYAML was built with libyaml
    _Loader: type = yaml.CSafeLoader  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file. ``severity`` is ``error`` or ``warning``."""

    pos: SourcePos
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.pos}: {tag}{self.message}"


class FileProblems(OssError):
    """A file has problems; ``problems`` lists every one, in file order."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.pos.file, p.pos.line, p.pos.col))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Problems:
    """Collects problems while a file is parsed, so that every problem is reported at once."""

    file: str
    items: list[Problem] = field(default_factory=list)

    def pos(self, node: yaml.Node | None) -> SourcePos:
        if node is None:
            return SourcePos(self.file, 1, 1)
        return SourcePos(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def error(self, node: yaml.Node | None, message: str) -> None:
        self.items.append(Problem(self.pos(node), _capped(message)))

    def warning(self, node: yaml.Node | None, message: str) -> None:
        self.items.append(Problem(self.pos(node), _capped(message), "warning"))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]


_LONG_WORD = re.compile(r"\S{" + str(MAX_WORD + 1) + ",}")


def _capped(message: str) -> str:
    """A message with any very long word (a value from the file quoted in full) shortened."""
    message = _LONG_WORD.sub(lambda m: shorten(m.group(), MAX_WORD), message)
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def suggest(name: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the nearest valid name, or ''."""
    near = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{near[0]}'?)" if near else ""


def compose_file(path: Path, what: str = "file") -> yaml.Node:
    """Read and compose a YAML file into a node tree, or raise FileProblems with the position."""
    file = str(path)

    def problem(message: str) -> FileProblems:
        return FileProblems([Problem(SourcePos(file, 1, 1), message)])

    try:
        if path.is_dir():
            raise problem(f"this is a folder, not a file; give the {what} itself")
        size = path.stat().st_size
    except FileNotFoundError:
        raise problem(f"{what} not found; check the path") from None
    except OSError as e:
        raise problem(f"cannot read the {what}: {e.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise problem(
            f"the {what} is {size // 1000} kB, more than the {MAX_FILE_BYTES // 1000} kB an OSS file may be; "
            "split it or remove what is not needed"
        )
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)  # a device or a growing file is read no further than the cap
    except OSError as e:
        raise problem(f"cannot read the {what}: {e.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise problem(f"the {what} is more than the {MAX_FILE_BYTES // 1000} kB an OSS file may be")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise FileProblems(
            [
                Problem(
                    SourcePos(file, line, col), f"the {what} is not UTF-8 text ({e.reason}); save it as UTF-8"
                )
            ]
        ) from None
    return compose_text(text, file, what)


def path_state(path: Path) -> str:
    """'file', 'folder' or 'missing', or why the path cannot be looked at (a name too long, ...).

    ``Path.exists`` and friends raise for some of those (ENAMETOOLONG, EACCES): a name written in a file
    must not turn into a traceback.
    """
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except (OSError, ValueError) as e:
        return str(getattr(e, "strerror", None) or e)
    return "folder" if stat.S_ISDIR(st.st_mode) else "file"


def _text_pos(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of byte ``offset`` of ``text`` in UTF-8 (libyaml reports byte offsets)."""
    data = text.encode("utf-8", "replace")
    offset = max(0, min(offset, len(data)))
    start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, len(data[start:offset].decode("utf-8", "replace")) + 1


def compose_text(text: str, file: str, what: str = "file") -> yaml.Node:
    def at(line: int, col: int, message: str) -> FileProblems:
        return FileProblems([Problem(SourcePos(file, line, col), message)])

    try:
        _scan_events(text, file, what)
        node = yaml.compose(text, Loader=_Loader)
    except ReaderError as e:
        line, col = _text_pos(text, e.position)
        char = e.character if isinstance(e.character, str) else chr(e.character)
        name = "a NUL byte" if char == "\0" else f"the control character #x{ord(char):04x}"
        raise at(
            line, col, f"{name} here: OSS files are plain text; remove it (was the file saved as text?)"
        ) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        if e.problem and "end of stream" in e.problem and e.context_mark is not None:
            mark = e.context_mark  # the quote or bracket left open, not the end of the file
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        msg = f"YAML syntax error: {e.problem or e.context}"
        if e.context and e.problem:
            msg += f" ({e.context})"
        msg += "; check indentation, colons and quotes on this line or the one before"
        raise at(line, col, msg) from None
    except yaml.YAMLError as e:
        raise at(1, 1, f"YAML error: {shorten(str(e), 200)}") from None
    except RecursionError:
        raise at(1, 1, f"the {what} is nested too deeply; OSS files need only a few levels") from None
    if node is None:
        raise at(1, 1, f"the {what} is empty")
    _check_limits(node, file, what)
    return node


_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
_VALUE = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)


def _scan_events(text: str, file: str, what: str) -> None:
    """Depth, value count and tags from the event stream, before the (recursive) composer runs."""
    depth = 0
    count = 0
    for event in yaml.parse(text, Loader=_Loader):
        kind = type(event)
        if kind in _CLOSE:
            depth -= 1
            continue
        if kind not in _VALUE:
            continue
        count += 1
        m = event.start_mark
        if depth + 1 > MAX_DEPTH:
            raise FileProblems(
                [
                    Problem(
                        SourcePos(file, m.line + 1, m.column + 1),
                        f"nested more than {MAX_DEPTH} levels deep; OSS files need only a few levels",
                    )
                ]
            )
        if count > MAX_NODES:
            raise FileProblems(
                [
                    Problem(
                        SourcePos(file, m.line + 1, m.column + 1),
                        f"the {what} has more than {MAX_NODES} values; shorten it",
                    )
                ]
            )
        if kind is yaml.ScalarEvent and "\0" in event.value:  # type: ignore[attr-defined]
            raise FileProblems(
                [
                    Problem(
                        SourcePos(file, m.line + 1, m.column + 1),
                        "a NUL character (\\0) in this value; no OSS value, name or path holds one",
                    )
                ]
            )
        tag = event.tag  # type: ignore[attr-defined]
        if tag is not None and tag not in PLAIN_TAGS:
            label = (
                "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag
            )
            raise FileProblems(
                [
                    Problem(
                        SourcePos(file, m.line + 1, m.column + 1),
                        f"YAML tags like '{shorten(label)}' are not allowed in OSS files; write the plain value",
                    )
                ]
            )
        if kind in _OPEN:
            depth += 1


def _check_limits(root: yaml.Node, file: str, what: str) -> None:
    count = 0
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise FileProblems(
                [
                    Problem(
                        SourcePos(file, 1, 1),
                        f"the {what} expands to more than {MAX_NODES} values (too many aliases?); "
                        "write the values out or shorten the file",
                    )
                ]
            )
        if depth > MAX_DEPTH:
            m = node.start_mark
            raise FileProblems(
                [
                    Problem(
                        SourcePos(file, m.line + 1, m.column + 1),
                        f"nested more than {MAX_DEPTH} levels deep; OSS files need only a few levels",
                    )
                ]
            )
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.append((k, depth + 1))
                stack.append((v, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, depth + 1) for v in node.value)


# ---------------------------------------------------------------------------------------------------
# Typed access to nodes

_BOOL = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}


_SPECIAL_FLOATS = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
MAX_INT_DIGITS = 30  # longer whole numbers read as infinite (too large for anything OSS counts)


def scalar_value(node: yaml.ScalarNode) -> object:
    """The Python value of a scalar as YAML 1.1 safe-loading would give it (str, int, float, bool, None).

    Whole numbers of more than ``MAX_INT_DIGITS`` digits read as ±inf: no OSS value is that large, and
    converting them (to float, or in Python's int parser past 4300 digits) would fail.
    """
    tag = node.tag
    v = node.value
    if tag.endswith(":str") or node.style in ("'", '"', "|", ">"):
        return v
    if tag.endswith(":bool"):
        return _BOOL.get(v.lower(), v)
    if tag.endswith(":int"):
        digits = v.replace("_", "").lstrip("+-")
        if digits.isdigit() and len(digits) > MAX_INT_DIGITS:
            return -math.inf if v.startswith("-") else math.inf
        try:
            return int(v.replace("_", ""), 0)
        except ValueError:
            return v
    if tag.endswith(":float"):
        special = _SPECIAL_FLOATS.get(v.lower())
        if special is not None:
            return special
        try:
            return float(v.replace("_", ""))
        except ValueError:
            return v
    if tag.endswith(":null"):
        return None
    return v


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` for a message: a long value is cut, and a long number says how many digits it has."""
    if len(text) <= limit:
        return text
    digits = text.lstrip("+-")
    if digits.isdigit():
        return f"{text[: limit // 2]}… ({len(digits)} digits)"
    return f"{text[: limit - 1]}… ({len(text)} characters)"


def shown(node: yaml.Node) -> str:
    """A scalar's text as written, shortened for a message."""
    return shorten(str(node.value)) if isinstance(node, yaml.ScalarNode) else type_name(node)


def type_name(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    v = scalar_value(node)  # type: ignore[arg-type]
    if v is None:
        return "nothing (null)"
    if isinstance(v, bool):
        return f"'{node.value}' (true/false)"
    if isinstance(v, int | float):
        return f"the number {shorten(node.value)}"
    return f"the text '{shorten(node.value)}'"


def mapping_items(node: yaml.MappingNode) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """(key, key node, value node) for each entry; keys are strings."""
    return [(key_text(k), k, v) for k, v in node.value]


def key_text(node: yaml.Node) -> str:
    """A mapping key as text; a list or mapping used as a key (``? [a, b]: ...``) reads as what it is."""
    return str(node.value) if isinstance(node, yaml.ScalarNode) else f"<{type_name(node)}>"
