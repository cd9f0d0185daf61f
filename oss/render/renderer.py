"""The projector image of a StationState: overlays in bench mm, mapped to projector pixels.

Per frame the renderer only copies a cached layer and draws what changes every frame (progress,
the green flash, the status line) and blacks out the operator's hands. Layers are built once per
(step, phase, language, hint, fixture pose, blink phase) and kept in a small LRU cache; the count of
builds is in ``static_draws``.

With a ``GuidanceView`` (from ``oss.engine.guidance``) only the overlays and panel items of the
level shown are drawn, the animation runs (a dot along the arrows, pulsing rings round the places)
and the status line tells how to get help while the operator hesitates. Without one everything is
drawn, as at full guidance, without animation.

Profile settings: ``text_scale`` (larger panel text), ``palette`` (``colorblind``: sky blue for go,
vermillion for wrong, a cross over a wrongly picked bin), ``hand`` (the panel mirrored for the
left-handed, so the working hand does not cover text and pictogram).

Layer contents by phase::

    WAITING    panel: product, "press the pedal"          no overlays
    RUNNING    panel: pictogram, step text, k/n          the step's overlays
    ERROR      panel (red): warning, the hint            the step's overlays + the wrong bin in red
    HELP       panel (blue): help icon, "help is coming" the step's overlays
    PAUSED     panel (orange): pause icon                 no overlays
    DONE       panel (green): check, "Done!", units      the product's outline in green
    FINISHED   panel: check, "Finished"                  no overlays
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path

import numpy as np

from oss.calibration.model import Calibration
from oss.engine.guidance import GuidanceView
from oss.instructions.levels import FULL, overlay_shown, panel_items
from oss.instructions.model import PANEL_ITEMS, Instruction, Overlay, RunStep
from oss.records import Observation, Phase, StationState

from . import layout as L
from .animation import draw_animation
from .canvas import Canvas
from .colors import BGR, DIM_WHITE, palette, scaled
from .painter import Painter
from .pictograms import pictogram
from .scene import Poses, Scene, overlay_zones
from .strings import ui_text
from .tiles import TileScreen, draw_tile_screen

LAYER_CACHE = 16  # full-frame layers of 3 MB each at 1280x800
HAND_MARGIN_MM = 15.0
BLINK_HZ = 2.0
_OVERLAY_PHASES = (Phase.RUNNING, Phase.ERROR, Phase.HELP)
_PANEL_COLOR = {Phase.ERROR: "red", Phase.HELP: "blue", Phase.PAUSED: "orange", Phase.DONE: "green"}


class _View:
    """One target (the projector, or a bench-image preview) with its own canvas and layer cache."""

    def __init__(
        self, canvas: Canvas, scene: Scene, layout: L.PanelLayout, named: dict[str, BGR] | None = None
    ) -> None:
        self.canvas = canvas
        self.painter = Painter(canvas, scene, layout, named)
        self.layers: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self.builds = 0


class Renderer:
    """Draws what the operator should see now. ``render`` returns a BGR image of the projector size."""

    def __init__(
        self,
        instruction: Instruction,
        calibration: Calibration,
        variant: str | None,
        *,
        language: str = "en",
        media_root: str | Path | None = None,
        hand_margin_mm: float = HAND_MARGIN_MM,
        text_scale: float = 1.0,
        palette_name: str = "standard",
        hand: str = "right",
    ) -> None:
        if media_root is None:
            media_root = Path(instruction.source).parent if instruction.source else Path.cwd()
        self.instruction = instruction
        self.calibration = calibration
        self.variant = variant
        self.language = language
        self.hand_margin_mm = hand_margin_mm
        self.text_scale = text_scale
        self.palette_name = palette_name
        self.named = palette(palette_name)
        self.hand = hand
        self.scene = Scene(instruction, variant, Path(media_root))
        self.run_steps = self.scene.steps
        self.layout = L.PanelLayout.fit(
            instruction.bench.width_mm, instruction.bench.depth_mm, self.scene.min_zone_y(), hand
        )
        self.follow_projector(calibration)  # the projector view
        self._bench: dict[tuple[float, bool], _View] = {}

    def follow_projector(self, calibration: Calibration) -> None:
        """Draw with ``calibration``'s projector mapping from now on (the static layers are drawn again):
        at the start, and when the projection moved over the bench (perception saw the bench knocked)."""
        self.calibration = calibration
        self._proj = _View(
            Canvas(calibration.proj_from_bench, calibration.projector_size), self.scene, self.layout, self.named
        )

    @property
    def static_draws(self) -> int:
        """How many layers the projector view has built (for tests of the cache)."""
        return self._proj.builds

    # --- public ------------------------------------------------------------------------------------
    def render(
        self, state: StationState, obs: Observation | None = None, guidance: GuidanceView | None = None
    ) -> np.ndarray:
        return self._render(self._proj, state, obs, guidance)

    def overlay_bench_image(
        self,
        state: StationState,
        obs: Observation | None = None,
        mm_per_px: float = 1.0,
        operator_view: bool = False,
        guidance: GuidanceView | None = None,
    ) -> np.ndarray:
        """The same drawing on a top-down bench image at ``mm_per_px``.

        By default pixel (u, v) shows bench point ((u + 0.5)·s, (v + 0.5)·s), the layout of
        ``Calibration.rectify_maps``, to lay over a rectified camera frame (text is mirrored there).
        ``operator_view=True`` puts the operator's edge at the bottom, as the operator sees the bench.
        """
        key = (float(mm_per_px), bool(operator_view))
        if key not in self._bench:
            w_mm, d_mm = self.instruction.bench.width_mm, self.instruction.bench.depth_mm
            s = float(mm_per_px)
            if operator_view:
                h = np.array([[1 / s, 0, -0.5], [0, -1 / s, d_mm / s - 0.5], [0, 0, 1]])
            else:
                h = np.array([[1 / s, 0, -0.5], [0, 1 / s, -0.5], [0, 0, 1]])
            size = (round(w_mm / s), round(d_mm / s))
            self._bench[key] = _View(Canvas(h, size), self.scene, self.layout, self.named)
        return self._render(self._bench[key], state, obs, guidance)

    # --- tiles: sign-in, sign-out ------------------------------------------------------------------
    def tile_rects(self, n: int) -> list[L.Rect]:
        """Where ``n`` tiles go on the bench (mm); the touch check uses the same rectangles."""
        b = self.instruction.bench
        return L.tile_grid(b.width_mm, self.layout.panel[3], b.depth_mm, n)

    def render_tiles(self, screen: TileScreen, obs: Observation | None = None) -> np.ndarray:
        """The sign-in screen: tiles to choose from, the title and hint in the panel."""
        img = self._proj.canvas.blank()
        self.draw_tiles(img, screen, obs, panel=True)
        return img

    def draw_tiles(
        self, img: np.ndarray, screen: TileScreen, obs: Observation | None = None, panel: bool = False
    ) -> None:
        """Tiles over an image the renderer made (the sign-out button on the break screen)."""
        p = self._proj.painter
        draw_tile_screen(
            p, img, screen, self.tile_rects(len(screen.tiles)), self.named, self.text_scale, panel
        )
        self.blackout_hands(img, obs)

    def blackout_hands(self, img: np.ndarray, obs: Observation | None) -> None:
        """Keep the hands and arms dark after something was drawn over an image the renderer made."""
        if obs is not None and obs.hand_mask_mm:
            for poly in obs.hand_mask_mm:
                self._proj.canvas.fill_dilated(img, poly, (0, 0, 0), self.hand_margin_mm)

    # --- per frame ---------------------------------------------------------------------------------
    def _lang(self, state: StationState) -> str:
        return state.language or self.language

    def _color(self, name: str) -> BGR:
        return self.named[name]

    def _visible(self, rs: RunStep | None, guidance: GuidanceView | None) -> tuple[Overlay, ...]:
        if rs is None:
            return ()
        shown = guidance.shown if guidance is not None else FULL
        return tuple(o for o in rs.show if overlay_shown(o, shown))

    def _items(self, rs: RunStep | None, guidance: GuidanceView | None) -> tuple[str, ...]:
        if rs is None:
            return ()
        return panel_items(rs.step, guidance.shown) if guidance is not None else PANEL_ITEMS

    def _render(
        self, view: _View, state: StationState, obs: Observation | None, guidance: GuidanceView | None = None
    ) -> np.ndarray:
        poses = Poses.from_observation(obs, self.instruction.fixtures)
        rs = self.scene.step(state.step_index)
        visible = self._visible(rs, guidance)
        blinking = rs is not None and state.phase in _OVERLAY_PHASES and any(o.blink for o in visible)
        blink_on = blinking and int(state.t * 2 * BLINK_HZ) % 2 == 0
        uses_pose = state.phase == Phase.DONE or (
            rs is not None
            and state.phase in _OVERLAY_PHASES
            and any(self.scene.depends_on_pose(o) for o in visible)
        )
        cycle = state.cycle if state.phase in (Phase.DONE, Phase.FINISHED) else 0
        key = (
            state.step_index,
            state.phase,
            self._lang(state),
            state.error_hint,
            state.error_bin,
            cycle,
            poses.key if uses_pose else (),
            blink_on,
            guidance.shown if guidance is not None else None,
        )
        layer = view.layers.get(key)
        if layer is None:
            layer = self._build_layer(view, state, poses, blink_on, guidance)
            view.builds += 1
            view.layers[key] = layer
            if len(view.layers) > LAYER_CACHE:
                view.layers.popitem(last=False)
        else:
            view.layers.move_to_end(key)
        img = layer.copy()
        self._draw_dynamic(view, img, state, obs, poses, guidance)
        return img

    def _draw_dynamic(
        self,
        view: _View,
        img: np.ndarray,
        state: StationState,
        obs: Observation | None,
        poses: Poses,
        guidance: GuidanceView | None = None,
    ) -> None:
        p = view.painter
        rs = self.scene.step(state.step_index)
        if (
            rs is not None
            and guidance is not None
            and guidance.animate
            and state.phase in (Phase.RUNNING, Phase.HELP)
        ):
            draw_animation(p, img, rs, self._visible(rs, guidance) or rs.show, poses, state.t, self.named)
        if rs is not None and state.phase in (Phase.RUNNING, Phase.ERROR, Phase.HELP, Phase.PAUSED):
            p.bar_fill(
                img,
                (rs.index + min(max(state.progress, 0.0), 1.0)) / rs.total,
                scaled(self._color("green"), 0.7),
            )
        if state.step_done_flash:
            green = self._color("green")
            if rs is not None:
                for zid in dict.fromkeys(z for o in rs.show for z in overlay_zones(o)):
                    if not self.instruction.zones[zid].is_bin:
                        p.highlight(img, self.scene.zone_mm(zid, poses), green, 0.7)
            view.canvas.polyline(img, L.rect_points(self.layout.panel), green, 8.0)
        hint = ""
        if guidance is not None and guidance.help_hint and state.phase is Phase.RUNNING:
            hint = ui_text("help_hint_again" if guidance.stage >= 2 else "help_hint", self._lang(state))
        if hint and not state.message:
            x0, y0, x1, y1 = self.layout.status
            at, anchor = ((x1, y1), "right") if self.hand == "left" else ((x0, y1), "left")
            p.text(img, hint, L.STATUS_EM_MM, self._color("yellow"), at, anchor, "bold")
        if state.message:
            x0, y0, x1, y1 = self.layout.status
            cam_lost = obs is None or not obs.camera_ok
            icon_w = y1 - y0
            if cam_lost:
                p.icon(img, "camera_lost", lambda: pictogram("camera_lost", 128), (x0, y0, x0 + icon_w, y1))
            p.text(
                img,
                state.message,
                L.STATUS_EM_MM,
                self._color("orange"),
                (x0 + (icon_w + 8.0 if cam_lost else 0.0), y1),
                "left",
                "bold",
            )
        if obs is not None and obs.hand_mask_mm:
            for poly in obs.hand_mask_mm:
                view.canvas.fill_dilated(img, poly, (0, 0, 0), self.hand_margin_mm)

    # --- layers --------------------------------------------------------------------------------------
    def _build_layer(
        self,
        view: _View,
        state: StationState,
        poses: Poses,
        blink_on: bool,
        guidance: GuidanceView | None = None,
    ) -> np.ndarray:
        img = view.canvas.blank()
        p = view.painter
        lang = self._lang(state)
        fallback = self.instruction.default_language
        rs = self.scene.step(state.step_index)
        phase = state.phase
        if rs is not None and phase in _OVERLAY_PHASES:
            for o in self._visible(rs, guidance):
                if not o.blink or blink_on:
                    p.overlay(img, rs, o, poses, lang, fallback)
        if phase == Phase.ERROR and state.error_bin in self.instruction.zones:
            red = self._color("red")
            pts = self.scene.zone_mm(state.error_bin, poses)
            p.highlight(img, pts, red, 0.75)
            p.canvas.polyline(img, pts, red, 8.0)
            if self.palette_name == "colorblind":  # a shape too: never colour alone
                x0, y0, x1, y1 = self.instruction.zones[state.error_bin].bounds()
                if self.instruction.zones[state.error_bin].frame == "bench":
                    p.canvas.polyline(img, [(x0, y0), (x1, y1)], (255, 255, 255), 8.0, closed=False)
                    p.canvas.polyline(img, [(x0, y1), (x1, y0)], (255, 255, 255), 8.0, closed=False)
        if phase == Phase.DONE:
            hull = self.scene.fixture_hull_mm(poses)
            if hull:
                p.highlight(img, hull, self._color("green"), 0.55)
        self._build_panel(p, img, state, lang, fallback, self._items(rs, guidance))
        return img

    def _build_panel(
        self,
        p: Painter,
        img: np.ndarray,
        state: StationState,
        lang: str,
        fallback: str,
        items: tuple[str, ...] = PANEL_ITEMS,
    ) -> None:
        lay = self.layout
        phase = state.phase
        rs = self.scene.step(state.step_index)
        k = self.text_scale
        align = lay.align
        color_name = _PANEL_COLOR.get(phase)
        p.panel_frame(img, self._color(color_name) if color_name else None)
        if rs is not None and phase in (Phase.RUNNING, Phase.ERROR, Phase.HELP, Phase.PAUSED):
            p.bar_track(img, rs.total)
            p.counter(img, rs.index + 1, rs.total)
        white, min_em = self._color("white"), L.MIN_TEXT_EM_MM * k
        if phase == Phase.ERROR:
            p.icon(img, "warning", lambda: pictogram("warning"), lay.icon)
            hint = state.error_hint or (rs.step.text.get(lang, fallback) if rs else "")
            p.text_block(img, hint, lay.text, L.HINT_EM_MM * k, white, "bold", min_em, align)
        elif phase == Phase.HELP:
            p.icon(img, "help", lambda: pictogram("help"), lay.icon)
            text = ui_text("help", lang)
            p.text_block(img, text, lay.text, L.HINT_EM_MM * k, white, "bold", min_em, align)
        elif phase == Phase.PAUSED:
            p.icon(img, "pause", lambda: pictogram("pause"), lay.icon)
            text = ui_text("paused", lang)
            p.text_block(img, text, lay.text, L.TEXT_EM_MM * k, DIM_WHITE, "regular", min_em, align)
        elif phase in (Phase.DONE, Phase.FINISHED):
            p.icon(img, "check", lambda: pictogram("check"), lay.icon)
            key = "done" if phase == Phase.DONE else "finished"
            text = f"{ui_text(key, lang)}  {ui_text('units', lang, n=state.cycle)}"
            p.text_block(img, text, lay.text, L.HINT_EM_MM * k, self._color("green"), "bold", min_em, align)
        elif phase == Phase.WAITING or rs is None:
            name = self.instruction.product_name.get(lang, fallback)
            variant = self.instruction.variants.get(self.variant or "")
            if variant is not None:
                name = f"{name} · {variant.name.get(lang, fallback)}"
            text = f"{name}\n{ui_text('waiting', lang)}"
            p.text_block(img, text, lay.text, L.TEXT_EM_MM * k, DIM_WHITE, "regular", min_em, align)
        else:
            media = rs.step.pictogram or rs.step.image
            if media and "pictogram" in items:
                icon = self.scene.image(media)
                p.icon(img, f"media:{media}", lambda: icon, lay.icon)
            if "text" in items:
                text = rs.step.text.get(lang, fallback)
                p.text_block(img, text, lay.text, L.TEXT_EM_MM * k, white, "regular", min_em, align)
