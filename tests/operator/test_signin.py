"""Signing in by pedal, button, badge and touch; the break and signing out."""

from __future__ import annotations

import pytest

from oss.display.base import TextLine
from oss.operator.desk import Desk
from oss.operator.profile import OperatorProfile, ProfileBook
from oss.operator.signin import DOUBLE, SINGLE, PressSorter, SignInConfig, SignInScreen
from oss.records import Button, Hand, InputEvent, Observation, OssError
from oss.render.renderer import Renderer
from tests.render.conftest import make_calibration

PEOPLE = tuple(OperatorProfile(f"op{i}", name=f"Person {i}", badge=f"B{i:03d}") for i in range(10))


def press(t: float, button: Button = Button.NEXT) -> InputEvent:
    return InputEvent(button, "pedal", t)


def touch(t: float, x: float, y: float) -> Observation:
    return Observation(t=t, frame_index=int(t * 30), hands=(Hand(tip_mm=(x, y)),))


@pytest.fixture
def renderer(sample_instruction) -> Renderer:
    return Renderer(sample_instruction, make_calibration(), "w40")


@pytest.fixture
def screen(renderer) -> SignInScreen:
    return SignInScreen(ProfileBook(PEOPLE), renderer.tile_rects, SignInConfig(per_page=8))


def test_press_sorter_tells_single_from_double_and_ignores_bounce() -> None:
    s = PressSorter(0.6, 0.08)
    assert s.press(1.0) is None and s.poll(1.5) is None and s.poll(1.61) == SINGLE
    assert s.press(2.0) is None and s.press(2.03) is None  # bounce
    assert s.press(2.4) == DOUBLE and s.poll(5.0) is None


def test_pedal_moves_through_pages_and_a_double_press_chooses(screen: SignInScreen) -> None:
    assert screen.cursor == -1 and screen.screen().tiles[0].selected is False
    for k in range(9):  # nine single presses: to the 9th person, on page 2
        assert screen.handle_input(press(k * 1.0)) is None
        screen.tick(k * 1.0 + 0.7)
    assert screen.cursor == 8 and screen.page == 1
    view = screen.screen()
    assert view.page == "2/2" and [t.label for t in view.tiles] == ["Person 8", "Person 9"]
    assert view.tiles[0].selected
    assert screen.handle_input(press(20.0)) is None
    assert screen.handle_input(press(20.3)) is PEOPLE[8]  # double press: chosen, the frame did not move
    screen.tick(30.0)
    assert screen.cursor == 8


def test_confirm_chooses_back_goes_back_and_nothing_is_chosen_without_a_frame(screen: SignInScreen) -> None:
    assert screen.handle_input(press(1.0, Button.CONFIRM)) is None
    assert "press twice quickly" in screen.screen().message
    screen.handle_input(press(2.0, Button.BACK))
    assert screen.cursor == 9
    screen.handle_input(press(3.0, Button.BACK))
    assert screen.handle_input(press(4.0, Button.CONFIRM)) is PEOPLE[8]
    screen.handle_input(press(5.0, Button.HELP))
    assert screen.help_requested and "Help is on the way" in screen.screen().message


def test_badge_chooses_and_an_unknown_badge_says_so(screen: SignInScreen) -> None:
    assert screen.badge("B004", 1.0) is PEOPLE[4]
    assert screen.badge("X999", 2.0) is None
    assert "X999 is not known" in screen.screen().message
    screen.tick(10.0)
    assert screen.screen().message == ""


def test_a_fingertip_resting_on_a_tile_chooses_it(screen: SignInScreen) -> None:
    x0, y0, x1, y1 = screen.rects()[2]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    assert screen.observe(touch(1.0, cx, cy)) is None
    assert screen.observe(touch(1.4, cx, cy)) is None
    assert screen.screen().tiles[2].progress == pytest.approx(0.5)
    assert screen.observe(touch(1.5, 5.0, 5.0)) is None  # slid off: starts over
    assert screen.observe(touch(1.6, cx, cy)) is None
    assert screen.observe(touch(2.5, cx, cy)) is PEOPLE[2]
    assert screen.observe(touch(3.5, cx, cy)) is None  # still resting there: no second choice


def test_no_operators_is_an_error_with_what_to_do(renderer) -> None:
    with pytest.raises(OssError, match="oss operators add"):
        SignInScreen(ProfileBook(()), renderer.tile_rects)


def test_break_pedal_resumes_double_press_and_badge_sign_out(renderer) -> None:
    desk = Desk(ProfileBook(PEOPLE), renderer)
    who = desk.sign_in_step([], [TextLine("B001", 1.0)], None, 1.0)
    assert who is PEOPLE[1]
    desk.signed_in(who)
    act = desk.route([press(2.0)], [], paused=False, t=2.0)
    assert act.inputs == [press(2.0)] and not act.sign_out  # at work, presses go to the engine
    act = desk.route([press(3.0)], [], paused=True, t=3.0)
    assert act.inputs == []  # during the break: wait, it may be a double press
    act = desk.route([], [], paused=True, t=3.7)
    assert [e.button for e in act.inputs] == [Button.PAUSE]  # a single press ends the break
    desk.route([press(5.0)], [], paused=True, t=5.0)
    assert desk.route([press(5.3)], [], paused=True, t=5.3).sign_out
    act = desk.route([], [TextLine("B001", 6.0)], paused=False, t=6.0)
    assert act.sign_out and act.sign_in is None  # one's own badge: sign out
    act = desk.route([], [TextLine("B002", 7.0)], paused=False, t=7.0)
    assert act.sign_out and act.sign_in is PEOPLE[2]  # another's: they take over
    act = desk.route([], [TextLine("nope", 8.0)], paused=False, t=8.0)
    assert not act.sign_out and "nope is not known" in act.message
    desk.signed_out()
    assert desk.signin is not None and desk.current is None


def test_touching_sign_out_on_the_break_screen(renderer) -> None:
    desk = Desk(ProfileBook(PEOPLE), renderer).signed_in(PEOPLE[0])
    ((x0, y0, x1, y1),) = renderer.tile_rects(1)
    c = ((x0 + x1) / 2, (y0 + y1) / 2)
    assert not desk.touch_sign_out(touch(1.0, *c))
    assert desk.break_screen().tiles[0].label == "Sign out"
    assert desk.touch_sign_out(touch(1.9, *c))
