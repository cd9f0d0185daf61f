"""Safe YAML reading that keeps line and column numbers, with limits on size, depth and aliases.

Files are composed with PyYAML's safe composer (never constructed into arbitrary objects) and the
node tree is walked by the parsers, which report problems at the exact key or value.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from oss.instructions.model import SourcePos
from oss.records import OssError

MAX_FILE_BYTES = 2_000_000
MAX_DEPTH = 40
MAX_NODES = 200_000

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
        self.items.append(Problem(self.pos(node), message))

    def warning(self, node: yaml.Node | None, message: str) -> None:
        self.items.append(Problem(self.pos(node), message, "warning"))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]


def suggest(name: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the nearest valid name, or ''."""
    near = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{near[0]}'?)" if near else ""


def compose_file(path: Path, what: str = "file") -> yaml.Node:
    """Read and compose a YAML file into a node tree, or raise FileProblems with the position."""
    file = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise FileProblems([Problem(SourcePos(file, 1, 1), f"{what} not found; check the path")]) from None
    except OSError as e:
        raise FileProblems(
            [Problem(SourcePos(file, 1, 1), f"cannot read the {what}: {e.strerror}")]
        ) from None
    if size > MAX_FILE_BYTES:
        raise FileProblems(
            [
                Problem(
                    SourcePos(file, 1, 1),
                    f"the {what} is {size // 1000} kB, more than the {MAX_FILE_BYTES // 1000} kB an OSS file may be; "
                    "split it or remove what is not needed",
                )
            ]
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise FileProblems(
            [Problem(SourcePos(file, 1, 1), f"the {what} is not UTF-8 text ({e.reason}); save it as UTF-8")]
        ) from None
    return compose_text(text, file, what)


def compose_text(text: str, file: str, what: str = "file") -> yaml.Node:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        msg = f"YAML syntax error: {e.problem or e.context}"
        if e.context and e.problem:
            msg += f" ({e.context})"
        msg += "; check indentation, colons and quotes on this line or the one before"
        raise FileProblems([Problem(SourcePos(file, line, col), msg)]) from None
    except yaml.YAMLError as e:
        raise FileProblems([Problem(SourcePos(file, 1, 1), f"YAML error: {e}")]) from None
    except RecursionError:
        raise FileProblems(
            [
                Problem(
                    SourcePos(file, 1, 1),
                    f"the {what} is nested too deeply; OSS files need only a few levels",
                )
            ]
        ) from None
    if node is None:
        raise FileProblems([Problem(SourcePos(file, 1, 1), f"the {what} is empty")])
    _check_limits(node, file, what)
    return node


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


def scalar_value(node: yaml.ScalarNode) -> object:
    """The Python value of a scalar as YAML 1.1 safe-loading would give it (str, int, float, bool, None)."""
    tag = node.tag
    v = node.value
    if tag.endswith(":str") or node.style in ("'", '"', "|", ">"):
        return v
    if tag.endswith(":bool"):
        return _BOOL.get(v.lower(), v)
    if tag.endswith(":int"):
        try:
            return int(v.replace("_", ""), 0)
        except ValueError:
            return v
    if tag.endswith(":float"):
        try:
            return float(v.replace("_", ""))
        except ValueError:
            return v
    if tag.endswith(":null"):
        return None
    return v


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
        return f"the number {node.value}"
    return f"the text '{node.value}'"


def mapping_items(node: yaml.MappingNode) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """(key, key node, value node) for each entry; keys are strings."""
    return [(str(k.value), k, v) for k, v in node.value]
