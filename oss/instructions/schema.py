"""The JSON Schema (draft 2020-12) of instruction files, for editors and for structural checks.

The schema checks the shape of a file: keys, types, ranges, which keys are required. It cannot
check meaning: whether a zone that a step names exists, whether ids are unique, whether every
language has a translation. ``oss validate`` (``oss.instructions.loader``) checks those too.

The schema keeps to keywords that older editor validators (JSON Schema draft-07, as in the VS Code
YAML extension) also understand or safely ignore: ``$ref`` to ``#/$defs/...`` pointers, no
``items: false``, and ``prefixItems`` only where draft-07 may skip it without rejecting good files.

``docs/instruction.schema.json`` is ``write_schema()``'s output and is checked in; a test keeps it
equal to ``instruction_schema()``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oss.instructions.model import BENCH_FRAME, EACH, FORMAT_VERSION

Schema = dict[str, Any]

SCHEMA_ID = "urn:oss:schema:instruction:1"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]*$"
ZONE_REF_PATTERN = r"^(\$each|[A-Za-z_][A-Za-z0-9_\-]*)$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$"
HEX_COLOR_PATTERN = r"^#[0-9a-fA-F]{6}$"

COLOR_NAMES = ("green", "yellow", "red", "white", "blue", "orange", "cyan", "magenta")
BUTTONS = ("next", "confirm", "help")
SURFACES = ("light", "dark")
# Every cv2.aruco DICT_* name (OpenCV 4.11), in the order of their numeric values.
ARUCO_DICTIONARIES = (
    "DICT_4X4_50", "DICT_4X4_100", "DICT_4X4_250", "DICT_4X4_1000",
    "DICT_5X5_50", "DICT_5X5_100", "DICT_5X5_250", "DICT_5X5_1000",
    "DICT_6X6_50", "DICT_6X6_100", "DICT_6X6_250", "DICT_6X6_1000",
    "DICT_7X7_50", "DICT_7X7_100", "DICT_7X7_250", "DICT_7X7_1000",
    "DICT_ARUCO_ORIGINAL",
    "DICT_APRILTAG_16H5", "DICT_APRILTAG_16h5", "DICT_APRILTAG_25H9", "DICT_APRILTAG_25h9",
    "DICT_APRILTAG_36H10", "DICT_APRILTAG_36h10", "DICT_APRILTAG_36H11", "DICT_APRILTAG_36h11",
    "DICT_ARUCO_MIP_36H12", "DICT_ARUCO_MIP_36h12",
)  # fmt: skip
DEFAULT_DICTIONARY = "DICT_4X4_50"

OVERLAY_KINDS = ("highlight", "outline", "arrow", "text", "image", "number")
CONDITION_KINDS = ("pick", "present", "absent", "hand_in", "press", "timer", "all", "any", "sequence")
ERROR_KINDS = ("wrong_pick",)


# ---------------------------------------------------------------------------------------------------
# Small builders


def _ref(name: str, description: str | None = None, **extra: Any) -> Schema:
    """A reference to ``#/$defs/name``; ``description`` is the tooltip at the place of use."""
    out: Schema = {"$ref": f"#/$defs/{name}"}
    if description:
        out["description"] = description
    out.update(extra)
    return out


def _obj(
    title: str, description: str, properties: dict[str, Schema], required: tuple[str, ...] = (), **extra: Any
) -> Schema:
    """A mapping with known keys only."""
    out: Schema = {"title": title, "description": description, "type": "object"}
    if required:
        out["required"] = list(required)
    out["properties"] = properties
    out["additionalProperties"] = False
    out.update(extra)
    return out


def _one_key(title: str, description: str, properties: dict[str, Schema]) -> Schema:
    """A mapping with exactly one key, which names the kind (an overlay, a condition, an error rule)."""
    return _obj(title, description, properties, minProperties=1, maxProperties=1)


def _id_map(title: str, description: str, value_def: str) -> Schema:
    """A mapping from ids to definitions."""
    return {
        "title": title,
        "description": description,
        "type": "object",
        "propertyNames": _ref("id"),
        "additionalProperties": _ref(value_def),
    }


def _num(description: str, *, positive: bool = False, minimum: float | None = None, **extra: Any) -> Schema:
    out: Schema = {"description": description, "type": "number"}
    if positive:
        out["exclusiveMinimum"] = 0
    if minimum is not None:
        out["minimum"] = minimum
    out.update(extra)
    return out


