"""The JSON Schema (draft 2020-12) of instruction files, for editors and for structural checks.

The schema checks the shape of a file: keys, types, ranges, which keys are required. It cannot
check meaning: whether a zone that a step names exists, whether ids are unique, whether every
language has a translation. ``oss validate`` (``oss.instructions.loader``) checks those too.

It keeps to keywords that older editor validators (JSON Schema draft-07, as in the VS Code YAML
extension) also understand or may skip without rejecting a good file: ``$ref`` to ``#/$defs/...``
pointers, no ``items: false``, ``prefixItems`` only to add a check that draft-07 then leaves out.

``docs/instruction.schema.json`` is ``write_schema()``'s output and is checked in; a test keeps it
equal to ``instruction_schema()``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oss.instructions import limits as lim
from oss.instructions.model import BENCH_FRAME, EACH, FORMAT_VERSION, GUIDANCE_LEVELS, PANEL_ITEMS

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
DEFAULT_DICTIONARY = "DICT_4X4_50"
# Every cv2.aruco DICT_* name (OpenCV 4.11), in the order of their numeric values.
ARUCO_DICTIONARIES = (
    *(f"DICT_{n}X{n}_{k}" for n in (4, 5, 6, 7) for k in (50, 100, 250, 1000)),
    "DICT_ARUCO_ORIGINAL",
    *(f"DICT_APRILTAG_{c}" for t in ("16h5", "25h9", "36h10", "36h11") for c in (t.upper(), t)),
    "DICT_ARUCO_MIP_36H12",
    "DICT_ARUCO_MIP_36h12",
)

OVERLAY_KINDS = ("highlight", "outline", "arrow", "text", "image", "number")
CONDITION_KINDS = ("pick", "present", "absent", "hand_in", "press", "timer", "all", "any", "sequence")
ERROR_KINDS = ("wrong_pick",)


# ---------------------------------------------------------------------------------------------------
# Small builders


def _ref(name: str, description: str = "", **extra: Any) -> Schema:
    """A reference to ``#/$defs/name``; ``description`` is the tooltip at the place of use."""
    return {"$ref": f"#/$defs/{name}", **({"description": description} if description else {}), **extra}


def _t(type_: str, description: str, **extra: Any) -> Schema:
    """A value of one JSON type."""
    return {"description": description, "type": type_, **extra}


def _num(description: str, **extra: Any) -> Schema:
    return _t("number", description, **extra)


def _pos(description: str, **extra: Any) -> Schema:
    """A number more than 0."""
    return _t("number", description, exclusiveMinimum=0, **extra)


def _int(description: str, minimum: int, **extra: Any) -> Schema:
    return _t("integer", description, minimum=minimum, **extra)


def _list(description: str, item: Schema, min_items: int = 0) -> Schema:
    out = _t("array", description, items=item)
    if min_items:
        out["minItems"] = min_items
    return out


def _ids(description: str, item: str = "id") -> Schema:
    """A non-empty list of ids."""
    return _list(description, _ref(item), min_items=1)


def _obj(
    title: str, description: str, props: dict[str, Schema], required: tuple[str, ...] = (), **kw: Any
) -> Schema:
    """A mapping with known keys only."""
    out: Schema = {"title": title, "description": description, "type": "object"}
    if required:
        out["required"] = list(required)
    return {**out, "properties": props, "additionalProperties": False, **kw}


def _one_key(title: str, description: str, props: dict[str, Schema]) -> Schema:
    """A mapping with exactly one key, which names the kind (an overlay, a condition, an error rule)."""
    return _obj(title, description, props, minProperties=1, maxProperties=1)


def _id_map(title: str, description: str, value_def: str) -> Schema:
    """A mapping from ids to definitions."""
    names, values = _ref("id"), _ref(value_def)
    return {"title": title, **_t("object", description, propertyNames=names, additionalProperties=values)}


def _short_or_long(description: str, short: Schema, long: Schema) -> Schema:
    """A value written short (just a zone id, say) or as a mapping with more settings."""
    return {"description": description, "anyOf": [short, long]}


