"""Projected touch buttons: a fingertip resting on a button for a short dwell presses it.

A press needs, for ``dwell_s`` (default 0.4 s) without interruption:

* a hand on the bench, not held well above it (``Hand.raised``: seen from above, a raised hand appears
  displaced on the bench plane, and may look as if on a button it hovers beside);
* a fingertip inside the button circle: MediaPipe's index or middle fingertip (landmark 8 or 12) where
  the hand has landmarks, else the foreground tip (the point of the arm furthest from the operator);
* the fingertip resting: slower than ``still_mm_s``;
* with landmarks, the fingertip is the hand's deepest point inside the button (no knuckle, palm or other
  part of the hand reaches further along the hand inside it), its finger is stretched (tip further from
  the wrist than the finger's middle joint) and no palm landmark lies on the button. That rejects an arm
  or hand resting across the button with the fingers beyond it, a fist or the back of curled fingers on
  it; ``palm_down_only`` also rejects a hand turned palm up (pressing with the back of the finger).

A hand passing over never rests for the dwell. After a press the button stays latched until every
fingertip has left it by ``release_margin_mm``: holding the finger there does not repeat the press.

``TouchButtons.update(obs, t)`` returns the presses as ``InputEvent(button, "touch", t)``;
``progress()`` gives 0..1 per button for the filling ring that ``draw_touch_buttons`` draws.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from oss.instructions.model import BENCH_FRAME, Instruction, Press, iter_conditions
from oss.perception.landmarks import INDEX_MCP, MIDDLE_MCP, PALM, PINKY_MCP, WRIST
from oss.records import Button, Hand, InputEvent, Observation, OssError, Point

PRESS_TIPS = (8, 12)  # index and middle fingertip; each one's middle joint (PIP) is tip - 2


@dataclass(frozen=True)
class TouchButton:
    """A projected button at a fixed bench position."""

    id: Button
    center_mm: Point
    radius_mm: float = 32.0


@dataclass(frozen=True)
class TouchConfig:
    dwell_s: float = 0.4  # the fingertip rests this long on the button
    still_mm_s: float = 120.0  # 'resting': the fingertip moves slower than this ...
    speed_window_s: float = 0.1  # ... measured over this window
    grace_s: float = 0.1  # a fingertip missing this long (a dropped frame) does not restart the dwell
    release_margin_mm: float = 15.0  # after a press, every tip must leave the button by this much
    allow_foreground_tip: bool = True  # hands without landmarks press with their foreground tip
    palm_down_only: bool = False  # with landmarks and handedness: reject a hand turned palm up


@dataclass
class _State:
    since: float | None = None  # when the current rest on the button began
    last_seen: float = -1e9
    track: list[tuple[float, float, float]] = field(default_factory=list)  # t, x, y of the pressing tip
    latched: bool = False
    progress: float = 0.0


def palm_down(lm: np.ndarray, handedness: str) -> bool | None:
    """Whether the camera sees the back of the hand (palm on the bench side); None if unknown.

    In bench mm (x right, y away, seen from above) a right hand palm down has its index knuckle
    clockwise of its little-finger knuckle, seen from the wrist.
    """
    if handedness not in ("Left", "Right"):
        return None
    a, b = lm[INDEX_MCP] - lm[WRIST], lm[PINKY_MCP] - lm[WRIST]
    cross = float(a[0] * b[1] - a[1] * b[0])
    return (cross < 0) if handedness == "Right" else (cross > 0)


def landmark_press_point(lm: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray | None:
    """The fingertip pressing a button at ``centre`` (bench mm), or None if the hand is not pressing it
    with a fingertip (see the module docstring). ``lm``: 21×2 landmarks, bench mm."""
    inside = np.hypot(lm[:, 0] - centre[0], lm[:, 1] - centre[1]) <= radius
    if not inside.any() or inside[list(PALM)].any():
        return None
    axis = lm[MIDDLE_MCP] - lm[WRIST]
    n = float(np.hypot(*axis))
    if n < 1e-6:
        return None
    reach = (lm - lm[WRIST]) @ (axis / n)
    idx = np.flatnonzero(inside)
    deepest = int(idx[np.argmax(reach[idx])])
    if deepest not in PRESS_TIPS:
        return None
    pip = deepest - 2
    if float(np.hypot(*(lm[deepest] - lm[WRIST]))) <= float(np.hypot(*(lm[pip] - lm[WRIST]))):
        return None  # curled finger: the back of the finger, not its tip
    return np.asarray(lm[deepest], np.float64)


class TouchButtons:
    """Turns hands into touch button presses. One instance per station; call ``update`` every frame."""

    def __init__(self, buttons: Sequence[TouchButton], config: TouchConfig | None = None) -> None:
        ids = [b.id for b in buttons]
        if len(set(ids)) != len(ids):
            raise OssError(f"touch buttons: each button may appear once, got {[i.value for i in ids]}")
        self.buttons = tuple(buttons)
        self.cfg = config or TouchConfig()
        self._state = {b.id: _State() for b in self.buttons}

    def focus_areas(self) -> tuple[tuple[Point, float], ...]:
        """(centre, radius) of every button: where the hand tracker should give landmarks every frame."""
        return tuple((b.center_mm, b.radius_mm) for b in self.buttons)

    def progress(self) -> dict[Button, float]:
        """0..1 per button: how far the dwell of the resting fingertip is (1 while a press is held)."""
        return {
            b.id: (1.0 if self._state[b.id].latched else self._state[b.id].progress) for b in self.buttons
        }

    def reset(self) -> None:
        self._state = {b.id: _State() for b in self.buttons}

    def _press_point(self, hand: Hand, b: TouchButton) -> np.ndarray | None:
        if hand.raised:  # held well above the bench: it only looks as if on the button
            return None
        c = np.asarray(b.center_mm, np.float64)
        if len(hand.landmarks_mm) == 21:
            lm = np.asarray(hand.landmarks_mm, np.float64)
            if self.cfg.palm_down_only and palm_down(lm, hand.handedness) is False:
                return None
            return landmark_press_point(lm, c, b.radius_mm)
        if not self.cfg.allow_foreground_tip:
            return None
        tip = np.asarray(hand.tip_mm, np.float64)
        return tip if float(np.hypot(*(tip - c))) <= b.radius_mm else None

    @staticmethod
    def _tips(hand: Hand) -> list[np.ndarray]:
        pts = [np.asarray(hand.tip_mm, np.float64)]
        if len(hand.landmarks_mm) == 21:
            pts += [np.asarray(hand.landmarks_mm[i], np.float64) for i in PRESS_TIPS]
        return pts

    def update(self, obs_or_hands: Observation | Iterable[Hand], t: float) -> list[InputEvent]:
        """Feed one frame's hands; returns the presses completed in this frame."""
        hands = obs_or_hands.hands if isinstance(obs_or_hands, Observation) else tuple(obs_or_hands)
        cfg = self.cfg
        events: list[InputEvent] = []
        for b in self.buttons:
            st = self._state[b.id]
            c = np.asarray(b.center_mm, np.float64)
            if st.latched:
                near = any(
                    float(np.hypot(*(p - c))) <= b.radius_mm + cfg.release_margin_mm
                    for h in hands
                    for p in self._tips(h)
                )
                if near:
                    st.last_seen = t
                elif t - st.last_seen > cfg.grace_s:
                    st.latched = False
                    st.since, st.track, st.progress = None, [], 0.0
                continue
            points = [p for p in (self._press_point(h, b) for h in hands) if p is not None]
            if not points:
                if t - st.last_seen > cfg.grace_s:
                    st.since, st.track, st.progress = None, [], 0.0
                continue
            p = min(points, key=lambda q: float(np.hypot(*(q - c))))
            st.last_seen = t
            st.track = [s for s in st.track if t - s[0] <= cfg.speed_window_s] + [
                (t, float(p[0]), float(p[1]))
            ]
            t0, x0, y0 = st.track[0]
            speed = math.hypot(p[0] - x0, p[1] - y0) / (t - t0) if t > t0 else 0.0
            if st.since is None or speed > cfg.still_mm_s:
                st.since = t
            st.progress = min(1.0, (t - st.since) / cfg.dwell_s) if cfg.dwell_s > 0 else 1.0
            if st.progress >= 1.0:
                st.latched = True
                events.append(InputEvent(b.id, "touch", t, device=f"touch:{b.id.value}"))
        return events


