"""What the projector shows at each guidance level, during hesitation, and per profile setting."""

from __future__ import annotations

import numpy as np
import pytest

from oss.engine.guidance import GuidanceView
from oss.records import Phase, StationState
from oss.render import Renderer
from oss.render.layout import PanelLayout
from tests.render.conftest import make_calibration

STEP = 1  # thermal_pad: highlight bin_pad, arrow to pad_place, highlight pad_place (yellow)


@pytest.fixture(scope="module")
def cal():
    return make_calibration()


def view(level: str, **kw) -> GuidanceView:
    return GuidanceView(level=level, shown=kw.pop("shown", level), **kw)


def running(t: float = 10.0, phase: Phase = Phase.RUNNING, **kw) -> StationState:
    return StationState(phase, STEP, "thermal_pad", "w40", 0, t=t, **kw)


def lit(img: np.ndarray, cal, rect) -> float:
    """Share of pixels lit inside a bench rectangle (x0, y0, x1, y1) mm."""
    x0, y0, x1, y1 = rect
    pts = np.array([[x, y] for x in np.linspace(x0 + 5, x1 - 5, 12) for y in np.linspace(y0 + 5, y1 - 5, 8)])
    uv = np.round(cal.bench_to_projector(pts)).astype(int)
    return float(np.mean([img[v, u].max() > 40 for u, v in uv]))


def yellow_in(img: np.ndarray, cal, rect) -> int:
    x0, y0, x1, y1 = rect
    uv = cal.bench_to_projector(np.array([[x0, y0], [x1, y1]], float))
    (u0, v1), (u1, v0) = np.round(uv).astype(int)
    roi = img[min(v0, v1) : max(v0, v1), min(u0, u1) : max(u0, u1)].astype(int)
    return int(np.count_nonzero((roi[..., 2] > 150) & (roi[..., 1] > 150) & (roi[..., 0] < 90)))


def panel_text(renderer: Renderer, img: np.ndarray, cal) -> float:
    return lit(img, cal, renderer.layout.text)


@pytest.fixture(scope="module")
def renderer(sample_instruction, cal) -> Renderer:
    return Renderer(sample_instruction, cal, "w40")


def test_full_reduced_minimal_show_less_and_less(renderer: Renderer, cal) -> None:
    full = renderer.render(running(), None, view("full", animate=False))
    reduced = renderer.render(running(), None, view("reduced", animate=False))
    minimal = renderer.render(running(), None, view("minimal", animate=False))
    bin_pad = (490, 540, 620, 680)
    arrow_mid = (540, 380, 580, 420)  # between the pad bin and the pad's place on the jig
    assert (
        lit(full, cal, bin_pad) > 0.9 and lit(reduced, cal, bin_pad) > 0.9 and lit(minimal, cal, bin_pad) == 0
    )
    assert lit(full, cal, arrow_mid) > 0 and lit(reduced, cal, arrow_mid) == 0
    assert panel_text(renderer, full, cal) > 0.01  # the step text
    assert panel_text(renderer, reduced, cal) == 0 and panel_text(renderer, minimal, cal) == 0
    assert lit(full, cal, renderer.layout.icon) > 0.01 and lit(reduced, cal, renderer.layout.icon) == 0
    # the counter and the progress bar stay at every level
    assert lit(minimal, cal, renderer.layout.counter) > 0 and lit(minimal, cal, renderer.layout.bar) > 0
    # without a GuidanceView: everything, as before
    assert np.array_equal(renderer.render(running()), full)


def test_hesitation_shows_full_guidance_animation_and_how_to_get_help(renderer: Renderer, cal) -> None:
    calm = renderer.render(running(10.0), None, view("minimal"))
    a = renderer.render(
        running(10.0), None, view("minimal", shown="full", stage=2, animate=True, help_hint=True)
    )
    b = renderer.render(
        running(10.8), None, view("minimal", shown="full", stage=2, animate=True, help_hint=True)
    )
    assert panel_text(renderer, a, cal) > 0.01 and panel_text(renderer, calm, cal) == 0
    assert not np.array_equal(a, b)  # it moves
    assert lit(a, cal, renderer.layout.status) > 0 and lit(calm, cal, renderer.layout.status) == 0
    changed = np.argwhere(np.any(a != b, axis=2))
    assert len(changed) > 200


def test_colour_blind_palette_uses_blue_for_go_and_crosses_a_wrong_bin(sample_instruction, cal) -> None:
    r = Renderer(sample_instruction, cal, "w40", palette_name="colorblind")
    img = r.render(running(), None, view("full", animate=False))
    ((u, v),) = np.round(cal.bench_to_projector(np.array([[555.0, 560.0]]))).astype(int)
    b, g, rr = img[v, u].astype(int)
    assert b > g > rr  # sky blue, no green
    err = r.render(running(phase=Phase.ERROR, error_bin="bin_lens", error_hint="Take one thermal pad"))
    ((u, v),) = np.round(cal.bench_to_projector(np.array([[370.0, 610.0]]))).astype(int)  # bin_lens centre
    assert err[v, u].min() > 200  # the white cross over the wrong bin


def test_left_handed_layout_is_mirrored_and_large_text_is_larger(sample_instruction, cal) -> None:
    right = PanelLayout.fit(1200, 700, 190)
    left = PanelLayout.fit(1200, 700, 190, hand="left")
    assert right.icon[0] < 100 and left.icon[2] > 1100 and left.counter[0] < 100 and left.align == "right"
    r_left = Renderer(sample_instruction, cal, "w40", hand="left")
    img = r_left.render(running(), None, view("full", animate=False))
    mirrored = Renderer(sample_instruction, cal, "w40").render(running(), None, view("full", animate=False))
    # the pictogram (white with a yellow corner) sits on the side away from the working hand
    assert yellow_in(img, cal, left.icon) > 20 and yellow_in(img, cal, right.icon) == 0
    assert yellow_in(mirrored, cal, right.icon) > 20 and yellow_in(mirrored, cal, left.icon) == 0
    big = Renderer(sample_instruction, cal, "w40", text_scale=1.5)
    normal = Renderer(sample_instruction, cal, "w40")
    st = StationState(Phase.DONE, 20, "unload", "w40", 3, t=1.0)
    text_px = [int(np.count_nonzero(x.render(st).max(axis=2) > 150)) for x in (normal, big)]
    assert text_px[1] > text_px[0] * 1.3


def test_sign_in_screen_draws_a_tile_per_person_and_frames_the_chosen(renderer: Renderer, cal) -> None:
    from oss.render.tiles import Tile, TileScreen

    tiles = tuple(Tile(f"Person {i}", selected=(i == 2)) for i in range(6))
    img = renderer.render_tiles(TileScreen("Who is working here?", "Pedal: ...", tiles))
    rects = renderer.tile_rects(6)
    assert len(rects) == 6 and all(lit(img, cal, r) > 0.2 for r in rects)
    x0, y0, x1, y1 = rects[2]
    ((u, v),) = np.round(cal.bench_to_projector(np.array([[x0 + 2.0, (y0 + y1) / 2]]))).astype(int)
    c = img[v, u].astype(int)
    assert c[2] > 150 and c[1] > 150 and c[0] < 60  # the yellow frame