def _int(description: str, minimum: int, **extra: Any) -> Schema:
    return {"description": description, "type": "integer", "minimum": minimum, **extra}


def _ids(description: str, item: str = "id") -> Schema:
    return {
        "description": description,
        "type": "array",
        "items": _ref(item),
        "minItems": 1,
        "uniqueItems": True,
    }


def _short_or_long(description: str, short: Schema, long: Schema) -> Schema:
    """A value written short (just a zone id, say) or as a mapping with more settings."""
    return {"description": description, "anyOf": [short, long]}


# ---------------------------------------------------------------------------------------------------
# Definitions


def _basic_defs() -> dict[str, Schema]:
    return {
        "id": {
            "title": "Id",
            "description": "A name for use inside this file: letters, digits, '_' and '-', starting with a "
            "letter or '_'. Example: bin_screws",
            "type": "string",
            "pattern": ID_PATTERN,
        },
        "zoneRef": {
            "title": "Zone",
            "description": f"The id of a zone in 'zones'. In a step with 'each', '{EACH}' means the zone of "
            "the current repetition.",
            "type": "string",
            "pattern": ZONE_REF_PATTERN,
            "examples": ["bin_screws", EACH],
        },
        "languageCode": {
            "title": "Language code",
            "description": "A language code such as en, nl, de, fr or pt-BR.",
            "type": "string",
            "pattern": LANGUAGE_PATTERN,
        },
        "text": {
            "title": "Text",
            "description": "A text for the operator: either plain text (in the default language) or one text "
            "per language, like {en: Take a screw, nl: Pak een schroef}.",
            "anyOf": [
                {"type": "string", "minLength": 1},
                {
                    "type": "object",
                    "minProperties": 1,
                    "patternProperties": {LANGUAGE_PATTERN: {"type": "string", "minLength": 1}},
                    "additionalProperties": False,
                },
            ],
            "examples": ["Take a screw", {"en": "Take a screw", "nl": "Pak een schroef"}],
        },
        "path": {
            "title": "File",
            "description": "A picture file, relative to the folder of this instruction file, with '/' "
            "between folders. Example: media/screw.png",
            "type": "string",
            "minLength": 1,
        },
        "point": {
            "title": "Point [x, y]",
            "description": "A point [x, y] in mm: x to the operator's right, y away from the operator.",
            "type": "array",
            "items": {"type": "number"},
            "minItems": 2,
            "maxItems": 2,
        },
        "size": {
            "title": "Size [width, depth]",
            "description": "A size [width, depth] in mm, both more than 0.",
            "type": "array",
            "items": {"type": "number", "exclusiveMinimum": 0},
            "minItems": 2,
            "maxItems": 2,
        },
        "frame": {
            "title": "Frame",
            "description": f"Where the coordinates are measured from: '{BENCH_FRAME}' (the bench's front-left "
            "corner) or the id of a fixture (mm from the centre of that fixture's marker, turning with it).",
            "type": "string",
            "pattern": ID_PATTERN,
            "default": BENCH_FRAME,
        },
        "hexColor": {
            "title": "Colour #rrggbb",
            "description": "A colour as #rrggbb (hex red, green, blue), like #f2d64b.",
            "type": "string",
            "pattern": HEX_COLOR_PATTERN,
        },
        "color": {
            "title": "Colour",
            "description": f"A projected colour: {', '.join(COLOR_NAMES)}, or #rrggbb.",
            "anyOf": [{"type": "string", "enum": list(COLOR_NAMES)}, _ref("hexColor")],
        },
        "blink": {
            "title": "Blink",
            "description": "true: the overlay blinks to catch the eye.",
            "type": "boolean",
            "default": False,
        },
        "button": {
            "title": "Button",
            "description": "next: the pedal, the 'next' key of the button box, the space bar or the projected "
            "next button; confirm: the confirm key; help: the help key.",
            "type": "string",
            "enum": list(BUTTONS),
            "default": "next",
        },
    }