# --- layout ---------------------------------------------------------------------------------------


def _zone_polygons(instruction: Instruction) -> list[np.ndarray]:
    out = []
    for z in instruction.zones.values():
        if z.frame == BENCH_FRAME or z.frame not in instruction.fixtures:
            pts = z.points
        else:
            f = instruction.fixtures[z.frame]
            pts = tuple(f.to_bench(x, y) for x, y in z.points)
        out.append(np.asarray(pts, np.float32).reshape(-1, 1, 2))
    return out


def uses_confirm(instruction: Instruction) -> bool:
    """Whether any step waits for a ``confirm`` press (a check step)."""
    return any(
        isinstance(c, Press) and c.button == Button.CONFIRM.value
        for s in instruction.steps
        for c in iter_conditions(s.done)
    )


def default_layout(
    instruction: Instruction,
    *,
    radius_mm: float = 32.0,
    clearance_mm: float = 25.0,
    panel_depth_mm: float | None = None,
    buttons: Sequence[Button] | None = None,
) -> tuple[TouchButton, ...]:
    """Buttons in a row near the operator's edge, just beyond the operator panel, clear of every zone
    (``clearance_mm``, zones on fixtures at their nominal pose). The most used button sits furthest
    right: NEXT, then CONFIRM (only if a step waits for it), BACK; HELP apart at the left end."""
    from oss.render.layout import PanelLayout

    bw, bd = instruction.bench.width_mm, instruction.bench.depth_mm
    polys = _zone_polygons(instruction)
    if panel_depth_mm is None:
        ys = [float(p[:, 0, 1].min()) for p in polys]
        panel_depth_mm = PanelLayout.fit(bw, bd, min(ys) if ys else bd).panel[3]
    if buttons is None:
        buttons = [
            Button.NEXT,
            *([Button.CONFIRM] if uses_confirm(instruction) else []),
            Button.BACK,
            Button.HELP,
        ]
    r, gap = radius_mm, clearance_mm
    placed: list[TouchButton] = []

    def free(x: float, y: float) -> bool:
        if x - r < gap or x + r > bw - gap or y + r > bd - gap:
            return False
        for p in polys:
            if cv2.pointPolygonTest(p, (x, y), True) > -(r + gap):
                return False
        return all(math.hypot(x - q.center_mm[0], y - q.center_mm[1]) >= 2 * r + gap for q in placed)

    y = panel_depth_mm + gap + r
    todo = list(buttons)
    while todo and y + r <= bd - gap:
        xs = np.arange(bw - gap - r, gap + r - 1e-6, -5.0)
        for bid in list(todo):
            cand = xs[::-1] if bid == Button.HELP else xs  # HELP from the left, the others from the right
            for x in cand:
                if free(float(x), y):
                    placed.append(TouchButton(bid, (float(x), float(y)), r))
                    todo.remove(bid)
                    break
        y += 2 * r + gap
    if todo:
        raise OssError(
            f"{instruction.source or 'instruction'}: no room on the bench for touch buttons "
            f"{[b.value for b in todo]} of radius {r:g} mm clear of the zones; declare their positions "
            "in the station configuration or make them smaller."
        )
    return tuple(placed)


