"""The published JSON Schema: valid, current, true to the sample, the model and the author documentation."""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, ValidationError

from oss.instructions import model as m
from oss.instructions.loader import parse_instruction
from oss.instructions.schema import ARUCO_DICTIONARIES, SCHEMA_ID, instruction_schema, schema_json
from tests.conftest import ROOT, SAMPLE
from tests.instructions.broken import BREAKAGES, Breakage

SCHEMA_FILE = ROOT / "docs" / "instruction.schema.json"
FORMAT_DOC = ROOT / "docs" / "instruction-format.md"


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    return Draft202012Validator(instruction_schema())


def _all_errors(errors: list[ValidationError]) -> Iterator[ValidationError]:
    """Every error, with those inside anyOf/oneOf branches."""
    for e in errors:
        yield e
        yield from _all_errors(list(e.context or ()))


def _describe(errors: list[ValidationError]) -> str:
    return "\n".join(f"{e.json_path}: {e.message[:160]}" for e in _all_errors(errors))


def _edited(old: str, new: str, after: str = "") -> str:
    text = SAMPLE.read_text()
    i = text.index(old, text.index(after) if after else 0)
    return text[:i] + new + text[i + len(old) :]


def test_schema_is_valid_draft_2020_12() -> None:
    schema = instruction_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID


def test_committed_schema_file_is_current() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == schema_json(), (
        "docs/instruction.schema.json is out of date: run "
        "`.venv/bin/python -c 'from oss.instructions.schema import write_schema; "
        'write_schema("docs/instruction.schema.json")\'` (or `oss schema > docs/instruction.schema.json`)'
    )


def test_sample_modeline_names_the_schema_file() -> None:
    first = SAMPLE.read_text().splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, first
    assert (SAMPLE.parent / match.group(1)).resolve() == SCHEMA_FILE.resolve()


def test_sample_is_valid(validator: Draft202012Validator) -> None:
    errors = list(validator.iter_errors(yaml.safe_load(SAMPLE.read_text())))
    assert errors == [], _describe(errors)


@dataclass(frozen=True)
class Edit:
    """A broken copy of the sample: ``old`` (first found after ``after``) becomes ``new``."""

    name: str
    old: str
    new: str
    path: str = ""  # json_path of the error the schema must report ("" for edits it must accept)
    message: str = ""  # fragment of that error's message
    after: str = ""