def _zone_short_or_long(
    title: str, description: str, props: dict[str, Schema], zone_key: str = "zone"
) -> Schema:
    """A condition or overlay written as a zone id, or as a mapping with ``zone_key`` and ``props``."""
    long = _obj(title, description, {zone_key: _ref("zoneRef"), **props}, (zone_key,))
    return _short_or_long(
        f"{description} Write the zone id, or a mapping with {zone_key} and more.", _ref("zoneRef"), long
    )


# ---------------------------------------------------------------------------------------------------
# Definitions


def _basic_defs() -> dict[str, Schema]:
    text_map = _t("object", "One text per language code.", minProperties=1, additionalProperties=False)
    text_map["patternProperties"] = {LANGUAGE_PATTERN: {"type": "string", "minLength": 1}}
    pos = {"type": "number", "exclusiveMinimum": 0}
    pair = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
    id_help = "A name used in this file: letters, digits, '_' and '-'; not starting with a digit or '-'."
    each_help = f"A zone id. In a step with 'each', '{EACH}' means the zone of the current repetition."
    frame_help = (
        f"'{BENCH_FRAME}' (mm from the bench's front-left corner) or a fixture id (mm from its marker)."
    )
    path_help = "A picture file, relative to this instruction file's folder, like media/screw.png"
    button_help = "next (pedal, button box, space bar, projected button), confirm or help."
    return {
        "id": _t("string", id_help, title="Id", pattern=ID_PATTERN),
        "zoneRef": _t("string", each_help, title="Zone", pattern=ZONE_REF_PATTERN),
        "languageCode": _t(
            "string", "A language code like en, nl or pt-BR.", title="Language", pattern=LANGUAGE_PATTERN
        ),
        "text": {
            "title": "Text",
            "description": "A text for the operator: plain text (in the default language) or one text per "
            "language, like {en: Take a screw, nl: Pak een schroef}.",
            "anyOf": [{"type": "string", "minLength": 1}, text_map],
        },
        "path": _t("string", path_help, title="File", minLength=1),
        "point": {"title": "Point [x, y]", "description": "A point [x, y] in mm.", **pair},
        "size": {"title": "Size [width, depth]", "description": "A size in mm.", **pair, "items": pos},
        "frame": _t("string", frame_help, title="Frame", pattern=ID_PATTERN, default=BENCH_FRAME),
        "hexColor": _t(
            "string", "A colour as #rrggbb (hex red, green, blue).", title="Colour", pattern=HEX_COLOR_PATTERN
        ),
        "color": {
            "title": "Colour",
            "description": f"A projected colour: {', '.join(COLOR_NAMES)}, or #rrggbb.",
            "anyOf": [{"type": "string", "enum": list(COLOR_NAMES)}, _ref("hexColor")],
        },
        "blink": _t("boolean", "true: the overlay blinks to catch the eye.", title="Blink", default=False),
        "button": _t("string", button_help, title="Button", enum=list(BUTTONS), default="next"),
        "level": _t(
            "string",
            "The guidance level with the least guidance this overlay still shows at: full (only at "
            "full guidance), reduced (also at reduced) or minimal (always). Leave out: highlight, "
            "outline and number show down to reduced, arrow, text and image only at full.",
            title="Guidance level",
            enum=list(GUIDANCE_LEVELS),
        ),
    }


