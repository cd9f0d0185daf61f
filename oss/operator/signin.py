"""Signing in without keyboard or password: touch a name, scan a badge, or walk the list with the pedal.

The sign-in screen projects the station's operators as tiles (photo or initials, and the name), up to
``per_page`` at a time. What chooses:

* **touch**: a fingertip resting on a tile for ``touch_dwell_s`` (a bar fills along the tile's edge);
* **badge**: a badge reader types the badge code and Enter (the window passes it on as a
  ``oss.display.base.TextLine``);
* **pedal / buttons**: NEXT moves the yellow frame to the next name (and on to the next page), BACK to
  the one before; CONFIRM chooses the framed name, and so does a **double press** of NEXT (a second
  press within ``double_press_s``): a single press moves only once that time has passed, so a double
  press never moves first. HELP calls the supervisor (the screen says so).

Bounce: a press within ``bounce_s`` of the one before is ignored.

:class:`PressSorter` (single or double press) is also used on the break screen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from oss.operator.profile import OperatorProfile, ProfileBook
from oss.records import Button, InputEvent, Observation, OssError
from oss.render.layout import Rect
from oss.render.strings import ui_text
from oss.render.tiles import Tile, TileScreen

SINGLE, DOUBLE = "single", "double"


@dataclass(frozen=True)
class SignInConfig:
    double_press_s: float = 0.6
    bounce_s: float = 0.08
    touch_dwell_s: float = 0.8
    per_page: int = 8
    message_s: float = 5.0

    def __post_init__(self) -> None:
        if self.double_press_s <= self.bounce_s or self.touch_dwell_s <= 0 or self.per_page < 1:
            raise OssError("SignInConfig: need double_press_s > bounce_s, touch_dwell_s > 0, per_page >= 1")


class PressSorter:
    """Tells a single from a double press of one button. ``press`` says DOUBLE at once; a single press
    is reported by ``poll`` once ``window_s`` has passed without a second one."""

    def __init__(self, window_s: float, bounce_s: float = 0.08) -> None:
        self.window_s, self.bounce_s = window_s, bounce_s
        self._first: float | None = None
        self._last = -1e9

    def press(self, t: float) -> str | None:
        if t - self._last < self.bounce_s:
            return None
        self._last = t
        if self._first is not None and t - self._first <= self.window_s:
            self._first = None
            return DOUBLE
        self._first = t
        return None

    def poll(self, t: float) -> str | None:
        if self._first is not None and t - self._first > self.window_s:
            self._first = None
            return SINGLE
        return None

    @property
    def pending(self) -> bool:
        return self._first is not None


class TouchTiles:
    """A fingertip resting on one of ``rects`` (bench mm) for ``dwell_s`` chooses it."""

    def __init__(self, dwell_s: float) -> None:
        self.dwell_s = dwell_s
        self._on: int | None = None
        self._since = 0.0
        self._latched: int | None = None
        self.progress: dict[int, float] = {}

    def reset(self) -> None:
        self._on, self._latched, self.progress = None, None, {}

    def update(self, obs: Observation, rects: Sequence[Rect]) -> int | None:
        hit: int | None = None
        for h in obs.hands:
            if h.raised:  # held well above the bench: not touching a tile
                continue
            x, y = h.tip_mm
            for i, (x0, y0, x1, y1) in enumerate(rects):
                if x0 <= x <= x1 and y0 <= y <= y1:
                    hit = i
                    break
            if hit is not None:
                break
        if hit is None or hit != self._on:
            if hit != self._latched:
                self._latched = None
            self._on, self._since = hit, obs.t
            self.progress = {}
            return None
        if hit == self._latched:
            return None
        frac = (obs.t - self._since) / self.dwell_s
        self.progress = {hit: min(1.0, frac)}
        if frac >= 1.0:
            self._latched, self.progress = hit, {}
            return hit
        return None


class SignInScreen:
    """The sign-in list of ``book``'s active operators. ``rects(n)`` gives the tiles' places in bench mm
    (``Renderer.tile_rects``). Feed it presses, badge scans, observations and ``tick``; each returns the
    chosen profile, or None."""

    def __init__(
        self,
        book: ProfileBook,
        rects: Callable[[int], list[Rect]],
        config: SignInConfig | None = None,
        language: str = "en",
    ) -> None:
        self.book = book
        self.config = cfg = config or SignInConfig()
        self.language = language
        self._rects = rects
        self.people = book.active
        if not self.people:
            raise OssError(
                f"no operators to sign in with in {book.source or 'the profiles'}: add one with "
                "'oss operators add ID --name NAME', or start with 'oss run --operator ID'"
            )
        self.cursor = -1
        self.help_requested = False
        self._sorter = PressSorter(cfg.double_press_s, cfg.bounce_s)
        self._touch = TouchTiles(cfg.touch_dwell_s)
        self._message, self._message_until = "", -1e9
        self._last: dict[Button, float] = {}
        self._now = 0.0

    # --- pages ------------------------------------------------------------------------------------
    @property
    def page(self) -> int:
        return max(0, self.cursor) // self.config.per_page

    @property
    def pages(self) -> int:
        return (len(self.people) + self.config.per_page - 1) // self.config.per_page

    def _page_people(self) -> tuple[OperatorProfile, ...]:
        n = self.config.per_page
        return self.people[self.page * n : (self.page + 1) * n]

    def rects(self) -> list[Rect]:
        return self._rects(len(self._page_people()))

    # --- input ------------------------------------------------------------------------------------
    def _say(self, text: str, t: float) -> None:
        self._message, self._message_until = text, t + self.config.message_s

    def handle_input(self, ev: InputEvent) -> OperatorProfile | None:
        self._now = max(self._now, ev.t)
        if ev.button is Button.NEXT:
            if self._sorter.press(ev.t) == DOUBLE:
                return self._chosen()
            return None
        last = self._last.get(ev.button)
        self._last[ev.button] = ev.t
        if last is not None and ev.t - last < self.config.bounce_s:
            return None
        if ev.button is Button.CONFIRM:
            return self._chosen()
        if ev.button is Button.BACK:
            self.cursor = (self.cursor - 1) % len(self.people) if self.cursor >= 0 else len(self.people) - 1
            self._touch.reset()
        elif ev.button is Button.HELP:
            self.help_requested = not self.help_requested
        return None

    def _chosen(self) -> OperatorProfile | None:
        if self.cursor < 0:
            self._say(ui_text("signin_pedal", self.language), self._now)
            return None
        return self.people[self.cursor]

    def badge(self, code: str, t: float) -> OperatorProfile | None:
        self._now = max(self._now, t)
        found = self.book.by_badge(code)
        if found is None:
            self._say(ui_text("unknown_badge", self.language, code=code), t)
        return found

    def observe(self, obs: Observation) -> OperatorProfile | None:
        self._now = max(self._now, obs.t)
        hit = self._touch.update(obs, self.rects())
        return self._page_people()[hit] if hit is not None else None

    def tick(self, t: float) -> None:
        """Let time pass: a single NEXT press moves the frame once its double-press window is over."""
        self._now = max(self._now, t)
        if self._sorter.poll(t) == SINGLE:
            self.cursor = (self.cursor + 1) % len(self.people)
            self._touch.reset()

    # --- what to draw -----------------------------------------------------------------------------
    def screen(self) -> TileScreen:
        lang = self.language
        start = self.page * self.config.per_page
        tiles = tuple(
            Tile(
                p.display_name,
                self.book.photo_path(p),
                selected=(start + i == self.cursor),
                progress=self._touch.progress.get(i, 0.0),
            )
            for i, p in enumerate(self._page_people())
        )
        message = self._message if self._now < self._message_until else ""
        if self.help_requested:
            message = ui_text("help", lang)
        return TileScreen(
            title=ui_text("signin", lang),
            hint=ui_text("signin_pedal", lang),
            tiles=tiles,
            message=message,
            page=f"{self.page + 1}/{self.pages}" if self.pages > 1 else "",
        )