# Each one breaks the shape of the file: the schema alone must reject it, at the right place.
STRUCTURAL = [
    Edit("unknown_top_key", 'version: "1.0"', 'version: "1.0"\nauthor: Ann', "$", "'author' was unexpected"),
    Edit("unknown_step_key", "expected_s: 6", "expectd_s: 6", "$.steps[1]", "'expectd_s' was unexpected"),
    Edit(
        "wrong_type", "expected_s: 7", 'expected_s: "fast"', "$.steps[0].expected_s", "not of type 'number'"
    ),
    Edit(
        "missing_done", "    done:\n      press: next\n", "", "$.steps[14]", "'done' is a required property"
    ),
    Edit(
        "missing_text",
        "    text: {en: Put the housing in the jig, nl: Leg de behuizing in de mal}\n",
        "",
        "$.steps[0]",
        "'text' is a required property",
    ),
    Edit(
        "overlay_two_keys",
        "- outline: housing_seat",
        "- {outline: housing_seat, highlight: bin_housing}",
        "$.steps[0].show[2]",
        "has too many properties",
    ),
    Edit(
        "overlay_unknown_kind",
        "- outline: housing_seat",
        "- circle: housing_seat",
        "$.steps[0].show[2]",
        "'circle' was unexpected",
    ),
    Edit("condition_unknown_kind", "press: next", "pres: next", "$.steps[14].done", "'pres' was unexpected"),
    Edit(
        "condition_two_keys",
        "      press: next",
        "      press: next\n      timer: 3",
        "$.steps[14].done",
        "has too many properties",
    ),
    Edit(
        "bad_colour",
        "color: yellow}",
        "color: yelow}",
        "$.steps[1].show[2].highlight.color",
        "'yelow' is not one of",
    ),
    Edit("bad_hex_colour", '"#9aa3ad"', '"#9aa3a"', "$.parts.housing.color", "does not match"),
    Edit("format_2", "format: 1", "format: 2", "$.format", "1 was expected"),
    Edit("version_number", 'version: "1.0"', "version: 1.0", "$.version", "not of type 'string'"),
    Edit("no_languages", "languages: [en, nl]", "languages: []", "$.languages", "should be non-empty"),
    Edit(
        "language_code",
        "{en: Housing, nl: Behuizing}",
        "{en: Housing, NL: Behuizing}",
        "$.parts.housing.name",
        "'NL' does not match any of the regexes",
    ),
    Edit(
        "bad_zone_id",
        "  bin_label:    {bin: true",
        "  2bin_label:    {bin: true",
        "$.zones",
        "'2bin_label' does not match",
    ),
    Edit(
        "rect_and_polygon",
        "rect: [30, 540, 220, 140]",
        "rect: [30, 540, 220, 140], polygon: [[0, 0], [9, 0], [9, 9]]",
        "$.zones.bin_housing",
        "is valid under each of",
    ),
    Edit(
        "zone_without_shape",
        "{bin: true, rect: [30, 540, 220, 140]}",
        "{bin: true}",
        "$.zones.bin_housing",
        "'rect' is a required property",
    ),
    Edit(
        "rect_three_numbers",
        "rect: [30, 540, 220, 140]",
        "rect: [30, 540, 220]",
        "$.zones.bin_housing.rect",
        "is too short",
    ),
    Edit(
        "rect_zero_width",
        "rect: [30, 540, 220, 140]",
        "rect: [30, 540, 0, 140]",
        "$.zones.bin_housing.rect[2]",
        "less than or equal to the minimum of 0",
    ),
    Edit(
        "polygon_two_points",
        "rect: [30, 540, 220, 140]",
        "polygon: [[0, 0], [9, 9]]",
        "$.zones.bin_housing.polygon",
        "is too short",
    ),
    Edit("negative_marker", "marker: 7", "marker: -1", "$.fixtures.jig.marker", "less than the minimum of 0"),
    Edit(
        "unknown_dictionary",
        "dictionary: DICT_4X4_50",
        "dictionary: DICT_4X4_51",
        "$.fixtures.jig.dictionary",
        "is not one of",
    ),
    Edit("bench_surface", "surface: light", "surface: wood", "$.bench.surface", "is not one of"),
    Edit(
        "pick_count_zero",
        "pick: {bin: bin_housing}",
        "pick: {bin: bin_housing, count: 0}",
        "$.steps[0].done.sequence[0].pick.count",
        "less than the minimum of 1",
    ),
    Edit("unknown_button", "press: next", "press: pedal", "$.steps[14].done.press", "'pedal' is not one of"),
    Edit(
        "negative_dwell",
        "dwell_s: 1.5}",
        "dwell_s: -1}",
        "$.steps[8].done.hand_in.dwell_s",
        "less than the minimum of 0",
    ),
    Edit(
        "repeat_and_each",
        "    each: [drv_hole_1, drv_hole_2]",
        "    repeat: 2\n    each: [drv_hole_1, drv_hole_2]",
        "$.steps[7]",
        "should not be valid under",
    ),
    Edit(
        "repeat_zero",
        "    each: [drv_hole_1, drv_hole_2]",
        "    repeat: 0",
        "$.steps[7].repeat",
        "less than the minimum of 1",
    ),
    Edit(
        "hint_missing",
        "wrong_pick: {hint: {en: Take one thermal pad, nl: Pak één koelpad}}",
        "wrong_pick: {allowed_bins: [bin_pad]}",
        "$.steps[1].errors[0].wrong_pick",
        "'hint' is a required property",
    ),
    Edit(
        "unknown_error_kind",
        "- wrong_pick: {hint: {en: Take one thermal",
        "- wrong_place: {hint: {en: Take one thermal",
        "$.steps[1].errors[0]",
        "'wrong_place' was unexpected",
    ),
    Edit(
        "number_negative",
        "- number: $each",
        "- number: {zone: $each, value: -1}",
        "$.steps[4].show[2].number.value",
        "less than the minimum of 0",
    ),
    Edit(
        "text_overlay_without_at",
        "- outline: {zone: housing_seat, color: green}\n",
        "- outline: {zone: housing_seat, color: green}\n      - text: {text: Check}\n",
        "$.steps[14].show[1].text",
        "'at' is a required property",
    ),
    Edit("steps_not_a_list", "steps:\n", "steps: {}\nold_steps:\n", "$.steps", "not of type 'array'"),
]