def _bench_defs() -> dict[str, Schema]:
    product = _obj(
        "Product",
        "The product this file assembles.",
        {
            "id": _ref("id", "A short id of the product for logs and reports, like sl40-street-light."),
            "name": _ref("text", "The product's name as the operator sees it."),
        },
        ("id", "name"),
    )
    bench = _obj(
        "Bench",
        "The work surface the camera and projector see.",
        {
            "width_mm": _pos(
                "Width of the bench from left to right, in mm.", maximum=lim.MAX_BENCH_MM, examples=[1200]
            ),
            "depth_mm": _pos(
                "Depth from the operator's edge to the back, in mm.", maximum=lim.MAX_BENCH_MM, examples=[700]
            ),
            "surface": _t("string", "What the bench top looks like.", enum=list(SURFACES), default="light"),
        },
        ("width_mm", "depth_mm"),
    )
    dicts = list(ARUCO_DICTIONARIES)
    fixture = _obj(
        "Fixture",
        "A jig or product carrier with an ArUco marker on it. The station finds the "
        "marker, so zones given in this fixture's frame follow the jig when it moves.",
        {
            "marker": _int("The number (ArUco id) of the marker on the fixture.", 0, examples=[7]),
            "marker_size_mm": _pos(
                "Length of the side of the marker's black square, in mm.",
                maximum=lim.MAX_MARKER_MM,
                examples=[40],
            ),
            "dictionary": _t(
                "string", "The marker's ArUco dictionary.", enum=dicts, default=DEFAULT_DICTIONARY
            ),
            "at": _ref(
                "point",
                "Where the marker's centre is on the bench (mm) when the fixture stands in its usual place.",
                default=[0, 0],
            ),
            "angle_deg": _num("Turn of the fixture in its usual place: degrees, anticlockwise.", default=0),
            "height_mm": _num(
                "Height of the marker above the bench top, in mm.",
                minimum=0,
                maximum=lim.MAX_HEIGHT_MM,
                default=0,
            ),
        },
        ("marker", "marker_size_mm"),
    )
    variant = _obj(
        "Variant",
        "A version of the product (40 W or 60 W, say). Steps and parts can be limited to some variants.",
        {"name": _ref("text", "The variant's name as the operator sees it.")},
        ("name",),
    )
    part = _obj(
        "Part",
        "A part the operator builds in.",
        {
            "name": _ref("text", "The part's name as the operator sees it."),
            "bin": _ref("id", "The zone of the bin this part is taken from."),
            "image": _ref("path", "A picture of the part."),
            "color": _ref("hexColor", "The part's colour (for the virtual bench and contrast checks)."),
            "size_mm": _ref("size", "The size of one part lying on the bench, [width, depth] in mm."),
            "variants": _ids("Only these variants use the part. Leave out: every variant."),
        },
        ("name",),
    )
    return {
        "product": product,
        "bench": bench,
        "fixture": fixture,
        "variant": variant,
        "part": part,
        "zone": _zone_def(),
    }


def _zone_def() -> Schema:
    rect = _t(
        "array",
        "A rectangle [x, y, width, height] in mm; x, y is its corner with the smallest "
        "coordinates (the front-left one in the bench frame).",
        items={"type": "number"},
        prefixItems=[
            {"type": "number"},
            {"type": "number"},
            {"type": "number", "exclusiveMinimum": 0},
            {"type": "number", "exclusiveMinimum": 0},
        ],
        minItems=4,
        maxItems=4,
        examples=[[30, 380, 130, 120]],
    )
    polygon = _list(
        "A shape with straight sides: at least 3 corners [x, y] in mm, in order around it.",
        _ref("point"),
        min_items=3,
    )
    zone = _obj(
        "Zone",
        "A place on the bench: a bin, a place on the jig, a spot to touch. Give it with either "
        "'rect' or 'polygon' (not both).",
        {
            "rect": rect,
            "polygon": polygon,
            "frame": _ref("frame"),
            "bin": _t("boolean", "true: this zone is a bin that parts are picked from.", default=False),
            "part": _ref("id", "For a bin: the part it holds."),
            "label": _ref("text", "A short name for the zone, shown to the operator."),
        },
    )
    zone["oneOf"] = [{"required": ["rect"]}, {"required": ["polygon"]}]
    return zone