def _bench_defs() -> dict[str, Schema]:
    return {
        "product": _obj(
            "Product",
            "The product this file assembles.",
            {
                "id": _ref(
                    "id", "A short id of the product, used in logs and reports. Example: sl40-street-light"
                ),
                "name": _ref("text", "The product's name as the operator sees it."),
            },
            ("id", "name"),
        ),
        "bench": _obj(
            "Bench",
            "The work surface the camera and projector see.",
            {
                "width_mm": _num(
                    "Width of the bench from left to right, in mm.", positive=True, examples=[1200]
                ),
                "depth_mm": _num(
                    "Depth of the bench from the operator's edge to the back, in mm.",
                    positive=True,
                    examples=[700],
                ),
                "surface": {
                    "description": "What the bench top looks like: light or dark.",
                    "type": "string",
                    "enum": list(SURFACES),
                    "default": "light",
                },
            },
            ("width_mm", "depth_mm"),
        ),
        "fixture": _obj(
            "Fixture",
            "A jig or product carrier with an ArUco marker on it. The station finds the marker, so zones given "
            "in this fixture's frame follow the jig when it moves.",
            {
                "marker": _int("The number (ArUco id) of the marker on the fixture.", 0, examples=[7]),
                "marker_size_mm": _num(
                    "Length of the marker's black square side, in mm.", positive=True, examples=[40]
                ),
                "dictionary": {
                    "description": "The ArUco dictionary the marker was printed from.",
                    "type": "string",
                    "enum": list(ARUCO_DICTIONARIES),
                    "default": DEFAULT_DICTIONARY,
                },
                "at": _ref(
                    "point",
                    "Where the marker's centre is on the bench (mm) when the fixture stands in "
                    "its usual place.",
                    default=[0, 0],
                ),
                "angle_deg": _num(
                    "How far the fixture is turned in its usual place, in degrees, counter-clockwise "
                    "seen from above.",
                    default=0,
                ),
                "height_mm": _num("Height of the marker above the bench top, in mm.", minimum=0, default=0),
            },
            ("marker", "marker_size_mm"),
        ),
        "variant": _obj(
            "Variant",
            "A version of the product (40 W or 60 W, say). Steps and parts can be limited to some variants.",
            {"name": _ref("text", "The variant's name as the operator sees it.")},
            ("name",),
        ),
        "part": _obj(
            "Part",
            "A part the operator builds in.",
            {
                "name": _ref("text", "The part's name as the operator sees it."),
                "bin": _ref("id", "The zone of the bin this part is taken from."),
                "image": _ref("path", "A picture of the part."),
                "color": _ref(
                    "hexColor",
                    "What colour the part is, as #rrggbb (used by the virtual bench and the contrast check).",
                ),
                "size_mm": _ref("size", "The size of one part lying on the bench, [width, depth] in mm."),
                "variants": _ids("Only these variants use the part. Leave out: every variant.", "id"),
            },
            ("name",),
        ),
        "zone": _zone_def(),
    }


def _zone_def() -> Schema:
    rect = {
        "description": "A rectangle [x, y, width, height] in mm; x, y is its corner with the smallest "
        "coordinates (front-left in the bench frame).",
        "type": "array",
        "items": {"type": "number"},
        "prefixItems": [
            {"type": "number"},
            {"type": "number"},
            {"type": "number", "exclusiveMinimum": 0},
            {"type": "number", "exclusiveMinimum": 0},
        ],
        "minItems": 4,
        "maxItems": 4,
        "examples": [[30, 380, 130, 120]],
    }
    polygon = {
        "description": "A shape with straight sides: a list of at least 3 corners [x, y] in mm, in order "
        "around the shape.",
        "type": "array",
        "items": _ref("point"),
        "minItems": 3,
    }
    zone = _obj(
        "Zone",
        "A place on the bench: a bin, a place on the jig, a spot to touch. Give it with either 'rect' or "
        "'polygon' (not both).",
        {
            "rect": rect,
            "polygon": polygon,
            "frame": _ref("frame"),
            "bin": {
                "description": "true: this zone is a bin that parts are picked from.",
                "type": "boolean",
                "default": False,
            },
            "part": _ref("id", "For a bin: the part it holds."),
            "label": _ref("text", "A short name for the zone, shown to the operator."),
        },
    )
    zone["oneOf"] = [{"required": ["rect"]}, {"required": ["polygon"]}]
    return zone