@pytest.mark.parametrize("edit", STRUCTURAL, ids=lambda e: e.name)
def test_schema_rejects_structural_breakage(edit: Edit, validator: Draft202012Validator) -> None:
    errors = list(validator.iter_errors(yaml.safe_load(_edited(edit.old, edit.new, edit.after))))
    assert any(e.json_path == edit.path and edit.message in e.message for e in _all_errors(errors)), (
        f"expected at {edit.path}: {edit.message}\ngot:\n{_describe(errors)}"
    )


# Each one is wrong only in meaning: the schema can't know, `oss validate` (the loader) reports it.
SEMANTIC = [
    Edit("undefined_zone", "outline: housing_seat", "outline: housing_set", message="no zone 'housing_set'"),
    Edit("undefined_part", "part: housing}", "part: housings}", message="no part 'housings'"),
    Edit(
        "unknown_frame",
        "housing_seat: {frame: jig",
        "housing_seat: {frame: jigg",
        message="no fixture 'jigg'",
    ),
    Edit("not_a_bin", "pick: {bin: bin_pad}", "pick: {bin: pad_place}", message="is not a bin"),
    Edit(
        "each_outside_each_step",
        "hand_in: {zone: connector",
        "hand_in: {zone: $each",
        message="'$each' is used",
    ),
    Edit("duplicate_step_id", "- id: thermal_pad", "- id: housing", message="used twice"),
    Edit(
        "default_language_not_listed",
        "default_language: en",
        "default_language: de",
        message="not in languages",
    ),
    Edit("missing_translation", "{en: Housing, nl: Behuizing}", "{en: Housing}", message="no nl translation"),
]


@pytest.mark.parametrize("edit", SEMANTIC, ids=lambda e: e.name)
def test_schema_accepts_semantic_breakage_that_the_loader_reports(
    edit: Edit, validator: Draft202012Validator, tmp_path: Path
) -> None:
    text = _edited(edit.old, edit.new, edit.after)
    errors = list(validator.iter_errors(yaml.safe_load(text)))
    assert errors == [], _describe(errors)
    shutil.copytree(SAMPLE.parent / "media", tmp_path / "media")
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    problems = parse_instruction(path).problems
    assert any(edit.message in p.message for p in problems), "\n".join(map(str, problems))