def _overlay_defs() -> dict[str, Schema]:
    def look(color: str) -> dict[str, Schema]:
        return {"color": _ref("color", default=color), "blink": _ref("blink"), "level": _ref("level")}

    def placed(what: str, size: str, size_default: float) -> dict[str, Schema]:
        return {
            "at": _ref("point", f"Where the {what} goes: [x, y] in mm, in 'frame'."),
            "frame": _ref("frame"),
            "size_mm": _pos(size, maximum=lim.MAX_OVERLAY_MM, default=size_default),
        }

    value = _int(
        "The number to show; 0 (the default) shows the repetition number.",
        0,
        maximum=lim.MAX_SHOWN_NUMBER,
        default=0,
    )
    overlays: dict[str, Schema] = {
        "highlight": _zone_short_or_long(
            "Highlight", "Fills a zone with colour (default green).", look("green")
        ),
        "outline": _zone_short_or_long("Outline", "Draws the edge of a zone (default white).", look("white")),
        "arrow": _obj(
            "Arrow",
            "An arrow from one zone to another (default yellow), such as from a bin to its place on the jig.",
            {
                "from": _ref("zoneRef", "The zone the arrow starts at."),
                "to": _ref("zoneRef", "The zone the arrow points to."),
                **look("yellow"),
            },
            ("from", "to"),
        ),
        "text": _obj(
            "Text on the bench",
            "Words projected onto the bench.",
            {"text": _ref("text"), **placed("text", "Height of the letters in mm.", 25), **look("white")},
            ("text", "at"),
        ),
        "image": _obj(
            "Picture on the bench",
            "A picture projected onto the bench.",
            {
                "image": _ref("path"),
                **placed("picture", "How large the picture is drawn, in mm.", 80),
                "blink": _ref("blink"),
                "level": _ref("level"),
            },
            ("image", "at"),
        ),
        "number": _zone_short_or_long(
            "Number", "Draws a large number in a zone (screw 3 of 4, say).", {"value": value, **look("white")}
        ),
    }
    what = "One thing projected during the step: write one of " + ", ".join(OVERLAY_KINDS) + "."
    return {"overlay": _one_key("Overlay", what, overlays)}


def _condition_defs() -> dict[str, Schema]:
    def many(description: str) -> Schema:
        return _list(description, _ref("condition"), min_items=1)

    unseen = "decided only while no hand covers the zone."
    seconds = _pos("Seconds to wait.", maximum=lim.MAX_SECONDS)
    kinds: dict[str, Schema] = {
        "pick": _zone_short_or_long(
            "Pick",
            "A hand reaches into a bin and leaves it again.",
            {"count": _int("How many picks are needed.", 1, maximum=lim.MAX_PICK_COUNT, default=1)},
            "bin",
        ),
        "present": _zone_short_or_long(
            "Present",
            f"The zone looks different from when the step began (a part was put there), {unseen}",
            {"part": _ref("id", "The part that is put there.")},
        ),
        "absent": _zone_short_or_long(
            "Absent", f"The zone looks like the empty jig again (the product was taken off), {unseen}", {}
        ),
        "hand_in": _zone_short_or_long(
            "Hand in zone",
            "A hand stays in the zone for dwell_s seconds.",
            {
                "dwell_s": _num(
                    "How long the hand must stay, in seconds.",
                    minimum=0,
                    maximum=lim.MAX_DWELL_S,
                    default=0.5,
                )
            },
        ),
        "press": _short_or_long(
            "The operator presses a button. Write next, confirm or help, or {button}.",
            _ref("button"),
            _obj("Press", "A button press.", {"button": _ref("button")}, ("button",)),
        ),
        "timer": _short_or_long(
            "A number of seconds passes. Write the seconds, or {seconds}.",
            seconds,
            _obj("Timer", "Waiting.", {"seconds": seconds}, ("seconds",)),
        ),
        "all": many("Done when all of these are met, in any order."),
        "any": many("Done when one of these is met."),
        "sequence": many(
            "Done when these are met one after the other: each counts only after the one before."
        ),
    }
    what = "When the step is done: write one of " + ", ".join(CONDITION_KINDS) + "."
    return {"condition": _one_key("Condition", what, kinds)}