def _overlay_defs() -> dict[str, Schema]:
    def zone_overlay(title: str, description: str, color_default: str, more: dict[str, Schema]) -> Schema:
        long = _obj(
            title,
            description,
            {
                "zone": _ref("zoneRef"),
                **more,
                "color": _ref("color", default=color_default),
                "blink": _ref("blink"),
            },
            ("zone",),
        )
        return _short_or_long(
            description + " Write just the zone id, or a mapping with zone and more.", _ref("zoneRef"), long
        )

    placed = {"at": _ref("point", "Where it goes: [x, y] in mm, in 'frame'."), "frame": _ref("frame")}
    overlays: dict[str, Schema] = {
        "highlight": zone_overlay("Highlight", "Fills a zone with colour (default green).", "green", {}),
        "outline": zone_overlay("Outline", "Draws the edge of a zone (default white).", "white", {}),
        "number": zone_overlay(
            "Number",
            "Draws a large number in a zone (screw 3 of 4, say).",
            "white",
            {"value": _int("The number to show; 0 (the default) shows the repetition number.", 0, default=0)},
        ),
        "arrow": _obj(
            "Arrow",
            "An arrow from one zone to another (default yellow), such as from a bin to the place on the jig.",
            {
                "from": _ref("zoneRef", "The zone the arrow starts at."),
                "to": _ref("zoneRef", "The zone the arrow points to."),
                "color": _ref("color", default="yellow"),
                "blink": _ref("blink"),
            },
            ("from", "to"),
        ),
        "text": _obj(
            "Text on the bench",
            "Words projected onto the bench.",
            {
                "text": _ref("text"),
                **placed,
                "size_mm": _num("Height of the letters in mm.", positive=True, default=25),
                "color": _ref("color", default="white"),
                "blink": _ref("blink"),
            },
            ("text", "at"),
        ),
        "image": _obj(
            "Picture on the bench",
            "A picture projected onto the bench.",
            {
                "image": _ref("path"),
                **placed,
                "size_mm": _num("Size of the picture's longer side in mm.", positive=True, default=80),
                "blink": _ref("blink"),
            },
            ("image", "at"),
        ),
    }
    return {
        "overlay": _one_key(
            "Overlay",
            "One thing projected during the step: write one of " + ", ".join(OVERLAY_KINDS) + ".",
            overlays,
        )
    }


def _condition_defs() -> dict[str, Schema]:
    def many(description: str) -> Schema:
        return {"description": description, "type": "array", "items": _ref("condition"), "minItems": 1}

    kinds: dict[str, Schema] = {
        "pick": _short_or_long(
            "A hand reaches into a bin and leaves it again. Write the bin's zone id, or {bin, count}.",
            _ref("zoneRef"),
            _obj(
                "Pick",
                "Picks from a bin.",
                {
                    "bin": _ref("zoneRef", "The bin's zone."),
                    "count": _int("How many picks are needed.", 1, default=1),
                },
                ("bin",),
            ),
        ),
        "present": _short_or_long(
            "The zone looks different from when the step began (a part was put there), decided only while no "
            "hand covers it. Write the zone id, or {zone, part}.",
            _ref("zoneRef"),
            _obj(
                "Present",
                "A part is in a zone.",
                {
                    "zone": _ref("zoneRef"),
                    "part": _ref("id", "The part expected there."),
                },
                ("zone",),
            ),
        ),
        "absent": _short_or_long(
            "The zone looks empty again, like the empty jig (the product was taken off), decided only while no "
            "hand covers it. Write the zone id, or {zone}.",
            _ref("zoneRef"),
            _obj("Absent", "A zone is empty again.", {"zone": _ref("zoneRef")}, ("zone",)),
        ),
        "hand_in": _short_or_long(
            "A hand stays in the zone for dwell_s seconds (default 0.5). Write the zone id, or {zone, dwell_s}.",
            _ref("zoneRef"),
            _obj(
                "Hand in zone",
                "A hand stays in a zone.",
                {
                    "zone": _ref("zoneRef"),
                    "dwell_s": _num("How long the hand must stay, in seconds.", minimum=0, default=0.5),
                },
                ("zone",),
            ),
        ),
        "press": _short_or_long(
            "The operator presses a button. Write next, confirm or help, or {button}.",
            _ref("button"),
            _obj("Press", "A button press.", {"button": _ref("button")}),
        ),
        "timer": _short_or_long(
            "A number of seconds passes. Write the seconds, or {seconds}.",
            _num("Seconds to wait.", positive=True),
            _obj("Timer", "Waiting.", {"seconds": _num("Seconds to wait.", positive=True)}, ("seconds",)),
        ),
        "all": many("Done when all of these are met, in any order."),
        "any": many("Done when one of these is met."),
        "sequence": many(
            "Done when these are met one after the other: each counts only after the one before."
        ),
    }
    return {
        "condition": _one_key(
            "Condition",
            "When the step is done: write one of " + ", ".join(CONDITION_KINDS) + ".",
            kinds,
        )
    }


