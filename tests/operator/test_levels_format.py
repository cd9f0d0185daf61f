"""The instruction format's guidance levels: ``guidance:`` per step, ``level:`` per overlay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from oss.instructions import model as m
from oss.instructions.levels import overlay_level, overlay_shown, panel_items
from oss.instructions.loader import load_instruction, parse_instruction
from oss.instructions.schema import instruction_schema
from tests.conftest import ROOT, SAMPLE

HEAD = """format: 1
product: {id: box, name: Box}
version: "1"
languages: [en]
default_language: en
bench: {width_mm: 1000, depth_mm: 600}
zones:
  bin_a: {bin: true, rect: [10, 400, 100, 100]}
  hole_1: {rect: [500, 200, 20, 20]}
  hole_2: {rect: [600, 200, 20, 20]}
steps:
"""


def write(tmp_path: Path, steps: str) -> Path:
    p = tmp_path / "box.yaml"
    p.write_text(HEAD + steps, encoding="utf-8")
    return p


GOOD = """  - id: screw
    each: [hole_1, hole_2]
    text: Screw it
    guidance:
      reduced: [text]
    show:
      - highlight: bin_a
      - arrow: {from: bin_a, to: $each}
      - number: {zone: $each, level: minimal}
      - outline: {zone: $each, level: full}
    done: {sequence: [{pick: bin_a}, {hand_in: $each}]}
"""


def test_guidance_and_levels_are_read_and_kept_through_each(tmp_path: Path) -> None:
    ins = load_instruction(write(tmp_path, GOOD))
    step = ins.steps[0]
    assert step.guidance == m.Guidance(reduced=("text",))
    assert panel_items(step, "full") == ("text", "pictogram", "animation")
    assert panel_items(step, "reduced") == ("text",)
    assert panel_items(step, "minimal") == ()
    rs = ins.run_steps()[1]
    hl, arrow, number, outline = rs.show
    assert (arrow.to_zone, number.zone, number.level, outline.level) == (
        "hole_2",
        "hole_2",
        "minimal",
        "full",
    )
    shown = {lvl: [type(o).__name__ for o in rs.show if overlay_shown(o, lvl)] for lvl in m.GUIDANCE_LEVELS}
    assert shown == {
        "full": ["Highlight", "Arrow", "NumberOverlay", "Outline"],
        "reduced": ["Highlight", "NumberOverlay"],
        "minimal": ["NumberOverlay"],
    }


def test_a_file_without_levels_falls_back_by_kind() -> None:
    ins = load_instruction(SAMPLE)
    rs = ins.run_steps("w40")[0]  # housing: highlight, arrow, outline
    assert [overlay_level(o) for o in rs.show] == ["reduced", "full", "reduced"]
    assert all(panel_items(s, "reduced") == () and panel_items(s, "minimal") == () for s in ins.steps)
    assert all(not any(overlay_shown(o, "minimal") for o in s.show) for s in ins.steps)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "      - number: {zone: $each, level: minimum}",
            "'minimum' is not a guidance level (did you mean 'minimal'?)",
        ),
        ("      reduced: [txt]", "'txt' is not something the panel shows (did you mean 'text'?)"),
        ("      reduced: [text, text]", "'text' is listed twice under guidance reduced"),
        ("      reduced: [highlight]", "overlays take 'level:' themselves"),
    ],
)
def test_bad_levels_are_reported_with_their_position(tmp_path: Path, change: str, message: str) -> None:
    key = change.split(":")[0].strip()
    lines = GOOD.splitlines()
    idx = next(
        i
        for i, line in enumerate(lines)
        if line.strip().startswith(key.split()[-1] + ":") or line.strip().startswith(key)
    )
    lines[idx] = change
    path = write(tmp_path, "\n".join(lines) + "\n")
    problems = [p for p in parse_instruction(path).problems if p.severity == "error"]
    assert any(message in p.message for p in problems), problems
    assert all(p.pos.line > 1 for p in problems)


def test_more_guidance_showing_less_is_a_warning(tmp_path: Path) -> None:
    steps = GOOD.replace("      reduced: [text]", "      full: [pictogram]\n      reduced: [text]")
    problems = parse_instruction(write(tmp_path, steps)).problems
    warn = [p for p in problems if p.severity == "warning"]
    assert len(warn) == 1 and "reduced guidance shows text but full guidance does not" in warn[0].message
    assert warn[0].pos.line == HEAD.count("\n") + 6  # the 'reduced:' key


def test_schema_knows_guidance_and_level_and_the_checked_in_copy_matches(tmp_path: Path) -> None:
    import yaml

    schema = instruction_schema()
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    assert list(validator.iter_errors(yaml.safe_load(HEAD + GOOD))) == []
    bad = yaml.safe_load(HEAD + GOOD.replace("level: minimal", "level: none"))
    assert list(validator.iter_errors(bad))
    bad = yaml.safe_load(HEAD + GOOD.replace("reduced: [text]", "reduced: [arrows]"))
    assert list(validator.iter_errors(bad))
    on_disk = json.loads((ROOT / "docs" / "instruction.schema.json").read_text(encoding="utf-8"))
    assert on_disk == schema
