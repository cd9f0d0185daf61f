"""Builders for renderer tests: a small instruction with bench and jig zones, a calibration, states."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from oss.calibration.model import Calibration
from oss.instructions import model as m
from oss.records import Phase, StationState

MEDIA = Path(__file__).resolve().parents[2] / "instructions" / "media"


def rect(x: float, y: float, w: float, h: float) -> tuple[tuple[float, float], ...]:
    return ((x, y), (x + w, y), (x + w, y + h), (x, y + h))


def make_calibration(keystone: float = 30.0) -> Calibration:
    """Bench 1200×700 mm seen by a 1280×800 projector with keystone (far edge narrower)."""
    bench = np.float32([[0, 0], [1200, 0], [1200, 700], [0, 700]])
    proj = np.float32([[40, 770], [1240, 770], [1240 - keystone, 30], [40 + keystone, 30]])
    cam = np.float32([[60, 680], [1220, 670], [1210, 40], [70, 50]])
    return Calibration(
        camera_size=(1280, 720),
        projector_size=(1280, 800),
        bench_size_mm=(1200.0, 700.0),
        cam_from_bench=cv2.getPerspectiveTransform(bench, cam).astype(np.float64),
        proj_from_bench=cv2.getPerspectiveTransform(bench, proj).astype(np.float64),
    )


def make_instruction() -> m.Instruction:
    zones = {
        "bin_a": m.Zone("bin_a", rect(30, 500, 200, 150), is_bin=True, part="a"),
        "bin_b": m.Zone("bin_b", rect(900, 500, 200, 150), is_bin=True, part="b"),
        "seat": m.Zone("seat", rect(40, -10, 360, 180), frame="jig"),
        "hole": m.Zone("hole", rect(60, 30, 16, 16), frame="jig"),
        "pad": m.Zone("pad", rect(600, 300, 120, 80)),
    }
    steps = (
        m.Step(
            id="place",
            text=m.Text.of(en="Put the housing in the jig", nl="Leg één behuizing in de mal"),
            done=m.Pick("bin_a"),
            show=(m.Highlight("bin_a"), m.Arrow("bin_a", "seat"), m.Outline("seat")),
            pictogram="housing.png",
            errors=(
                m.ErrorRule("wrong_pick", m.Text.of(en="Take the grey housing", nl="Pak één behuizing")),
            ),
        ),
        m.Step(
            id="screw",
            text=m.Text.of(en="Screw it down", nl="Schroef vast"),
            done=m.HandIn("hole"),
            show=(m.Highlight("bin_b"), m.Highlight("hole", "yellow", blink=True), m.NumberOverlay("hole")),
            pictogram="screw.png",
            repeat=2,
        ),
        m.Step(
            id="pad",
            text=m.Text.of(en="Stick the pad", nl="Plak het pad"),
            done=m.Press(),
            show=(m.Highlight("pad", "blue"),),
        ),
    )
    return m.Instruction(
        product_id="t",
        product_name=m.Text.of(en="Test lamp", nl="Testlamp"),
        version="1",
        languages=("en", "nl"),
        default_language="en",
        bench=m.Bench(1200, 700),
        fixtures={"jig": m.Fixture("jig", 7, 40, x_mm=400, y_mm=200)},
        parts={
            "a": m.Part("a", m.Text.of(en="A"), bin="bin_a"),
            "b": m.Part("b", m.Text.of(en="B"), bin="bin_b"),
        },
        zones=zones,
        steps=steps,
    )


def state(phase: Phase = Phase.RUNNING, step: int = 0, **kw: object) -> StationState:
    base: dict[str, object] = {
        "phase": phase,
        "step_index": step,
        "step_uid": "",
        "variant": None,
        "cycle": 0,
    }
    base.update(kw)
    return StationState(**base)  # type: ignore[arg-type]


@pytest.fixture()
def calibration() -> Calibration:
    return make_calibration()


@pytest.fixture()
def instruction() -> m.Instruction:
    return make_instruction()


@pytest.fixture()
def renderer(instruction: m.Instruction, calibration: Calibration):
    from oss.render import Renderer

    return Renderer(instruction, calibration, None, media_root=MEDIA)