def _step_defs() -> dict[str, Schema]:
    error_rule = _one_key(
        "Error rule",
        "What counts as a mistake in this step, and the hint the operator then sees.",
        {
            "wrong_pick": _obj(
                "Wrong pick",
                "A pick from a bin that this step does not use.",
                {
                    "hint": _ref("text", "What the operator sees after the wrong pick."),
                    "allowed_bins": {
                        "description": "Bins that are not a mistake. Leave out: the bins the step's 'done' "
                        "picks from.",
                        "type": "array",
                        "items": _ref("zoneRef"),
                        "minItems": 1,
                        "uniqueItems": True,
                    },
                },
                ("hint",),
            )
        },
    )
    step = _obj(
        "Step",
        "One step of the assembly: what the operator reads and sees, and when it is done.",
        {
            "id": _ref("id", "A short unique name for the step, used in logs and reports."),
            "text": _ref("text", "The instruction the operator reads."),
            "pictogram": _ref("path", "A small picture shown with the text."),
            "image": _ref("path", "A larger picture or photo for the step."),
            "show": {
                "description": "What is projected onto the bench during the step.",
                "type": "array",
                "items": _ref("overlay"),
            },
            "done": _ref("condition", "When the step is done."),
            "expected_s": _num("How many seconds the step normally takes.", positive=True),
            "errors": {
                "description": "Mistakes to watch for, each with a hint.",
                "type": "array",
                "items": _ref("errorRule"),
            },
            "variants": _ids("Only these variants do this step. Leave out: every variant."),
            "repeat": _int(
                "How many times the step is done in a row (not together with 'each').", 1, default=1
            ),
            "each": _ids(
                f"Do the step once for each of these zones, in order; '{EACH}' in the step means the current "
                "one (not together with 'repeat').",
            ),
        },
        ("id", "text", "done"),
    )
    step["not"] = {"required": ["repeat", "each"]}
    return {"errorRule": error_rule, "step": step}


# ---------------------------------------------------------------------------------------------------
# The schema


def instruction_schema() -> Schema:
    """The JSON Schema (draft 2020-12) of an OSS instruction file, format version 1."""
    defs: dict[str, Schema] = {
        **_basic_defs(),
        **_bench_defs(),
        **_overlay_defs(),
        **_condition_defs(),
        **_step_defs(),
    }
    top = _obj(
        "OSS instruction",
        "How one product is assembled at an OSS station: the bench, parts, bins and zones, and the steps "
        "with what the projector shows and when each step is done. Lengths are mm on the bench: x to the "
        "operator's right, y away from the operator, from the bench's front-left corner. The schema "
        "checks the shape of the file; 'oss validate' also checks that every name used is defined.",
        {
            "format": {"description": "The version of this file format. Write 1.", "const": FORMAT_VERSION},
            "product": _ref("product"),
            "version": {
                "description": "This instruction's own version; raise it whenever you change the file. Write it "
                'in quotes, like "1.2".',
                "type": "string",
                "minLength": 1,
            },
            "languages": {
                "description": "The languages this file has texts in, like [en, nl].",
                "type": "array",
                "items": _ref("languageCode"),
                "minItems": 1,
                "uniqueItems": True,
            },
            "default_language": _ref(
                "languageCode",
                "The language of plain texts, and the one shown when a translation is missing. "
                "Must be one of 'languages'.",
            ),
            "bench": _ref("bench"),
            "fixtures": _id_map("Fixtures", "The jigs and carriers with a marker, by id.", "fixture"),
            "variants": _id_map(
                "Variants", "The versions of the product, by id. Leave out if there is one.", "variant"
            ),
            "parts": _id_map("Parts", "The parts, by id.", "part"),
            "zones": _id_map("Zones", "Bins and places on the bench or jig, by id.", "zone"),
            "steps": {
                "description": "The steps, in the order they are done.",
                "type": "array",
                "items": _ref("step"),
                "minItems": 1,
            },
        },
        ("format", "product", "version", "languages", "default_language", "bench", "steps"),
    )
    return {"$schema": DRAFT, "$id": SCHEMA_ID, **top, "$defs": defs}


def schema_json() -> str:
    """The schema as text, exactly as ``oss schema`` prints it (with a final newline)."""
    return json.dumps(instruction_schema(), indent=2) + "\n"


def write_schema(path: str | Path) -> Path:
    """Write the schema to ``path`` (``docs/instruction.schema.json`` in the repository)."""
    out = Path(path)
    out.write_text(schema_json(), encoding="utf-8")
    return out
