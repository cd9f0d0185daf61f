"""Scenario files: the shipped ones load, and mistakes are reported at their line with what to write."""

from __future__ import annotations

import pytest

from oss.instructions.yamlnodes import FileProblems
from oss.records import OssError
from oss.sim.scenario import DEVIATIONS, load_scenario, shipped_scenarios

SHIPPED = shipped_scenarios()


def test_the_shipped_scenarios_cover_every_deviation():
    kinds = {d.kind for name in SHIPPED for d in load_scenario(name, check=False).deviations}
    assert kinds == set(DEVIATIONS)
    assert {"led_basic", "led_w60"} <= set(SHIPPED)
    assert any(load_scenario(n, check=False).cycles >= 3 for n in SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenario_loads_and_checks_against_its_instruction(name):
    sc = load_scenario(name)
    assert sc.instructions.exists()
    assert sc.camera.size == (1280, 720) and sc.projector.size == (1280, 800)


def test_defaults_and_given_values(write_scenario):
    sc = load_scenario(
        write_scenario("cycles: 3\nseed: 7\ncamera: {size: [640, 480], fps: 25, focal_px: auto}\n")
    )
    assert (sc.cycles, sc.seed, sc.camera.size, sc.camera.fps, sc.camera.focal_px) == (
        3,
        7,
        (640, 480),
        25.0,
        None,
    )
    assert sc.operator.stuck_timeout_s == 8.0


@pytest.mark.parametrize(
    ("body", "line", "says"),
    [
        (
            "cycles: 2\ncamra: {fps: 30}\n",
            5,
            "unknown key 'camra' in the scenario file (did you mean 'camera'?)",
        ),
        ("camera:\n  fps: fast\n", 5, "camera.fps must be a number"),
        ("camera: {size: [1280]}\n", 4, "camera.size must be a list of 2 numbers"),
        ("lighting: {ambient: -1}\n", 4, "lighting.ambient is -1; it must be between 0 and 3"),
        ("operator: {hand: both}\n", 4, "write one of: auto, left, right"),
        ("operator: {skin: pink}\n", 4, "operator.skin must be a colour like"),
        ("deviations:\n  - wrong_pik: {step: housing, bin: bin_pad}\n", 5, "did you mean 'wrong_pick'?"),
        ("deviations:\n  - wrong_pick: {step: housing}\n", 5, "wrong_pick needs 'bin:'"),
        ("deviations:\n  - hesitate: {seconds: 2}\n", 5, "give 'step:'"),
        ("deviations:\n  - light_on: {level: 0.2}\n", 5, "needs 'at_s:'"),
        (
            "deviations:\n  - hesitate: {step: housing, seconds: 2, colour: red}\n",
            5,
            "unknown key 'colour' in hesitate",
        ),
        (
            "deviations:\n  - hesitate: {step: screw, seconds: 2}\n",
            5,
            "step 'screw' is not a step of this variant",
        ),
        (
            "deviations:\n  - pass_over: {step: housing, bin: housing_seat}\n",
            5,
            "'housing_seat' is not a bin",
        ),
        ("deviations:\n  - put_back: {step: connect_module}\n", 5, "puts no part down"),
        ("deviations:\n  - hesitate: {step: housing, cycle: 3}\n", 5, "cycle 3 is not run"),
        ("camera: {fps: 30\n", 5, "YAML syntax error"),
    ],
)
def test_mistakes_are_reported_with_line_and_fix(write_scenario, body, line, says):
    path = write_scenario(body)
    with pytest.raises(FileProblems) as err:
        load_scenario(path)
    text = str(err.value)
    assert says in text
    assert f"{path}:{line}:" in text, text


def test_missing_instruction_file_and_unknown_name(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("format: 1\ninstructions: nowhere/none.yaml\n")
    with pytest.raises(OssError, match=r"x.yaml:2:15: instruction file 'nowhere/none.yaml' not found"):
        load_scenario(p)
    with pytest.raises(OssError, match="no shipped scenario of this name; there are: .*led_basic"):
        load_scenario("led_nonexistent")


def test_unknown_variant(tmp_path):
    from tests.sim.conftest import SAMPLE

    p = tmp_path / "v.yaml"
    p.write_text(f"format: 1\ninstructions: {SAMPLE}\nvariant: w80\n")
    with pytest.raises(FileProblems, match="variant 'w80' is not in the instruction; write one of: w40, w60"):
        load_scenario(p)
