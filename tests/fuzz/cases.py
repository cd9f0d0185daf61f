"""The fuzz corpus as test cases: each broken file, what reads it, the command that reads it, and what the
message must say (the file, ``LINE:COL`` where the file has lines, a fragment).

``prepare(tmp)`` lays the corpus out where its readers look: instruction cases beside the sample's
pictures; each taught-looks case as ``led.teach/w40.yaml`` (and ``.npz``) beside a copy of the sample,
with the sample's real layout key put in for ``{LAYOUT_KEY}``.
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.conftest import SAMPLE

CORPUS = Path(__file__).parent / "corpus"
KINDS = ("instruction", "scenario", "station", "profiles", "calibration", "taught")
_EXPECT = re.compile(r"^# expect: (\d+) (.*)$")


@dataclass(frozen=True)
class Case:
    kind: str
    name: str  # the file in the corpus
    line: int  # the line the message names; 0: the file has no lines (an .npz)
    says: str  # a fragment of the message ('' for any)
    path: Path = Path()  # what the reader and the command are given (in the prepared copy)
    named: Path = Path()  # the file the message must name

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.name}"

    def where(self) -> str:
        """A pattern of what the message must hold: the file and its line and column (any line for -1),
        or the file alone (0: a file without lines)."""
        name = re.escape(str(self.named))
        if self.line < 0:
            return rf"{name}:\d+:\d+: "
        return rf"{name}:{self.line}:\d+: " if self.line else rf"{name}: "

    def names_itself(self, message: str) -> bool:
        return re.search(self.where(), message) is not None and self.says in message


def listed(corpus: Path = CORPUS) -> list[Case]:
    """Every case: the generated ones from MANIFEST.tsv, the hand-written ``hand-*.yaml`` from their header."""
    out: list[Case] = []
    for row in (corpus / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines():
        if row.startswith("#") or not row.strip():
            continue
        kind, name, line, says = row.split("\t")
        if says != "support":
            out.append(Case(kind, name, int(line), says))
    for kind in KINDS:
        for f in sorted((corpus / kind).glob("hand-*.yaml")):
            first = f.read_text(encoding="utf-8").splitlines()[0]
            m = _EXPECT.match(first)
            assert m, f"{f}: the first line must be '# expect: LINE fragment'"
            out.append(Case(kind, f.name, int(m.group(1)), m.group(2)))
    return out


def prepare(tmp: Path, corpus: Path = CORPUS) -> list[Case]:
    """Copy the corpus into ``tmp`` as its readers expect it; the cases with their paths there."""
    from oss.instructions import load_instruction
    from oss.perception.taught import TaughtReferences, layout_key

    root = tmp / "corpus"
    shutil.copytree(corpus, root)
    for pic in (SAMPLE.parent / "media").iterdir():
        shutil.copy(pic, root / "instruction" / "media" / pic.name)
    sample = load_instruction(SAMPLE)
    key = layout_key(sample, "w40")
    good = TaughtReferences(key, "w40", 2.0, {"pad_place": np.ones((40, 60), np.float32)})
    out: list[Case] = []
    for c in listed(corpus):
        path = root / c.kind / c.name
        named = path
        if c.kind == "taught":
            case = tmp / "taught" / c.name.removesuffix(".yaml")
            shutil.copytree(SAMPLE.parent / "media", case / "media")
            shutil.copy(SAMPLE, case / "led.yaml")
            teach = case / "led.teach"
            teach.mkdir()
            if path.is_dir():
                shutil.copytree(path, teach / "w40.yaml")
                text = b""
            else:
                text = path.read_bytes().replace(b"{LAYOUT_KEY}", key.encode())
                (teach / "w40.yaml").write_bytes(text)
            m = re.search(rb"^# looks: (\w+)$", text, re.MULTILINE)
            looks = m.group(1).decode() if m else "good"
            if looks == "good":
                good.save(tmp / "good")
                shutil.copy(tmp / "good" / "w40.npz", teach / "w40.npz")
            elif looks != "none":
                shutil.copy(root / "taught" / f"{looks}.npz", teach / "w40.npz")
            path = case / "led.yaml"
            named = teach / ("w40.npz" if c.line == 0 else "w40.yaml")
        out.append(Case(c.kind, c.name, c.line, c.says, path, named))
    return out


def command(case: Case, tmp: Path) -> list[str]:
    """The command a user would run on the file."""
    log = str(tmp / "logs" / f"{case.kind}-{case.name}.sqlite")
    return {
        "instruction": ["validate", str(case.path)],
        "scenario": [
            "run",
            "--camera",
            f"sim:{case.path}",
            "--display",
            "none",
            "--max-frames",
            "5",
            "--log",
            log,
        ],
        "station": [
            "run",
            "--station",
            str(case.path),
            "--display",
            "none",
            "--max-frames",
            "5",
            "--log",
            log,
        ],
        "profiles": ["operators", "--profiles", str(case.path), "list"],
        "calibration": ["lint", str(SAMPLE), "--calibration", str(case.path)],
        "taught": ["validate", "--strict", str(case.path)],
    }[case.kind]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def read(case: Case) -> str:
    """Run the file through its reader in this process; the problems it reports (AssertionError if the
    reader accepts the file). Any other exception is a failure of the reader and propagates."""
    from oss.calibration.model import Calibration
    from oss.config import calibration_problem, load_station_config
    from oss.instructions import load_instruction, parse_instruction
    from oss.operator.profile import ProfileBook
    from oss.perception.taught import load_references
    from oss.records import OssError
    from oss.sim.scenario import load_scenario
    from oss.station.command import check_language

    p = case.path
    try:
        if case.kind == "instruction":
            errors = [x for x in parse_instruction(p).problems if x.severity == "error"]
            assert errors, "accepted"
            return "\n".join(str(x) for x in errors)
        if case.kind == "scenario":
            load_scenario(p)
        elif case.kind == "station":
            cfg = load_station_config(p)
            problem = calibration_problem(cfg)
            if problem:
                return problem
            check_language(cfg, None)
        elif case.kind == "profiles":
            ProfileBook.load(p)
        elif case.kind == "calibration":
            Calibration.load(p)
        else:
            collect = _Collect()
            logger = logging.getLogger("oss.perception")
            logger.addHandler(collect)
            try:
                refs = load_references(load_instruction(p), "w40", 2.0)
            finally:
                logger.removeHandler(collect)
            assert refs is None, "taught looks used"
            assert collect.lines, "ignored without a word"
            return "\n".join(collect.lines)
    except OssError as e:
        return str(e)
    raise AssertionError("accepted")