def _step_defs() -> dict[str, Schema]:
    wrong_pick = _obj(
        "Wrong pick",
        "A pick from a bin that this step does not use.",
        {
            "hint": _ref("text", "What the operator sees after the wrong pick."),
            "allowed_bins": _ids(
                "Bins that are no mistake. Leave out: the bins the step's 'done' picks from.", "zoneRef"
            ),
        },
        ("hint",),
    )
    error_rule = _one_key(
        "Error rule",
        "What counts as a mistake in this step, and the hint the operator then sees.",
        {"wrong_pick": wrong_pick},
    )
    panel_item = _t(
        "string",
        "text: the step text; pictogram: the step's pictogram or image; animation: moving guidance "
        "(a dot running along the arrows, pulsing zones).",
        enum=list(PANEL_ITEMS),
    )
    panel_list = {"type": "array", "items": panel_item, "uniqueItems": True}
    guidance = _obj(
        "Guidance per level",
        "What the operator panel shows at each guidance level. Leave a level out for its default: "
        "full shows text, pictogram and animation; reduced and minimal show none of them.",
        {
            "full": {**panel_list, "description": "Shown at full guidance (new operators)."},
            "reduced": {**panel_list, "description": "Shown at reduced guidance."},
            "minimal": {
                **panel_list,
                "description": "Shown at minimal guidance (until the operator hesitates or errs).",
            },
        },
    )
    step = _obj(
        "Step",
        "One step of the assembly: what the operator reads and sees, and when it is done.",
        {
            "id": _ref("id", "A short name for the step, unique in this file, used in logs and reports."),
            "text": _ref("text", "The instruction the operator reads."),
            "pictogram": _ref("path", "A small picture shown with the text."),
            "image": _ref("path", "A larger picture or photo for the step."),
            "show": _list("What is projected onto the bench during the step.", _ref("overlay")),
            "done": _ref("condition", "When the step is done."),
            "expected_s": _pos("How many seconds the step normally takes.", maximum=lim.MAX_SECONDS),
            "errors": _list("Mistakes to watch for, each with a hint.", _ref("errorRule")),
            "variants": _ids("Only these variants do this step. Leave out: every variant."),
            "repeat": _int(
                "How many times the step is done in a row (not together with 'each').",
                1,
                maximum=lim.MAX_REPEAT,
                default=1,
            ),
            "each": _ids(
                f"Do the step once for each of these zones, in order; '{EACH}' in the step means the "
                "current one (not together with 'repeat').",
                "zoneRef",
            ),
            "guidance": guidance,
        },
        ("id", "text", "done"),
        **{"not": {"required": ["repeat", "each"]}},
    )
    return {"errorRule": error_rule, "step": step}


# ---------------------------------------------------------------------------------------------------
# The schema


def instruction_schema() -> Schema:
    """The JSON Schema (draft 2020-12) of an OSS instruction file, format version 1."""
    defs = {**_basic_defs(), **_bench_defs(), **_overlay_defs(), **_condition_defs(), **_step_defs()}
    top = _obj(
        "OSS instruction",
        "How one product is assembled at an OSS station: the bench, parts, bins "
        "and zones, and the steps with what the projector shows and when each step is done. Lengths "
        "are mm on the bench: x to the operator's right, y away from the operator, from the bench's "
        "front-left corner. The schema checks the shape of the file; 'oss validate' also checks that "
        "every name used is defined.",
        {
            "format": {"description": "The version of this file format. Write 1.", "const": FORMAT_VERSION},
            "product": _ref("product"),
            "version": _t(
                "string",
                "This instruction's own version; raise it whenever you change the file. "
                'Write it in quotes, like "1.2".',
                minLength=1,
            ),
            "languages": _list(
                "The languages this file has texts in, like [en, nl].",
                _ref("languageCode"),
                min_items=1,
            ),
            "default_language": _ref(
                "languageCode",
                "The language of texts written without a language code. One of 'languages'.",
            ),
            "bench": _ref("bench"),
            "fixtures": _id_map("Fixtures", "The jigs and carriers with a marker, by id.", "fixture"),
            "variants": _id_map(
                "Variants", "The versions of the product, by id. Leave out if there is one.", "variant"
            ),
            "parts": _id_map("Parts", "The parts, by id.", "part"),
            "zones": _id_map("Zones", "Bins and places on the bench or jig, by id.", "zone"),
            "steps": _list("The steps, in the order they are done.", _ref("step"), min_items=1),
        },
        ("format", "product", "version", "languages", "default_language", "bench", "steps"),
    )
    return {"$schema": DRAFT, "$id": SCHEMA_ID, **top, "$defs": defs}


def schema_json() -> str:
    """The schema as text, exactly as ``oss schema`` prints it (JSON, indent 2, final newline)."""
    return json.dumps(instruction_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(path: str | Path) -> Path:
    """Write the schema to ``path`` (``docs/instruction.schema.json`` in the repository)."""
    out = Path(path)
    out.write_text(schema_json(), encoding="utf-8")
    return out
