"""The fuzz corpus (issue 21): every broken file, through its reader and through its command.

Each file must be refused with a message that names it, with LINE:COL where the file has lines, and a
fragment of the expected message - never accepted, never a traceback, a signal, a hang or a memory
blow-up. The commands run as a user runs them (``oss validate``, ``oss run --station``, ``oss run
--camera sim:FILE``, ``oss operators --profiles``, ``oss lint --calibration``, ``oss validate --strict``
for taught looks), each in its own process with a 5 s time limit and a 500 MB address-space limit:

- every file through ``tests/fuzz/forkrun.py``, which forks each command from one interpreter that has
  imported OSS once (a cold ``oss run`` spends 1-2 s of its 5 s importing NumPy and OpenCV on this
  shared 2-core machine; forked, the limit measures the command's own work);
- every instruction file through the real ``oss validate F1 F2 ...`` in one process, and one file of
  each crash class per kind through the real ``oss`` command, cold, one process each.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.fuzz.cases import CORPUS, KINDS, Case, command, listed, prepare, read
from tests.fuzz.limits import MEMORY_BYTES, TIME_S, oss_limited

TOOL = ROOT / "tools" / "make_fuzz_corpus.py"
CASES = listed()
# the classes of issue 21, by the start of a case's name: each kind must have its share
CLASSES = (
    "yaml-deep-flow-lists",
    "yaml-deep-flow-mappings",
    "yaml-too-many-values",
    "yaml-alias-bomb",
    "yaml-nul-byte",
    "yaml-python-name-tag",
    "yaml-a-folder",
    "yaml-not-utf8",
)
COLD = ("yaml-deep-flow-lists", "yaml-deep-flow-mappings", "yaml-a-folder", "yaml-too-many-values")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Case]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    (tmp / "logs").mkdir()
    return tmp, prepare(tmp)


@pytest.fixture(scope="module")
def outcomes(prepared: tuple[Path, list[Case]]) -> dict[str, dict[str, object]]:
    """Every case's command, each in a forked process with the limits (tests/fuzz/forkrun.py)."""
    tmp, cases = prepared
    jobs = [{"argv": command(c, tmp), "cwd": str(ROOT)} for c in cases]
    proc = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.forkrun"],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60 + len(jobs) * (TIME_S + 1),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout)
    return {c.id: r for c, r in zip(cases, results, strict=True)}


def test_the_corpus_is_what_the_tool_writes(tmp_path: Path) -> None:
    """tests/fuzz/corpus holds the output of tools/make_fuzz_corpus.py (run it after changing the tool)."""
    out = tmp_path / "corpus"
    subprocess.run([sys.executable, str(TOOL), "--out", str(out)], check=True, capture_output=True)

    def files(root: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes()
            for p in root.rglob("*")
            if p.is_file() and not p.name.startswith("hand-")
        }

    made, committed = files(out), files(CORPUS)
    assert sorted(made) == sorted(committed), "run: python tools/make_fuzz_corpus.py"
    changed = [name for name in made if made[name] != committed[name]]
    assert not changed, f"out of date: {changed[:10]}; run: python tools/make_fuzz_corpus.py"


def test_the_corpus_covers_every_file_and_class() -> None:
    per_kind = Counter(c.kind for c in CASES)
    assert set(per_kind) == set(KINDS) and sum(per_kind.values()) >= 150, per_kind
    for kind in KINDS:
        names = {c.name for c in CASES if c.kind == kind}
        missing = [k for k in CLASSES if not any(n.startswith(k) for n in names)]
        assert not missing, f"{kind}: no case of {missing}"
        assert any(n.startswith("hand-") for n in names), f"{kind}: no hand-written case"
    names = {c.id for c in CASES}
    for needed in (
        "instruction/count-repeat-billion.yaml",
        "instruction/num-width_mm-400-digits.yaml",
        "instruction/num-width_mm-inf.yaml",
        "instruction/marker-outside-dictionary.yaml",
        "instruction/media-not-an-image.yaml",
        "instruction/media-absolute.yaml",
        "instruction/media-a-folder.yaml",
        "instruction/num-format-5000-digits.yaml",
        "scenario/count-cycles-billion.yaml",
        "scenario/size-camera-100000.yaml",
        "scenario/num-time-limit-400-digits.yaml",
        "scenario/instructions-a-folder.yaml",
        "scenario/variant-unknown.yaml",
        "station/num-fps-400-digits.yaml",
        "station/password-key-value.yaml",
        "station/password-query.yaml",
        "station/language-klingon.yaml",
        "station/calibration-missing.yaml",
    ):
        assert needed in names, needed


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_reader_refuses_it_naming_the_place(prepared: tuple[Path, list[Case]], case: Case) -> None:
    _, cases = prepared
    here = next(c for c in cases if c.id == case.id)
    message = read(here)  # an exception other than the reader's own problems fails the test
    assert here.names_itself(message), f"want {here.where()} ... {here.says!r}\ngot: {message[:1000]}"
    assert max(len(line) for line in message.splitlines()) < 1000, "long values are shortened"


def test_every_command_refuses_every_file_cleanly(
    prepared: tuple[Path, list[Case]], outcomes: dict[str, dict[str, object]]
) -> None:
    tmp, cases = prepared
    failures: list[str] = []
    for c in cases:
        r = outcomes[c.id]
        said = str(r["stdout"]) + str(r["stderr"])
        problem = ""
        if r["timed_out"]:
            problem = f"still running after {TIME_S} s"
        elif r["signal"]:
            problem = f"killed by {r['signal']}"
        elif "Traceback" in said or "MemoryError" in said:
            problem = "a traceback"
        elif r["returncode"] != 1:
            problem = f"exit {r['returncode']}"
        elif not c.names_itself(said):
            problem = f"no '{c.where()}' ... '{c.says}'"
        if problem:
            failures.append(f"{c.id}: oss {' '.join(map(str, r['argv']))}: {problem}\n{said[-800:]}")
    assert not failures, f"{len(failures)} of {len(cases)}:\n" + "\n".join(failures[:20])
    assert not any((tmp / "logs").iterdir()), "a station started on a broken file"
    slowest = max(outcomes.values(), key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
    assert float(slowest["seconds"]) < TIME_S  # type: ignore[arg-type]


def test_oss_validate_refuses_every_broken_instruction_in_one_run(prepared: tuple[Path, list[Case]]) -> None:
    """The real command, cold, on all instruction files at once: per file its problems and FAILED."""
    _, cases = prepared
    mine = [c for c in cases if c.kind == "instruction"]
    out = oss_limited("validate", *(c.path for c in mine), timeout=TIME_S + 0.25 * len(mine))
    assert out.failed_cleanly(), out.describe()
    for c in mine:
        assert c.names_itself(out.stdout), f"{c.id}: no {c.where()} ... {c.says!r}"
        assert f"{c.path}: FAILED" in out.stderr, c.id


@pytest.mark.parametrize("case", [c for c in CASES if c.name.startswith(COLD)], ids=lambda c: c.id)
def test_the_real_command_cold_on_the_crash_classes(prepared: tuple[Path, list[Case]], case: Case) -> None:
    """Deep nesting, a folder, too many values: ``oss ...`` as typed, its own process, 5 s and 500 MB."""
    tmp, cases = prepared
    here = next(c for c in cases if c.id == case.id)
    out = oss_limited(*command(here, tmp))
    assert out.failed_cleanly(), out.describe()
    assert here.names_itself(out.said), out.describe()
    assert MEMORY_BYTES == 500 * 1024 * 1024
