"""Golden-image style checks: what the renderer draws lands where the calibration maps the bench."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from oss.records import FixturePose, Observation, OssError, Phase
from oss.render import Renderer
from oss.render.colors import NAMED
from oss.render.scene import Poses

from .conftest import MEDIA, make_instruction, state


def px(cal, pts):
    return [tuple(round(v) for v in p) for p in cal.bench_to_projector(np.asarray(pts, float))]


def colour_at(img, cal, pt):
    ((u, v),) = px(cal, [pt])
    return img[v, u].astype(int)


def is_green(c):
    return c[1] > 80 and c[0] < 40 and c[2] < 40


def is_yellow(c):
    return c[1] > 80 and c[2] > 80 and c[0] < 40


def is_red(c):
    return c[2] > 120 and c[0] < 40 and c[1] < 40


def is_dark(c):
    return int(c.max()) < 20


def inside(x0, y0, x1, y1, margin=12.0, n=4):
    xs = np.linspace(x0 + margin, x1 - margin, n)
    ys = np.linspace(y0 + margin, y1 - margin, n)
    return [(x, y) for x in xs for y in ys]


def test_highlight_lands_on_the_bin_the_calibration_maps(renderer, calibration):
    img = renderer.render(state(step=0))
    assert img.shape == (800, 1280, 3) and img.dtype == np.uint8
    assert all(is_green(colour_at(img, calibration, p)) for p in inside(30, 500, 230, 650))
    # 25 mm outside the bin on its far and left sides: nothing lit
    for p in [(130, 675), (5, 575), (255, 640)]:
        assert is_dark(colour_at(img, calibration, p)), p
    # the other bin is not lit in this step
    assert all(is_dark(colour_at(img, calibration, p)) for p in inside(900, 500, 1100, 650))


def test_hand_mask_keeps_the_hand_and_a_margin_dark(renderer, calibration):
    hand = ((100, 480), (160, 480), (160, 640), (100, 640))
    obs = Observation(t=0.0, frame_index=1, hand_mask_mm=(hand,))
    img = renderer.render(state(step=0), obs)
    for p in [(130, 560), (110, 600), (150, 500)]:
        assert is_dark(colour_at(img, calibration, p)), "under the hand"
    for p in [(90, 560), (170, 560)]:  # 10 mm beside the hand: within the 15 mm margin
        assert is_dark(colour_at(img, calibration, p)), "in the margin"
    for p in [(60, 560), (205, 560)]:  # 40 mm beside the hand: the highlight is still there
        assert is_green(colour_at(img, calibration, p)), "beyond the margin"


def test_error_shows_the_wrong_bin_red_and_the_hint(renderer, calibration):
    running = renderer.render(state(step=0))
    err = renderer.render(state(Phase.ERROR, step=0, error_bin="bin_b", error_hint="Take the grey housing"))
    assert all(is_red(colour_at(err, calibration, p)) for p in inside(900, 500, 1100, 650))
    assert all(
        is_green(colour_at(err, calibration, p)) for p in inside(30, 500, 230, 650)
    )  # still shows the right bin
    panel = [(x, y) for x in range(200, 1000, 40) for y in range(40, 150, 10)]
    assert any(
        not np.array_equal(colour_at(err, calibration, p), colour_at(running, calibration, p)) for p in panel
    )
    red_panel = sum(
        is_red(colour_at(err, calibration, p)) or colour_at(err, calibration, p)[2] > 40 for p in panel
    )
    assert red_panel > len(panel) // 2


def test_fixture_zone_overlay_follows_the_reported_pose(renderer, instruction, calibration):
    jig = instruction.fixtures["jig"]
    hole_c = (68.0, 38.0)
    nominal = jig.to_bench(*hole_c)
    pose = (520.0, 260.0, 30.0)
    moved = jig.to_bench(*hole_c, pose)
    s = state(step=1, t=0.0)  # blink phase on
    at_nominal = renderer.render(s)
    assert is_yellow(colour_at(at_nominal, calibration, nominal))
    obs = Observation(t=0.0, frame_index=1, fixtures=(FixturePose("jig", *pose),))
    at_moved = renderer.render(s, obs)
    assert is_yellow(colour_at(at_moved, calibration, moved))
    assert is_dark(colour_at(at_moved, calibration, nominal))


def test_blinking_overlay_turns_on_and_off_at_two_hertz(renderer, instruction, calibration):
    hole = instruction.fixtures["jig"].to_bench(68.0, 38.0)
    on = [
        is_yellow(colour_at(renderer.render(state(step=1, t=t)), calibration, hole))
        for t in (0.0, 0.3, 0.5, 0.8)
    ]
    assert on == [True, False, True, False]


def test_number_overlay_shows_the_repetition(renderer, instruction, calibration):
    first, second = renderer.render(state(step=1)), renderer.render(state(step=2))
    hole = instruction.fixtures["jig"].to_bench(68.0, 38.0)
    ((u, v),) = px(calibration, [hole])
    near = (slice(v - 90, v + 90), slice(u - 90, u + 90))
    assert not np.array_equal(first[near], second[near])
    assert renderer.run_steps[1].repetition == 1 and renderer.run_steps[2].repetition == 2


def test_dutch_text_with_accents_renders_and_differs(renderer, calibration):
    from oss.render.fonts import text_sprite

    een, plain = text_sprite("één", 60, (255, 255, 255)), text_sprite("een", 60, (255, 255, 255))
    assert een.bgra[..., 3].any() and een.bgra.shape == plain.bgra.shape
    top = slice(0, een.baseline - 30)  # above the x-height: only the accents have ink there
    assert een.bgra[top, :, 3].sum() > plain.bgra[top, :, 3].sum() + 1000
    nl = renderer.render(state(step=0, language="nl"))
    en = renderer.render(state(step=0, language="en"))
    assert not np.array_equal(nl, en)


def test_panel_text_is_at_least_20_mm_high_on_the_bench(calibration):
    ins = make_instruction()
    step = replace(ins.steps[2], text=type(ins.steps[2].text).of(en="HIH"))
    ins = replace(ins, steps=(step,))
    r = Renderer(ins, calibration, None, media_root=MEDIA)
    img = r.overlay_bench_image(state(step=0), mm_per_px=1.0, operator_view=True)
    lay = r.layout
    x0, y0, x1, y1 = (int(v) for v in lay.text)
    region = img[700 - y1 : 700 - y0, x0:x1].max(axis=2) > 100  # operator view: row = depth - y
    rows = np.flatnonzero(region.any(axis=1))
    assert rows.size and rows.max() - rows.min() + 1 >= 20


def test_static_layer_is_drawn_once_per_state(renderer):
    s = state(step=0)
    renderer.render(s)
    renderer.render(s)
    assert renderer.static_draws == 1
    renderer.render(replace(s, progress=0.7, t=5.0, message="camera lost"))
    assert renderer.static_draws == 1  # progress, time and messages are drawn per frame
    renderer.render(state(step=1, t=0.0))
    renderer.render(state(step=1, t=0.3))
    renderer.render(state(step=1, t=0.5))
    assert renderer.static_draws == 3  # one new step, two blink phases, both cached
    moved = Observation(t=0.0, frame_index=1, fixtures=(FixturePose("jig", 420, 200, 0),))
    renderer.render(state(step=1, t=0.0), moved)
    assert renderer.static_draws == 4  # the jig moved: its overlays are redrawn
    renderer.render(state(step=3), moved)
    renderer.render(state(step=3))
    assert renderer.static_draws == 5  # a step without jig overlays ignores the pose


def test_progress_bar_fills_with_the_step_and_its_progress(renderer, calibration):
    bar = renderer.layout.bar
    y = (bar[1] + bar[3]) / 2
    x_at = [bar[0] + (bar[2] - bar[0]) * f for f in (0.05, 0.2, 0.3, 0.6)]
    img = renderer.render(state(step=0, progress=0.5))  # 4 run steps: (0 + 0.5) / 4 = 12.5 %
    assert [is_green(colour_at(img, calibration, (x, y))) for x in x_at] == [True, False, False, False]
    img = renderer.render(state(step=1, progress=0.0))  # 25 %
    assert [is_green(colour_at(img, calibration, (x, y))) for x in x_at] == [True, True, False, False]


def test_step_done_flash_is_green(renderer, instruction, calibration):
    seat_mid = instruction.fixtures["jig"].to_bench(220.0, 80.0)
    assert is_dark(colour_at(renderer.render(state(step=0)), calibration, seat_mid))
    assert is_green(colour_at(renderer.render(state(step=0, step_done_flash=True)), calibration, seat_mid))


def test_status_message_is_shown(renderer, calibration):
    x0, y0, x1, y1 = renderer.layout.status
    box = px(calibration, [(x0, y0), (x1, y1)])
    (u0, v1), (u1, v0) = box
    quiet = renderer.render(state(step=0))[v0:v1, u0:u1]
    lost = renderer.render(
        state(step=0, message="Camera lost: check the cable"),
        Observation(t=0.0, frame_index=0, camera_ok=False),
    )[v0:v1, u0:u1]
    assert quiet.max() < 20 and (lost[..., 2] > 150).sum() > 200


@pytest.mark.parametrize("phase", list(Phase))
def test_every_phase_draws_a_panel(renderer, calibration, phase):
    img = renderer.render(state(phase, step=0, cycle=3, error_hint="x"))
    x0, y0, x1, y1 = renderer.layout.text
    (u0, v1), (u1, v0) = px(calibration, [(x0, y0), (x1, y1)])
    assert img[v0:v1, u0:u1].max() > 150


def test_done_lights_the_product_green(renderer, instruction, calibration):
    seat_mid = instruction.fixtures["jig"].to_bench(220.0, 80.0)
    assert is_green(colour_at(renderer.render(state(Phase.DONE, step=3, cycle=1)), calibration, seat_mid))


def test_bench_preview_uses_the_rectified_layout(renderer):
    img = renderer.overlay_bench_image(state(step=0), mm_per_px=2.0)
    assert img.shape == (350, 600, 3)
    assert is_green(img[575 // 2, 130 // 2].astype(int))  # bench (130, 575) mm at 2 mm/px
    assert is_dark(img[575 // 2, 1000 // 2].astype(int))


def test_bad_colour_and_missing_media_fail_at_start(instruction, calibration, tmp_path):
    bad = replace(instruction.steps[0], show=(*instruction.steps[0].show, make_highlight("mauve")))
    with pytest.raises(OssError, match="mauve"):
        Renderer(replace(instruction, steps=(bad,)), calibration, None, media_root=MEDIA)
    with pytest.raises(OssError, match="housing.png"):
        Renderer(instruction, calibration, None, media_root=tmp_path)


def make_highlight(color: str):
    from oss.instructions.model import Highlight

    return Highlight("bin_a", color)


def test_named_colours_are_bgr():
    assert NAMED["red"] == (0, 0, 255) and NAMED["green"][1] > 200


@pytest.mark.parametrize("variant", ["w40", "w60"])
@pytest.mark.parametrize("language", ["en", "nl"])
def test_every_sample_step_lights_its_first_highlight(sample_instruction, calibration, variant, language):
    from oss.instructions.model import Highlight

    r = Renderer(sample_instruction, calibration, variant)
    for rs in r.run_steps:
        img = r.render(state(step=rs.index, language=language, t=0.0))
        hl = next((o for o in rs.show if isinstance(o, Highlight)), None)
        if hl is None:
            continue
        centre = np.mean(r.scene.zone_mm(hl.zone, Poses(())), axis=0)
        assert colour_at(img, calibration, centre).max() > 80, (rs.uid, hl.zone)
