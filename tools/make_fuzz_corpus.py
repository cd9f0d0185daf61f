"""Write the fuzz corpus of broken OSS files (issue 21) into tests/fuzz/corpus/.

python tools/make_fuzz_corpus.py [--out DIR]

One folder per kind of file OSS reads: instruction, scenario, station, profiles, calibration, taught
(taught looks). Every file is broken in one way, taken from the real samples (the LED fixture, its
scenario, the example calibration) or written from scratch for the YAML classes every reader shares:
deep nesting under the size cap, too many values, alias bombs, NUL and control bytes, non-UTF-8,
tags, huge and infinite numbers, folders where a file belongs. ``MANIFEST.tsv`` lists each with the
line the reader must name (0: no line, a binary file) and a fragment of the message.

Hand-written cases sit beside them as ``hand-*.yaml`` with their expectation in the first line
(``# expect: LINE fragment``); this script leaves them alone. tests/fuzz/test_corpus.py runs every
file through its reader and its command and checks that this script's output is what is committed.
"""

from __future__ import annotations

import argparse
import io
import shutil
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "instructions" / "led_fixture.yaml"
CALIBRATION = ROOT / "calibration" / "sim-led_basic-v001.yaml"
OUT = ROOT / "tests" / "fuzz" / "corpus"
KINDS = ("instruction", "scenario", "station", "profiles", "calibration", "taught")
DEEP = 50_000  # levels of flow nesting: ~100 kB, far under the 2 MB size cap
MANY = 210_000  # values: more than the 200000 a file may have

SCENARIO = "format: 1\ninstructions: instructions/led_fixture.yaml\nvariant: w40\ncycles: 2\nseed: 1\n"
STATION = "station: {id: st1}\nprojector: {display: none}\n"
PROFILES = "format: 1\noperators:\n  anna: {name: Anna de Vries, language: nl}\n  bo: {name: Bo}\n"
TAUGHT = (
    "# Taught by 'oss teach'\nformat: 1\nlayout_key: {LAYOUT_KEY}\ncontent_hash: abc\nvariant: w40\n"
    "mm_per_px: 2.0\n"
)
BASES = {
    "instruction": lambda: SAMPLE.read_text(),
    "scenario": lambda: SCENARIO,
    "station": lambda: STATION,
    "profiles": lambda: PROFILES,
    "calibration": lambda: CALIBRATION.read_text(),
    "taught": lambda: TAUGHT,
}
# a key of each kind whose value the generic cases replace (it is on the line they report)
VALUE_KEY = {
    "instruction": "version",
    "scenario": "cycles",
    "station": "projector",
    "profiles": "operators",
    "calibration": "camera_size",
    "taught": "mm_per_px",
}


