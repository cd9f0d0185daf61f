"""The station's front desk: who is signed in, the sign-in screen, the break and signing out.

With operator profiles and no ``--operator``, the station starts on the sign-in screen
(``oss.operator.signin``). Once someone is signed in:

* **break**: PAUSE (button box, keyboard ``p``, a projected pause button) pauses the engine and keeps
  the unit; the break screen shows a *Sign out* tile. A pedal press (NEXT), CONFIRM or PAUSE ends the
  break; a double press of the pedal, a fingertip resting on *Sign out*, or the badge signs out.
* **badge** at any time: the signed-in person's own badge signs out; another known badge signs the
  other person in instead (the unit in progress goes on with them); an unknown badge only shows a
  message.

Signing out ends the operator's session in the log; the unfinished unit is resumed by the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from oss.display.base import TextLine
from oss.operator.profile import OperatorProfile, ProfileBook
from oss.operator.signin import DOUBLE, SINGLE, PressSorter, SignInConfig, SignInScreen, TouchTiles
from oss.records import Button, InputEvent, Observation
from oss.render.renderer import Renderer
from oss.render.strings import ui_text
from oss.render.tiles import Tile, TileScreen


@dataclass
class DeskActions:
    """What the station does after the desk has looked at a tick's presses and badge scans."""

    inputs: list[InputEvent] = field(default_factory=list)  # for the operator's session
    sign_in: OperatorProfile | None = None
    sign_out: bool = False
    message: str = ""


class Desk:
    """Sign-in, break and sign-out for ``book``'s operators; ``renderer`` draws the sign-in screen."""

    def __init__(
        self,
        book: ProfileBook,
        renderer: Renderer,
        language: str = "en",
        config: SignInConfig | None = None,
    ) -> None:
        self.book = book
        self.renderer = renderer
        self.language = language
        self.config = config or SignInConfig()
        self.current: OperatorProfile | None = None
        self.signin: SignInScreen | None = self._new_signin()
        self._sorter = PressSorter(self.config.double_press_s, self.config.bounce_s)
        self._touch = TouchTiles(self.config.touch_dwell_s)

    def _new_signin(self) -> SignInScreen:
        return SignInScreen(self.book, self.renderer.tile_rects, self.config, self.language)

    def signed_in(self, profile: OperatorProfile) -> Desk:
        self.current, self.signin = profile, None
        self._touch.reset()
        return self

    def signed_out(self) -> Desk:
        self.current, self.signin = None, self._new_signin()
        return self

    # --- nobody signed in -------------------------------------------------------------------------
    def sign_in_step(
        self, inputs: Sequence[InputEvent], lines: Sequence[TextLine], obs: Observation | None, t: float
    ) -> OperatorProfile | None:
        """Presses, badge scans and the camera's view on the sign-in screen; the one who chose, if any."""
        screen = self.signin
        if screen is None:
            return None
        for line in lines:
            found = screen.badge(line.text, line.t)
            if found is not None:
                return found
        for ev in inputs:
            found = screen.handle_input(ev)
            if found is not None:
                return found
        if obs is not None:
            found = screen.observe(obs)
            if found is not None:
                return found
        screen.tick(t)
        return None

    def sign_in_screen(self) -> TileScreen:
        assert self.signin is not None
        return self.signin.screen()

    @property
    def help_requested(self) -> bool:
        return self.signin is not None and self.signin.help_requested

    # --- someone signed in ------------------------------------------------------------------------
    def route(
        self, inputs: Sequence[InputEvent], lines: Sequence[TextLine], paused: bool, t: float
    ) -> DeskActions:
        """Badge scans and, during a break, the presses that end it or sign out."""
        act = DeskActions()
        for line in lines:
            found = self.book.by_badge(line.text)
            if found is None:
                act.message = ui_text("unknown_badge", self.language, code=line.text)
            elif self.current is not None and found.id == self.current.id:
                act.sign_out = True
            else:
                act.sign_out, act.sign_in = True, found
        if act.sign_out:
            return act
        for ev in inputs:
            if paused and ev.button is Button.NEXT:
                if self._sorter.press(ev.t) == DOUBLE:
                    act.sign_out = True
                    return act
            elif paused and ev.button is Button.CONFIRM:
                act.inputs.append(InputEvent(Button.PAUSE, ev.source, ev.t, ev.device))
            else:
                act.inputs.append(ev)
        if self._sorter.poll(t) == SINGLE and paused:
            act.inputs.append(InputEvent(Button.PAUSE, "pedal", t, "desk"))
        return act

    def break_screen(self) -> TileScreen:
        progress = self._touch.progress.get(0, 0.0)
        return TileScreen(
            title=ui_text("break", self.language),
            tiles=(Tile(ui_text("signout", self.language), progress=progress, face=False),),
            message=ui_text("signout_hint", self.language),
        )

    def touch_sign_out(self, obs: Observation) -> bool:
        """A fingertip resting on the break screen's *Sign out* tile."""
        return self._touch.update(obs, self.renderer.tile_rects(1)) is not None
