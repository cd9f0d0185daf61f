"""Broken copies of the LED fixture sample, each with the line its problem is on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.conftest import SAMPLE


@dataclass(frozen=True)
class Breakage:
    name: str
    old: str  # text in the sample (first occurrence after `after`)
    new: str
    message: str  # expected fragment of the problem message
    structural: bool  # the JSON Schema must reject it too
    after: str = ""

    def apply(self, dest_dir: Path) -> tuple[Path, int]:
        """Write the broken copy next to the sample's media; return it and the 1-based line of the change."""
        text = SAMPLE.read_text()
        start = text.index(self.after) if self.after else 0
        i = text.index(self.old, start)
        line = text.count("\n", 0, i) + 1
        broken = text[:i] + self.new + text[i + len(self.old) :]
        out = dest_dir / f"broken_{self.name}.yaml"
        out.write_text(broken)
        return out, line


BREAKAGES = [
    Breakage("syntax", "expected_s: 7", "expected_s: 7: 8", "YAML syntax error", True),
    Breakage("unknown_key", "expected_s: 6", "expectd_s: 6", "did you mean 'expected_s'", True),
    Breakage(
        "duplicate_step", "- id: thermal_pad", "- id: housing", "step id 'housing' is used twice", False
    ),
    Breakage(
        "undefined_zone",
        "outline: housing_seat",
        "outline: housing_set",
        "no zone 'housing_set' (did you mean 'housing_seat'?)",
        False,
    ),
    Breakage("wrong_type", "expected_s: 7", "expected_s: fast", "expected_s must be a number", True),
    Breakage(
        "undefined_bin",
        "pick: {bin: bin_pad}",
        "pick: {bin: bin_padd}",
        "no bin 'bin_padd' (did you mean 'bin_pad'?)",
        False,
    ),
    Breakage(
        "not_a_bin", "pick: {bin: bin_pad}", "pick: {bin: pad_place}", "zone 'pad_place' is not a bin", False
    ),
    Breakage(
        "zone_outside",
        "rect: [1070, 540, 110, 140]",
        "rect: [1150, 540, 110, 140]",
        "reaches outside the 1200 x 700 mm bench",
        False,
        after="bin_driver60",
    ),
    Breakage(
        "missing_media",
        "pictogram: media/lens.png",
        "pictogram: media/lenz.png",
        "file 'media/lenz.png' not found",
        False,
    ),
    Breakage(
        "unknown_condition",
        "press: next",
        "pres: next",
        "unknown condition 'pres' (did you mean 'press'?)",
        True,
    ),
    Breakage(
        "two_key_overlay",
        "- outline: housing_seat",
        "- {outline: housing_seat, highlight: bin_housing}",
        "overlay must be one key",
        True,
    ),
    Breakage("bad_color", "color: yellow}", "color: yelow}", "did you mean 'yellow'", True),
    Breakage("missing_done", "    done:\n      press: next\n", "", "needs 'done'", True),
    Breakage(
        "undefined_variant",
        "variants: [w60]\n    text: {en: Place the 60 W LED",
        "variants: [w80]\n    text: {en: Place the 60 W LED",
        "no variant 'w80'",
        False,
    ),
    Breakage(
        "bad_default_language", "default_language: en", "default_language: de", "not in languages", False
    ),
    Breakage(
        "each_without_each",
        "hand_in: {zone: connector, dwell_s: 1.5}",
        "hand_in: {zone: $each, dwell_s: 1.5}",
        "'$each' is used in step",
        False,
    ),
]