# --- drawing --------------------------------------------------------------------------------------

LABELS = {
    Button.NEXT: "NEXT",
    Button.BACK: "BACK",
    Button.HELP: "HELP",
    Button.CONFIRM: "OK",
    Button.PAUSE: "II",
}


def _circle(
    h: np.ndarray, c: Point, r: float, a0: float = 0.0, a1: float = 2 * math.pi, n: int = 48
) -> np.ndarray:
    a = np.linspace(a0, a1, max(2, int(n * abs(a1 - a0) / (2 * math.pi)) + 1))
    pts = np.column_stack([c[0] + r * np.cos(a), c[1] + r * np.sin(a)]).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, h).reshape(-1, 2)


def draw_touch_buttons(
    image: np.ndarray,
    buttons: Sequence[TouchButton],
    progress: dict[Button, float],
    image_from_bench: np.ndarray,
    *,
    color: tuple[int, int, int] = (230, 230, 230),
    fill_color: tuple[int, int, int] = (60, 200, 60),
    ring_mm: float = 7.0,
) -> None:
    """Draw each button (outline, label) and its dwell ring into ``image`` (BGR, in place).

    ``image_from_bench``: 3×3 homography bench mm → image px (``calibration.proj_from_bench`` for the
    projector image). The ring lies outside the button (radius + ``ring_mm``) so a finger on the button
    does not hide it, and fills clockwise from the top as the dwell progresses.
    """
    h = np.asarray(image_from_bench, np.float64)
    for b in buttons:
        c, r = b.center_mm, b.radius_mm
        outline = _circle(h, c, r)
        px_per_mm = float(np.linalg.norm(outline[0] - outline[len(outline) // 2])) / (2 * r)
        thick = max(1, round(2.5 * px_per_mm))
        cv2.polylines(
            image, [np.round(outline * 8).astype(np.int32)], True, color, thick, cv2.LINE_AA, shift=3
        )
        label = LABELS.get(b.id, b.id.value.upper())
        scale = 0.5 * r * px_per_mm / 20.0 / max(1, len(label) / 2.5)
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, max(1, thick // 2))
        cx, cy = cv2.perspectiveTransform(np.array([[c]], np.float64), h)[0, 0]
        org = (round(cx - tw / 2), round(cy + th / 2))
        cv2.putText(
            image, label, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, max(1, thick // 2), cv2.LINE_AA
        )
        p = float(np.clip(progress.get(b.id, 0.0), 0.0, 1.0))
        if p > 0:
            # bench y points away from the operator: the top of the button, as the operator sees it, is +y
            arc = _circle(h, c, r + ring_mm, math.pi / 2, math.pi / 2 - 2 * math.pi * p)
            cv2.polylines(
                image,
                [np.round(arc * 8).astype(np.int32)],
                p >= 1.0,
                fill_color,
                2 * thick,
                cv2.LINE_AA,
                shift=3,
            )