class Corpus:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.rows: list[tuple[str, str, int, str]] = []

    def add(self, kind: str, name: str, data: str | bytes, line: int, says: str) -> None:
        path = self.out / kind / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        self.rows.append((kind, name, line, says))

    def edit(
        self,
        kind: str,
        name: str,
        old: str,
        new: str,
        says: str,
        after: str = "",
        offset: int = 0,
        line: int = 0,
    ) -> None:
        """The kind's base text with ``old`` (the first after ``after``) replaced; the problem is on ``old``'s
        line plus ``offset`` (or on ``line``)."""
        text = BASES[kind]()
        i = text.index(old, text.index(after) if after else 0)
        at = line or text.count("\n", 0, i) + 1 + offset
        self.add(kind, name + ".yaml", text[:i] + new + text[i + len(old) :], at, says)

    def append(self, kind: str, name: str, tail: str, says: str, offset: int = 0, line: int = -1) -> None:
        """The kind's base text with ``tail`` added; the problem is on the first line of ``tail`` plus
        ``offset`` (or on ``line``; 0: a file without lines)."""
        text = BASES[kind]()
        if not text.endswith("\n"):
            text += "\n"
        at = line if line >= 0 else text.count("\n") + 1 + offset
        self.add(kind, name + ".yaml", text + tail, at, says)

    def manifest(self) -> None:
        lines = ["# kind\tfile\tline (0: none)\tthe message says"]
        lines += [f"{k}\t{n}\t{line}\t{says}" for k, n, line, says in sorted(self.rows)]
        (self.out / "MANIFEST.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def value_line(kind: str) -> tuple[str, int]:
    """The base text up to the generic value key (replaced), and that key's line."""
    text = BASES[kind]()
    key = VALUE_KEY[kind]
    i = text.index(f"\n{key}:") + 1 if not text.startswith(f"{key}:") else 0
    return text[:i], text.count("\n", 0, i) + 1


def rest_after(kind: str) -> str:
    """The base text after the generic value key's line (or block)."""
    text = BASES[kind]()
    key = VALUE_KEY[kind]
    i = text.index(f"\n{key}:") + 1 if not text.startswith(f"{key}:") else 0
    j = text.index("\n", i) + 1
    while j < len(text) and text[j] in " -":  # the block under the key
        j = text.index("\n", j) + 1
    return text[j:]


def generic(c: Corpus, kind: str) -> None:
    """The YAML classes every reader shares, on the kind's own file."""
    head, line = value_line(kind)
    tail = rest_after(kind)
    key = VALUE_KEY[kind]

    def val(name: str, value: str, says: str, at_line: int = line) -> None:
        c.add(kind, f"yaml-{name}.yaml", f"{head}{key}: {value}\n{tail}", at_line, says)

    val("deep-flow-lists", "[" * DEEP + "]" * DEEP, "nested more than 40 levels")
    val("deep-flow-mappings", "{a: " * DEEP + "}" * DEEP, "nested more than 40 levels")
    block = "".join(f"\n{'  ' * (i + 1)}k{i}:" for i in range(60)) + " 1"
    val("deep-block", block, "nested more than 40 levels", line + 39)
    val("too-many-values", "[" + ",".join(["0"] * MANY) + "]", "more than 200000 values")
    val("python-name-tag", "!!python/name:os.system ''", "YAML tags like '!!python/name:os.system'")
    val("python-apply-tag", "!!python/object/apply:os.system ['echo hacked']", "YAML tags like")
    val("custom-tag", "!include secrets.yaml", "YAML tags like '!include'")
    val("binary-tag", "!!binary aGVsbG8=", "YAML tags like '!!binary'")
    val("nul-byte", "a\x00b", "a NUL byte here")
    val("control-char", "bell\x07", "the control character #x0007 here")
    val("unclosed-quote", '"never closed', "YAML syntax error", -1)  # -1: any line (where libyaml stops)
    val("unclosed-bracket", "[1, 2", "YAML syntax error", -1)
    val("tab-indent", "\n\t- 1", "YAML syntax error", line + 1)
    c.add(
        kind,
        "yaml-not-utf8.yaml",
        (head + f"{key}: caf").encode() + b"\xe9\n" + tail.encode(),
        line,
        "is not UTF-8",
    )
    bomb = "\n".join(
        [f"a0: &a0 [{', '.join(['x'] * 10)}]"]
        + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    )
    c.add(kind, "yaml-alias-bomb.yaml", bomb + "\n", 1, "more than 200000 values (too many aliases?)")
    c.add(kind, "yaml-empty.yaml", "", 1, "is empty")
    c.add(kind, "yaml-only-comments.yaml", "# nothing here\n# at all\n", 1, "is empty")
    c.add(kind, "yaml-two-documents.yaml", head + f"{key}: 1\n---\nmore: 2\n", line + 1, "YAML syntax error")
    c.add(kind, "yaml-top-level-list.yaml", "- a\n- b\n", 1, "")
    c.add(kind, "yaml-top-level-text.yaml", "just some words\n", 1, "")
    c.add(kind, "yaml-binary-garbage.yaml", bytes(range(256)) * 8, 2, "is not UTF-8")  # 0x80 after the \n
    folder = c.out / kind / "yaml-a-folder.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "README").write_text("A folder named like a file: the reader must say it is a folder.\n")
    c.rows.append((kind, "yaml-a-folder.yaml", 1, "this is a folder, not a file"))


NUMBERS = {
    "400-digits": "9" * 400,
    "5000-digits": "7" * 5000,
    "inf": "1.0e+400",
    "minus-inf": "-1.0e+400",
    "nan": ".nan",
    "dot-inf": ".inf",
    "huge-hex": "0x" + "f" * 300,
}


def numbers(
    c: Corpus, kind: str, old: str, key: str, says: str, after: str = "", only: tuple[str, ...] = ()
) -> None:
    """``old`` (``key: value``) with each hostile number."""
    for name, value in NUMBERS.items():
        if only and name not in only:
            continue
        c.edit(kind, f"num-{key}-{name}", old, f"{key}: {value}", says.format(name=name), after)


def instruction(c: Corpus) -> None:
    k = "instruction"
    numbers(c, k, "width_mm: 1200", "width_mm", "bench width_mm must be")
    numbers(c, k, "expected_s: 7", "expected_s", "expected_s must be", only=("400-digits", "inf", "nan"))
    numbers(c, k, "marker: 7", "marker", "marker must be", only=("400-digits", "5000-digits", "minus-inf"))
    numbers(c, k, "dwell_s: 1.0", "dwell_s", "dwell_s must be", only=("400-digits", "inf"))
    numbers(c, k, "format: 1", "format", "format must be", only=("5000-digits",))
    e = c.edit
    e(
        k,
        "count-repeat-billion",
        "expected_s: 6",
        "repeat: 1000000000",
        "repeat must be at most 100",
        "- id: thermal_pad",
    )
    e(
        k,
        "count-repeat-101",
        "expected_s: 6",
        "repeat: 101",
        "repeat must be at most 100",
        "- id: thermal_pad",
    )
    e(k, "count-repeat-zero", "expected_s: 6", "repeat: 0", "repeat must be at least 1", "- id: thermal_pad")
    e(
        k,
        "count-pick-billion",
        "pick: {bin: bin_pad}",
        "pick: {bin: bin_pad, count: 1000000000}",
        "count must be at most 100",
    )
    e(
        k,
        "count-number-value",
        "number: $each",
        "number: {zone: $each, value: 100000}",
        "value must be at most 9999",
    )
    each = ", ".join(["led_hole_1"] * 1200)
    steps_line = SAMPLE.read_text().split("\nsteps:")[0].count("\n") + 2
    e(
        k,
        "count-each-1200-run-steps",
        "each: [led_hole_1, led_hole_2, led_hole_3, led_hole_4]",
        f"each: [{each}]",
        "at most 1000 are allowed",
        line=steps_line,
    )
    e(k, "range-bench-10-km", "depth_mm: 700", "depth_mm: 10000000", "bench depth_mm must be at most 5000")
    e(
        k,
        "range-marker-size-zero",
        "marker_size_mm: 40",
        "marker_size_mm: 0",
        "marker_size_mm must be more than 0",
    )
    e(k, "range-height-negative", "angle_deg: 0", "height_mm: -5", "height_mm must be at least 0")
    e(
        k,
        "range-timer-a-year",
        "- id: unload",
        "- id: wait\n    text: Wait\n    done: {timer: 31536000}\n  - id: unload",
        "timer seconds must be at most 86400",
        offset=2,
    )
    e(
        k,
        "range-rect-huge",
        "rect: [30, 540, 220, 140]",
        "rect: [30, 540, 1.0e+300, 140]",
        "rect must be at most",
    )
    e(k, "range-point-inf", "at: [400, 200]", "at: [.inf, 200]", "at x must be at most")
    e(k, "marker-outside-dictionary", "marker: 7", "marker: 60", "marker 60 is not in DICT_4X4_50")
    e(
        k,
        "marker-outside-apriltag",
        "marker: 7",
        "marker: 30\n    dictionary: DICT_APRILTAG_16h5",
        "marker 30 is not in",
    )
    e(
        k,
        "media-not-an-image",
        "pictogram: media/housing.png",
        "pictogram: media/notes.png",
        "is not an image",
    )
    e(
        k,
        "media-absolute",
        "pictogram: media/housing.png",
        "pictogram: /etc/hostname",
        "must be inside the instruction's folder",
    )
    e(
        k,
        "media-up-and-out",
        "pictogram: media/housing.png",
        "pictogram: ../media/housing.png",
        "must be inside the instruction's folder",
    )
    e(k, "media-a-folder", "pictogram: media/housing.png", "pictogram: media", "is a folder, not a picture")
    e(k, "media-missing", "pictogram: media/housing.png", "pictogram: media/nothing.png", "not found")
    e(k, "media-huge-image", "pictogram: media/housing.png", "pictogram: media/huge.png", "million pixels")
    e(
        k,
        "media-nul-in-name",
        "pictogram: media/housing.png",
        'pictogram: "media/hous\\0ing.png"',
        "a NUL character",
    )
    e(k, "format-2", "format: 1", "format: 2", "format 2 is not known")
    e(k, "format-text", "format: 1", "format: one", "format must be a whole number")
    e(k, "long-unknown-key", "expected_s: 7", "x" * 1000 + ": 7", "characters)")  # libyaml: keys < 1024
    e(k, "long-id", "id: sl40-street-light", "id: " + "a" * 300_000, "must be at most 100 characters")
    e(
        k,
        "long-text",
        "text: {en: Put the housing in the jig",
        "text: {en: " + "word " * 60_000,
        "at most 2000 characters",
    )
    e(k, "duplicate-step", "- id: thermal_pad", "- id: housing", "step id 'housing' is used twice")
    e(k, "bad-colour", 'color: "#9aa3ad"', 'color: "#zzzzzz"', "must be a colour")
    e(k, "condition-unknown", "pick: {bin: bin_pad}", "pik: {bin: bin_pad}", "unknown condition 'pik'")
    e(
        k,
        "zone-outside-bench",
        "rect: [1070, 540, 110, 140]",
        "rect: [1150, 540, 110, 140]",
        "reaches outside the 1200 x 700 mm bench",
    )
    e(k, "language-not-a-code", "languages: [en, nl]", "languages: [en, klingon]", "is not a language code")
    e(k, "steps-not-a-list", "steps:", "steps: 5\nold_steps:", "steps must be a list")
    e(k, "bool-for-number", "expected_s: 7", "expected_s: yes", "expected_s must be a number")
    e(k, "list-for-number", "expected_s: 7", "expected_s: [7]", "expected_s must be a number")
    e(k, "negative-expected", "expected_s: 7", "expected_s: -7", "expected_s must be more than 0")


def scenario(c: Corpus) -> None:
    k = "scenario"
    e, a = c.edit, c.append
    numbers(
        c,
        k,
        "cycles: 2",
        "cycles",
        "cycles must be a whole number from 1 to 1000",
        only=("400-digits", "5000-digits", "inf"),
    )
    numbers(
        c, k, "seed: 1", "seed", "seed must be a whole number from 0 to", only=("400-digits", "minus-inf")
    )
    e(
        k,
        "count-cycles-billion",
        "cycles: 2",
        "cycles: 1000000000",
        "cycles must be a whole number from 1 to 1000",
    )
    e(k, "count-cycles-zero", "cycles: 2", "cycles: 0", "cycles must be a whole number from 1 to 1000")
    a(
        k,
        "size-camera-100000",
        "camera: {size: [100000, 100000]}\n",
        "camera.size must be whole numbers from 16 to 4096",
    )
    a(k, "size-camera-zero", "camera: {size: [0, 0]}\n", "camera.size must be whole numbers from 16 to 4096")
    a(k, "size-camera-fraction", "camera: {size: [640.5, 480]}\n", "camera.size must be whole numbers")
    a(
        k,
        "size-projector-huge",
        "projector: {size: [1280, 1000000000]}\n",
        "projector.size must be whole numbers from 16 to 4096",
    )
    a(
        k,
        "size-camera-inf",
        "camera: {size: [1.0e+400, 480]}\n",
        "camera.size must be whole numbers from 16 to 4096",
    )
    a(k, "num-time-limit-400-digits", "time_limit_s: " + "9" * 400 + "\n", "time_limit_s is 99999")
    a(k, "num-time-limit-inf", "time_limit_s: 1.0e+400\n", "time_limit_s is 1.0e+400")
    a(k, "num-time-limit-nan", "time_limit_s: .nan\n", "time_limit_s must be a number")
    a(k, "num-fps-inf", "camera: {fps: 1.0e+400}\n", "camera.fps is 1.0e+400")
    a(k, "num-position-inf", "camera: {position_mm: [0, 0, 1.0e+400]}\n", "camera.position_mm[2] is 1.0e+400")
    a(k, "num-focal-400-digits", "camera: {focal_px: " + "9" * 400 + "}\n", "camera.focal_px is 99999")
    a(k, "num-ambient-nan", "lighting: {ambient: .nan}\n", "lighting.ambient must be a number")
    a(
        k,
        "num-drift-period-huge",
        "lighting: {drift_period_s: 1.0e+300}\n",
        "lighting.drift_period_s is 1.0e+300",
    )
    a(k, "num-operator-x-inf", "operator: {x_mm: -.inf}\n", "operator.x_mm is -.inf")
    a(k, "pick-range-backwards", "operator: {pick_s: [5, 1]}\n", "must be [shortest, longest]")
    a(k, "colour-not-hex", "operator: {skin: pink}\n", "operator.skin must be a colour")
    a(k, "deviation-unknown", "deviations:\n  - explode: {step: housing}\n", "unknown deviation 'explode'", 1)
    a(k, "nul-in-path", 'description: "a\\0b"\n', "a NUL character")
    a(
        k,
        "deviation-cycle-400-digits",
        "deviations:\n  - hesitate: {step: housing, cycle: " + "9" * 400 + "}\n",
        "hesitate.cycle must be",
        1,
    )
    a(
        k,
        "deviation-seconds-inf",
        "deviations:\n  - hesitate: {step: housing, seconds: 1.0e+400}\n",
        "hesitate.seconds is 1.0e+400",
        1,
    )
    a(
        k,
        "deviation-unknown-step",
        "deviations:\n  - hesitate: {step: nap}\n",
        "step 'nap' is not a step of this variant",
        1,
    )
    e(k, "variant-unknown", "variant: w40", "variant: w80", "variant 'w80' is not in the instruction")
    e(
        k,
        "instructions-a-folder",
        "instructions: instructions/led_fixture.yaml",
        "instructions: instructions",
        "is a folder",
    )
    e(
        k,
        "instructions-missing",
        "instructions: instructions/led_fixture.yaml",
        "instructions: instructions/nope.yaml",
        "not found",
    )
    e(k, "format-2", "format: 1", "format: 2", "unknown format")
    a(k, "unknown-key", "camra: {fps: 30}\n", "unknown key 'camra'")


def station(c: Corpus) -> None:
    k = "station"
    a = c.append
    a(k, "num-fps-400-digits", "camera: {fps: " + "9" * 400 + "}\n", "fps must be at most 1000")
    a(k, "num-fps-inf", "camera: {fps: 1.0e+400}\n", "fps must be at most 1000")
    a(k, "num-fps-nan", "camera: {fps: .nan}\n", "fps must be a number")
    a(k, "num-exposure-5000-digits", "camera: {exposure: -" + "7" * 5000 + "}\n", "exposure must be at least")
    a(k, "num-white-balance-negative", "camera: {white_balance: -1}\n", "white_balance must be more than 0")
    a(k, "size-camera-width-billion", "camera: {width: 1000000000}\n", "width must be at most 8192")
    a(k, "size-camera-height-zero", "camera: {height: 0}\n", "height must be at least 16")
    a(
        k,
        "monitor-screen-400-digits",
        "log: log.sqlite\ndevices: []\nlanguage: en\nhands: {}\nmonitor: {screen: " + "9" * 400 + "}\n",
        "screen must be at most 64",
        4,
    )
    a(k, "password-in-url", 'fleet: {dsn: "postgresql://oss:secret@fleet/oss"}\n', "don't write the password")
    a(
        k,
        "password-key-value",
        'fleet: {dsn: "host=fleet dbname=oss password=secret"}\n',
        "don't write the password",
    )
    a(
        k,
        "password-query",
        'fleet: {dsn: "postgresql://oss@fleet/oss?password=secret"}\n',
        "don't write the password",
    )
    a(
        k,
        "password-query-amp",
        'fleet: {dsn: "postgresql://oss@fleet/oss?sslmode=require&password=secret"}\n',
        "don't write the password",
    )
    a(k, "language-klingon", "language: klingon\n", "language 'klingon' is not a language code")
    a(k, "language-empty", 'language: ""\n', "language must be a text")
    a(
        k,
        "language-not-in-instruction",
        "language: fr\n",
        "language 'fr' is not one of the instruction's languages",
    )
    a(
        k,
        "calibration-missing",
        "camera: {source: frames}\ncalibration: cal/nope.yaml\n",
        "calibration file",
        1,
    )
    devices = "devices:\n" + "".join(f"  - {{kind: pedal, port: /dev/oss-{i}}}\n" for i in range(40))
    a(k, "count-40-devices", devices, "a station has at most 32 devices", 1)
    a(
        k,
        "device-kind-unknown",
        "devices:\n  - {kind: toaster, port: /dev/ttyUSB0}\n",
        "device kind must be one of",
        1,
    )
    a(
        k,
        "device-lamp-400-digits",
        "devices:\n  - {kind: picklight, port: /dev/x, lamps: {bin_a: " + "9" * 400 + "}}\n",
        "lamp index of 'bin_a' must be at most",
        1,
    )
    a(
        k,
        "device-button-billion",
        "devices:\n  - {kind: buttonbox, port: /dev/x, buttons: {1000000000: next}}\n",
        "button input number must be at most",
        1,
    )
    a(k, "monitor-pin-letters", 'monitor: {pin: "12ab"}\n', "pin must be 4 to 12 digits")
    a(k, "nul-in-log-path", 'log: "out/st\\0.sqlite"\n', "a NUL character")
    a(k, "hands-tracking-maybe", "hands: {tracking: maybe}\n", "tracking must be true or false")
    a(k, "unknown-key", "camra: {fps: 30}\n", "unknown key 'camra'")
    c.edit(k, "station-id-bad", "station: {id: st1}", "station: {id: 3 x}", "station id must be an id")


def profiles(c: Corpus) -> None:
    k = "profiles"
    e, a = c.edit, c.append
    for name, value in NUMBERS.items():
        a(k, f"num-volume-{name}", f"  cy: {{name: Cy, volume: {value}}}\n", "volume must be")
    a(k, "language-klingon", "  cy: {name: Cy, language: klingon}\n", "is not a language code")
    a(k, "text-size-huge", "  cy: {name: Cy, text_size: enormous}\n", "text_size must be one of")
    a(k, "photo-not-an-image", "  cy: {name: Cy, photo: notes.png}\n", "photo 'notes.png' is not an image")
    a(k, "photo-a-folder", "  cy: {name: Cy, photo: photos}\n", "photo 'photos' is a folder")
    a(
        k,
        "badge-twice",
        '  cy: {name: Cy, badge: "42"}\n  dy: {name: Dy, badge: "42"}\n',
        "badge 42 is given to 'cy' and 'dy'",
        line=1,
    )
    a(k, "id-bad", "  3 x: {name: Cy}\n", "is not a valid id")
    e(k, "format-2", "format: 1", "format: 2", "format must be 1")
    e(k, "operators-a-list", "operators:\n", "operators: [anna, bo]\nold:\n", "operators must be a mapping")


def calibration(c: Corpus) -> None:
    k = "calibration"
    e = c.edit
    e(
        k,
        "num-camera-size-400-digits",
        "- 1280\n- 720\nprojector",
        "- " + "9" * 400 + "\n- 720\nprojector",
        "camera_size must be at most 8192",
    )
    e(
        k,
        "num-camera-size-zero",
        "- 1280\n- 720\nprojector",
        "- 0\n- 720\nprojector",
        "camera_size must be at least 16",
    )
    e(
        k,
        "num-projector-size-huge",
        "- 1280\n- 800\n",
        "- 100000\n- 800\n",
        "projector_size must be at most 8192",
    )
    e(k, "num-bench-inf", "- 1200.0\n- 700.0", "- 1.0e+400\n- 700.0", "bench_size_mm must be at most 5000")
    e(k, "num-bench-negative", "- 1200.0\n- 700.0", "- -5\n- 700.0", "bench_size_mm must be more than 0")
    e(
        k,
        "num-matrix-nan",
        "- 1.0\nproj_from_bench",
        "- .nan\nproj_from_bench",
        "cam_from_bench must be a number",
    )
    e(
        k,
        "num-matrix-5000-digits",
        "- 1.0\nproj_from_bench",
        "- " + "7" * 5000 + "\nproj_from_bench",
        "cam_from_bench must be at most",
    )
    e(
        k,
        "shape-matrix-2-rows",
        "- - 0.9509746801562458\n  - 0.03984017569523737\n",
        "- - 0.9509746801562458\n",
        "3 rows of 3 numbers",
    )
    e(
        k,
        "shape-sizes-3",
        "- 1280\n- 720\nprojector",
        "- 1280\n- 720\n- 3\nprojector",
        "camera_size must be [width, height]",
    )
    e(
        k,
        "shape-dist-7",
        "dist_coeffs:\n- -0.07384747219430965",
        "dist_coeffs:\n- 1\n- 2\n- -0.07384747219430965",
        "dist_coeffs must be 4 or 5 or 8 or 12 or 14 numbers",
        offset=1,
    )
    e(
        k,
        "text-in-matrix",
        "- 1.0\nproj_from_bench",
        "- one\nproj_from_bench",
        "cam_from_bench must be a number",
    )
    e(k, "format-2", "format: 1", "format: 2", "not an OSS calibration file of format 1")
    first = next(i for i, t in enumerate(CALIBRATION.read_text().splitlines(), 1) if not t.startswith("#"))
    e(k, "missing-bench", "bench_size_mm:\n- 1200.0\n- 700.0\n", "", "needs 'bench_size_mm'", line=first)
    model = CALIBRATION.read_text().split("\nprojector_model:")[0].count("\n") + 2
    e(k, "model-missing-key", "  proj_rvec:", "  proj_rvek:", "projector_model needs 'proj_rvec'", line=model)
    e(k, "report-a-list", "report:", "report: [1, 2]\nold_report:", "report must be a mapping")
    c.append(
        k,
        "radiometry-outside",
        "radiometry: {mm_per_px: 2.0, file: ../../etc/passwd}\n",
        "must be next to the calibration file",
    )
    c.append(
        k,
        "radiometry-mm-per-px-tiny",
        "radiometry: {mm_per_px: 0.001, file: x.npz}\n",
        "mm_per_px must be at least 0.25",
    )
    c.append(
        k,
        "radiometry-damaged",
        "radiometry: {mm_per_px: 2.0, file: damaged.npz}\n",
        "the radiometry file 'damaged.npz' is damaged",
    )
    c.append(
        k,
        "radiometry-huge-header",
        "radiometry: {mm_per_px: 2.0, file: huge.npz}\n",
        "holds 100000 x 100000 px",
    )
    c.append(k, "radiometry-pickled", "radiometry: {mm_per_px: 2.0, file: pickled.npz}\n", "is damaged")
    c.add(k, "damaged.npz", b"PK\x03\x04 this is not a zip archive", 0, "support")
    c.add(
        k,
        "huge.npz",
        npz({"black": ((100_000, 100_000, 3), "<f4"), "white": ((100_000, 100_000, 3), "<f4")}),
        0,
        "support",
    )
    c.add(
        k, "pickled.npz", npz({"black": ((350, 600, 3), "|O"), "white": ((350, 600, 3), "|O")}), 0, "support"
    )


def taught(c: Corpus) -> None:
    k = "taught"
    e, a = c.edit, c.append
    numbers(
        c,
        k,
        "mm_per_px: 2.0",
        "mm_per_px",
        "mm_per_px must be",
        only=("400-digits", "inf", "nan", "minus-inf"),
    )
    e(k, "missing-layout-key", "layout_key: {LAYOUT_KEY}\n", "", "needs 'layout_key'", line=2)
    e(
        k,
        "stale-layout",
        "layout_key: {LAYOUT_KEY}",
        "layout_key: 0123456789abcdef",
        "taught for another layout",
    )
    e(k, "content-hash-a-list", "content_hash: abc", "content_hash: [a, b]", "content_hash must be a text")
    a(k, "looks-damaged", "# looks: damaged\n", "the taught looks are damaged", line=0)
    a(k, "looks-huge-header", "# looks: huge\n", "is not a taught look", line=0)
    a(k, "looks-4d", "# looks: cube\n", "is not a taught look", line=0)
    a(k, "looks-pickled", "# looks: pickled\n", "is not a taught look", line=0)
    a(k, "looks-missing", "# looks: none\n", "not found", line=0)
    c.add(k, "damaged.npz", b"PK\x03\x04 not really", 0, "support")
    c.add(k, "huge.npz", npz({"empty/pad_place": ((100_000, 100_000), "<f4")}), 0, "support")
    c.add(k, "cube.npz", npz({"empty/pad_place": ((40, 60, 3, 2), "<f4")}), 0, "support")
    c.add(k, "pickled.npz", npz({"empty/pad_place": ((40, 60), "|O")}), 0, "support")


def npz(arrays: dict[str, tuple[tuple[int, ...], str]]) -> bytes:
    """An .npz whose arrays have these headers (shape, dtype) and next to no data: what a hostile or
    truncated file claims, without the gigabytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, (shape, descr) in arrays.items():
            h = io.BytesIO()
            np.lib.format.write_array_header_1_0(h, {"descr": descr, "fortran_order": False, "shape": shape})
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(2026, 1, 1, 0, 0, 0))
            z.writestr(info, h.getvalue() + b"\x00" * 64)
    return buf.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels: signature, IHDR and an empty IEND (no image data)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def support(out: Path) -> None:
    """Files the cases point at: pictures that are not, a picture too large, a folder of photos."""
    media = out / "instruction" / "media"
    media.mkdir(parents=True, exist_ok=True)
    (media / "notes.png").write_text("not a picture, only text with a .png name\n")
    (media / "huge.png").write_bytes(png_header(50_000, 50_000))
    (out / "profiles" / "notes.png").write_text("not a picture\n")
    (out / "profiles" / "photos").mkdir(parents=True, exist_ok=True)
    (out / "profiles" / "photos" / "README").write_text("a folder where a photo belongs\n")


WRITERS: dict[str, Callable[[Corpus], None]] = {
    "instruction": instruction,
    "scenario": scenario,
    "station": station,
    "profiles": profiles,
    "calibration": calibration,
    "taught": taught,
}


def write_corpus(out: Path) -> Corpus:
    """Write every generated case (and MANIFEST.tsv) into ``out``; hand-written ``hand-*`` files stay."""
    for kind in KINDS:
        d = out / kind
        if d.exists():
            for p in d.iterdir():
                if p.name.startswith("hand-"):
                    continue
                shutil.rmtree(p) if p.is_dir() else p.unlink()
    c = Corpus(out)
    for kind in KINDS:
        generic(c, kind)
        WRITERS[kind](c)
    support(out)
    c.manifest()
    return c


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(OUT), help="the corpus folder (default: tests/fuzz/corpus)")
    args = ap.parse_args(argv)
    c = write_corpus(Path(args.out))
    cases = [r for r in c.rows if r[3] != "support"]
    sys.stdout.write(f"{len(cases)} broken files in {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
