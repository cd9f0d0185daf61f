from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from oss.instructions import InstructionError, load_instruction, parse_instruction
from oss.instructions import model as m
from tests.conftest import ROOT, SAMPLE
from tests.instructions.broken import BREAKAGES, Breakage


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(SAMPLE.parent / "media", tmp_path / "media")
    return tmp_path


def test_sample_loads_clean() -> None:
    parsed = parse_instruction(SAMPLE)
    assert parsed.problems == []
    ins = parsed.instruction
    assert ins is not None
    assert ins.product_id == "sl40-street-light"
    assert set(ins.variants) == {"w40", "w60"}
    assert 10 <= len({s.step.id for s in ins.run_steps("w40")}) <= 15
    assert len(ins.content_hash) == 16


@pytest.mark.parametrize("variant, module_step", [("w40", "led_module_40"), ("w60", "led_module_60")])
def test_variants_and_each(sample_instruction: m.Instruction, variant: str, module_step: str) -> None:
    steps = sample_instruction.run_steps(variant)
    ids = [s.step.id for s in steps]
    assert module_step in ids
    other = "led_module_60" if module_step == "led_module_40" else "led_module_40"
    assert other not in ids
    screws = [s for s in steps if s.step.id == "led_screw"]
    assert [s.uid for s in screws] == [f"led_screw#{i}" for i in range(1, 5)]
    # $each resolves to the zone of each repetition, in the condition and in the overlays
    seq = screws[2].done
    assert isinstance(seq, m.Sequence)
    assert seq.conditions[1] == m.HandIn("led_hole_3", 1.0)
    assert m.NumberOverlay("led_hole_3") in screws[2].show
    assert [s.index for s in steps] == list(range(len(steps)))
    assert all(s.total == len(steps) for s in steps)


def test_unknown_variant_is_clear(sample_instruction: m.Instruction) -> None:
    with pytest.raises(KeyError, match="w40, w60"):
        sample_instruction.run_steps("w99")


@pytest.mark.parametrize("b", BREAKAGES, ids=lambda b: b.name)
def test_broken_copy_names_line(b: Breakage, workdir: Path) -> None:
    path, line = b.apply(workdir)
    problems = [p for p in parse_instruction(path).problems if p.severity == "error"]
    matching = [p for p in problems if b.message in p.message]
    assert matching, f"no problem mentions {b.message!r}: {[str(p) for p in problems]}"
    if b.name == "missing_done":
        # the step mapping that lacks 'done' starts at '- id: final_check'
        line = SAMPLE.read_text().splitlines().index("  - id: final_check") + 1
    if b.name == "zone_outside":
        line -= 0  # the zone's key is on the same line as its rect
    assert any(p.pos.line == line for p in matching), f"expected line {line}: {[str(p) for p in matching]}"
    with pytest.raises(InstructionError):
        load_instruction(path)


def test_validate_command_exit_codes(workdir: Path) -> None:
    bad, line = BREAKAGES[1].apply(workdir)
    cmd = [sys.executable, "-m", "oss.cli", "validate", str(SAMPLE), str(bad)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1
    assert f"{bad}:{line}:" in out.stdout
    ok = subprocess.run(
        [sys.executable, "-m", "oss.cli", "validate", str(SAMPLE)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_every_problem_reported_at_once(workdir: Path) -> None:
    text = SAMPLE.read_text()
    text = text.replace("expected_s: 7", "expected_s: fast").replace(
        "outline: housing_seat", "outline: nowhere"
    )
    text = text.replace("- id: thermal_pad", "- id: housing")
    path = workdir / "many.yaml"
    path.write_text(text)
    msgs = [p.message for p in parse_instruction(path).problems]
    assert any("expected_s must be a number" in x for x in msgs)
    assert any("no zone 'nowhere'" in x for x in msgs)
    assert any("used twice" in x for x in msgs)


def test_missing_translation_is_warning_unless_strict(workdir: Path) -> None:
    text = SAMPLE.read_text().replace(
        "text: {en: Put the housing in the jig, nl: Leg de behuizing in de mal}",
        "text: {en: Put the housing in the jig}",
    )
    path = workdir / "untranslated.yaml"
    path.write_text(text)
    problems = parse_instruction(path).problems
    assert [p.severity for p in problems] == ["warning"]
    assert "no nl translation" in problems[0].message
    load_instruction(path)  # warnings don't stop loading

    def run(*a: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "oss.cli", "validate", *a, str(path)], capture_output=True)

    assert run().returncode == 0
    assert run("--strict").returncode == 1


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("format: 1\nsteps: " + "[" * 200 + "]" * 200 + "\n")
    problems = parse_instruction(path).problems
    assert len(problems) == 1 and "nested" in problems[0].message


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    problems = parse_instruction(path).problems
    assert len(problems) == 1 and "aliases" in problems[0].message


def test_huge_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("# " + "x" * 3_000_000 + "\n")
    problems = parse_instruction(path).problems
    assert "kB" in problems[0].message


@pytest.mark.parametrize(
    "content, fragment",
    [("", "empty"), ("- a\n- b\n", "must be a mapping"), ("format: 2\n", "format 2 is not known")],
)
def test_odd_files(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(content)
    assert any(fragment in p.message for p in parse_instruction(path).problems)


def test_missing_file_is_clear(tmp_path: Path) -> None:
    problems = parse_instruction(tmp_path / "nope.yaml").problems
    assert "not found" in problems[0].message


def test_unsafe_tags_are_not_constructed(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("format: !!python/object/apply:os.system ['echo hacked']\n")
    problems = parse_instruction(path).problems
    assert problems  # refused as a syntax/tag problem or a wrong type, never executed
