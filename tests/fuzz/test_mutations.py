"""Property test over the sample instruction file (issue 21): random mutations of instructions/led_fixture.yaml
either parse into an instruction the station can set up, or give problems that each name the file and a
line of it - never an exception.

The mutations are our own, seeded (no extra dependency): characters deleted or inserted (YAML's special
ones most often), values replaced by hostile ones (huge, infinite, deep, tagged, aliased, out-of-folder
paths), lines deleted, doubled, swapped, re-indented, the file cut short. ``OSS_FUZZ_SEED`` and
``OSS_FUZZ_N`` run other or more mutations; a failure prints the seed and index that reproduce it.
"""

from __future__ import annotations

import os
import random
import re
import shutil
from pathlib import Path

import pytest

from oss.instructions import parse_instruction
from oss.instructions.limits import MAX_RUN_STEPS
from oss.render.scene import Scene
from tests.conftest import SAMPLE

SEED = int(os.environ.get("OSS_FUZZ_SEED", "21"))
N = int(os.environ.get("OSS_FUZZ_N", "240"))
SPECIAL = ":-[]{}&*!|>'\"#%@`,? \t\n\\0123456789"
HOSTILE = (
    "",
    "~",
    "-1",
    "0",
    "1.0e+400",
    "-.inf",
    ".nan",
    "9" * 400,
    "7" * 5000,
    "0x" + "f" * 60,
    "[]",
    "{}",
    "[" * 60 + "]" * 60,
    "{a: " * 60 + "}" * 60,
    "&a [1, 2]",
    "*nowhere",
    "!!python/name:os.system ''",
    "!!binary aGk=",
    "'",
    '"',
    "yes",
    "1.5",
    "x" * 3000,
    '"a\\0b"',
    "$each",
    "../../etc/passwd",
    "/etc/hostname",
    "media",
    "DICT_APRILTAG_16h5",
    "1000000000",
)
VALUE = re.compile(r"(:\s+)([^\s{\[#][^,}\]\n#]*)")


def mutate(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    op = rng.randrange(9)
    if op == 0 and text:  # delete a character
        i = rng.randrange(len(text))
        return text[:i] + text[i + 1 :]
    if op == 1:  # insert a character
        i = rng.randrange(len(text) + 1)
        return text[:i] + rng.choice(SPECIAL) + text[i:]
    spots = list(VALUE.finditer(text))
    if op in (2, 3) and spots:  # a value replaced by a hostile one
        m = rng.choice(spots)
        return text[: m.start(2)] + rng.choice(HOSTILE) + text[m.end(2) :]
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    if op in (2, 3, 4):  # delete a line
        del lines[i]
    elif op == 5:  # double a line
        lines.insert(i, lines[i])
    elif op == 6:  # swap two lines
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 7:  # re-indent a line
        lines[i] = lines[i][2:] if lines[i].startswith("  ") and rng.random() < 0.5 else "  " + lines[i]
    else:  # cut the file short
        return text[: rng.randrange(len(text) + 1)]
    return "\n".join(lines)


def mutations() -> list[tuple[int, str]]:
    rng = random.Random(SEED)
    base = SAMPLE.read_text()
    out = []
    for k in range(N):
        text = base
        for _ in range(1 + (k % 3)):  # one, two or three changes
            text = mutate(text, rng)
        out.append((k, text))
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("mutations")
    shutil.copytree(SAMPLE.parent / "media", d / "media")
    return d


def test_mutations_parse_or_give_positioned_problems(folder: Path) -> None:
    failures: list[str] = []
    valid = 0
    for k, text in mutations():
        path = folder / f"m{k}.yaml"
        path.write_text(text, encoding="utf-8")
        lines = text.count("\n") + 1
        where = f"OSS_FUZZ_SEED={SEED} mutation {k} ({path})"
        try:
            parsed = parse_instruction(path)
            if parsed.instruction is not None:
                valid += 1
                ins = parsed.instruction
                for variant in ins.variants or (None,):
                    scene = Scene(ins, variant, path.parent)  # what the station loads at start
                    assert len(scene.steps) <= MAX_RUN_STEPS
            else:
                assert any(p.severity == "error" for p in parsed.problems), "refused without an error"
            for p in parsed.problems:
                assert p.pos.file == str(path), p
                assert 1 <= p.pos.line <= lines + 1 and p.pos.col >= 1, p
                assert len(p.message) < 1000, p
        except Exception as e:
            failures.append(f"{where}: {type(e).__name__}: {str(e)[:300]}")
        finally:
            path.unlink()
    assert not failures, "\n".join(failures[:10])
    assert 0 < valid < N, f"{valid} of {N} mutations still valid: the generator should break most, not all"