@pytest.mark.parametrize("b", BREAKAGES, ids=lambda b: b.name)
def test_schema_agrees_with_loader_table(
    b: Breakage, validator: Draft202012Validator, tmp_path: Path
) -> None:
    """The loader's broken copies marked structural fail the schema too; the others pass it."""
    path, _ = b.apply(tmp_path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        assert b.structural
        return  # not YAML at all: no schema gets to see it
    errors = list(validator.iter_errors(data))
    assert bool(errors) == b.structural, _describe(errors) or "the schema accepts it"


def _schema_default(*path: str) -> Any:
    node: Any = instruction_schema()["$defs"]
    for key in path:
        node = node[key]
    return node["default"]


def _long_form(defn: str, kind: str) -> dict[str, Any]:
    """The mapping form of an overlay or condition kind."""
    prop = instruction_schema()["$defs"][defn]["properties"][kind]
    return prop["anyOf"][1]["properties"] if "anyOf" in prop else prop["properties"]


def _model_default(cls: type, name: str) -> Any:
    (f,) = [f for f in dataclasses.fields(cls) if f.name == name]
    return f.default


@pytest.mark.parametrize(
    "schema_props, key, cls, field_name",
    [
        (("overlay", "highlight"), "color", m.Highlight, "color"),
        (("overlay", "outline"), "color", m.Outline, "color"),
        (("overlay", "arrow"), "color", m.Arrow, "color"),
        (("overlay", "number"), "color", m.NumberOverlay, "color"),
        (("overlay", "number"), "value", m.NumberOverlay, "value"),
        (("overlay", "text"), "color", m.TextOverlay, "color"),
        (("overlay", "text"), "size_mm", m.TextOverlay, "size_mm"),
        (("overlay", "image"), "size_mm", m.ImageOverlay, "size_mm"),
        (("condition", "pick"), "count", m.Pick, "count"),
        (("condition", "hand_in"), "dwell_s", m.HandIn, "dwell_s"),
    ],
)
def test_overlay_and_condition_defaults_match_model(
    schema_props: tuple[str, str], key: str, cls: type, field_name: str
) -> None:
    prop = _long_form(*schema_props)[key]
    assert prop["default"] == _model_default(cls, field_name)


def test_other_defaults_match_model() -> None:
    defs = instruction_schema()["$defs"]
    assert defs["button"]["default"] == _model_default(m.Press, "button")
    assert defs["bench"]["properties"]["surface"]["default"] == _model_default(m.Bench, "surface")
    fixture = defs["fixture"]["properties"]
    assert fixture["dictionary"]["default"] == _model_default(m.Fixture, "dictionary")
    assert fixture["at"]["default"] == [_model_default(m.Fixture, "x_mm"), _model_default(m.Fixture, "y_mm")]
    assert fixture["angle_deg"]["default"] == _model_default(m.Fixture, "angle_deg")
    assert fixture["height_mm"]["default"] == _model_default(m.Fixture, "height_mm")
    assert defs["step"]["properties"]["repeat"]["default"] == _model_default(m.Step, "repeat")
    assert defs["zone"]["properties"]["bin"]["default"] == _model_default(m.Zone, "is_bin")
    assert defs["frame"]["default"] == _model_default(m.Zone, "frame") == m.BENCH_FRAME
    assert defs["blink"]["default"] == _model_default(m.Highlight, "blink")


def test_dictionaries_are_the_cv2_ones() -> None:
    cv2 = pytest.importorskip("cv2")
    names = [n for n in dir(cv2.aruco) if n.startswith("DICT_")]
    assert sorted(ARUCO_DICTIONARIES) == sorted(names)
    assert list(ARUCO_DICTIONARIES) == sorted(names, key=lambda n: getattr(cv2.aruco, n))


def _property_names(node: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties":
                out |= set(value)
            out |= _property_names(value)
    elif isinstance(node, list):
        for value in node:
            out |= _property_names(value)
    return out


def test_author_doc_names_every_key() -> None:
    doc = FORMAT_DOC.read_text(encoding="utf-8")
    missing = sorted(k for k in _property_names(instruction_schema()) if f"`{k}`" not in doc)
    assert missing == [], f"docs/instruction-format.md does not explain: {missing}"


def _doc_complete_examples() -> list[str]:
    doc = FORMAT_DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", doc, flags=re.S)
    return [b for b in blocks if b.startswith("# yaml-language-server:") and "\nformat: 1\n" in b]


def test_author_doc_complete_example_is_valid(validator: Draft202012Validator, tmp_path: Path) -> None:
    examples = _doc_complete_examples()
    assert examples, "docs/instruction-format.md has no complete example (yaml starting with the modeline)"
    for i, text in enumerate(examples):
        errors = list(validator.iter_errors(yaml.safe_load(text)))
        assert errors == [], _describe(errors)
        path = tmp_path / f"example_{i}.yaml"
        path.write_text(text)
        problems = parse_instruction(path).problems
        assert problems == [], "\n".join(map(str, problems))


def test_author_doc_snippets_are_yaml() -> None:
    doc = FORMAT_DOC.read_text(encoding="utf-8")
    for block in re.findall(r"```yaml\n(.*?)```", doc, flags=re.S):
        yaml.safe_load(block)
