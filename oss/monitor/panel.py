"""The monitor's text: the header (or the supervisor-call banner), the station panel, recent events and
the console line. Text is drawn with the renderer's cached DejaVu sprites (``oss.render.fonts``), so
accents read right and a line drawn before costs only its blend.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from oss.records import Phase
from oss.render.colors import BGR
from oss.render.fonts import text_sprite, text_width, wrap

from .console import ConsoleStatus
from .model import MonitorModel, event_line

BG: BGR = (32, 32, 32)
HEADER: BGR = (64, 64, 64)
WHITE: BGR = (235, 235, 235)
DIM: BGR = (165, 165, 165)
GREEN: BGR = (90, 210, 90)
YELLOW: BGR = (40, 215, 255)
RED: BGR = (70, 70, 255)
BANNER: tuple[BGR, BGR] = ((0, 0, 205), (0, 0, 150))  # blinks between the two, twice a second
BANNER_BORDER_PX = 8
PHASE_COLORS: dict[Phase, BGR] = {
    Phase.RUNNING: GREEN,
    Phase.DONE: GREEN,
    Phase.ERROR: RED,
    Phase.HELP: YELLOW,
    Phase.PAUSED: (0, 150, 255),
    Phase.WAITING: DIM,
    Phase.FINISHED: DIM,
}
STAGE_NAMES = ("none", "more guidance", "animation", "sound", "supervisor called")


def put_text(
    img: np.ndarray,
    text: str,
    x: int,
    y: int,
    em: int,
    color: BGR,
    weight: str = "regular",
    max_w: int | None = None,
) -> int:
    """Draw one line with its box's top-left at (x, y); cut with '…' to ``max_w`` px. Returns its width."""
    if not text:
        return 0
    pre, inv = _prepared(text, em, color, weight, max_w)
    h, w = inv.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(img.shape[1], x + w), min(img.shape[0], y + h)
    if x1 <= x0 or y1 <= y0:
        return 0
    roi = img[y0:y1, x0:x1]
    sx, sy = slice(x0 - x, x1 - x), slice(y0 - y, y1 - y)
    roi[:] = (roi * inv[sy, sx] + pre[sy, sx]) // 255
    return w


@lru_cache(maxsize=2048)
def _prepared(
    text: str, em: int, color: BGR, weight: str, max_w: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """The line as (colour × alpha + 127, 255 − alpha), uint16, ready to blend; cut to ``max_w``."""
    if max_w is not None and text_width(text, em, weight) > max_w:
        while len(text) > 1 and text_width(text + "…", em, weight) > max_w:
            text = text[: max(1, len(text) - max(1, len(text) // 8))]
        text += "…"
    bgra = text_sprite(text, em, color, weight).bgra
    a = bgra[..., 3:4].astype(np.uint16)
    return bgra[..., :3].astype(np.uint16) * a + 127, 255 - a


@lru_cache(maxsize=256)
def _wrapped(text: str, em: int, width: int) -> list[str]:
    return wrap(text, em, width)


def line_height(em: int) -> int:
    return round(em * 1.35)


def draw_header(img: np.ndarray, model: MonitorModel, title: str, height: int, t: float) -> None:
    """The top bar: station, operator and product; a red banner while a supervisor is called."""
    w = img.shape[1]
    call = model.call
    if call is None:
        img[:height] = HEADER
        put_text(img, title, 14, (height - line_height(22)) // 2, 22, WHITE, "bold", max_w=w - 28)
        return
    img[:height] = BANNER[int(t * 2) % 2]
    snap = model.snap
    who = (snap.operator or "the operator") if snap is not None else "the operator"
    where = f" at step '{call.step_uid}'" if call.step_uid else ""
    since = f" · {max(0.0, t - call.t):.0f} s" if snap is not None else ""
    if call.stuck:
        text = f"SUPERVISOR CALLED: {who} is stuck{where}{since}"
    elif call.source:
        text = f"HELP REQUESTED by {who}{where} ({call.source}){since}"
    else:
        text = f"HELP REQUESTED at the sign-in screen{since}"
    put_text(img, text, 14, (height - line_height(26)) // 2, 26, (255, 255, 255), "bold", max_w=w - 28)
    b = BANNER_BORDER_PX
    img[:, :b] = img[:, -b:] = img[-b:, :] = BANNER[0]


def draw_status(
    img: np.ndarray, model: MonitorModel, x: int, y: int, w: int, step_text: str, step_label: str
) -> int:
    """The station panel: step, phase, unit, level, bins, camera; returns the y below it."""
    snap = model.snap
    if snap is None:
        put_text(img, "waiting for the station ...", x, y, 18, DIM)
        return y + line_height(18)
    st = snap.state
    y += 4
    put_text(img, step_label, x, y, 24, WHITE, "bold", max_w=w)
    y += line_height(24)
    for line in _wrapped(step_text, 17, w)[:3]:
        put_text(img, line, x, y, 17, WHITE, max_w=w)
        y += line_height(17)
    y += 6
    color = PHASE_COLORS.get(st.phase, WHITE)
    img[y : y + 30, x : x + min(w, 170)] = color
    put_text(img, st.phase.value.upper(), x + 8, y + 2, 19, (20, 20, 20), "bold")
    put_text(img, f"units done: {st.cycle}", x + 182, y + 4, 17, WHITE)
    y += 38
    if st.error_hint:
        put_text(img, st.error_hint, x, y, 16, RED, max_w=w)
        y += line_height(16)
    if st.message:
        put_text(img, st.message, x, y, 16, YELLOW, max_w=w)
        y += line_height(16)
    rows: list[tuple[str, str, BGR]] = []
    if snap.signed_in:
        rows.append(("operator", snap.operator or "(anonymous)", WHITE))
        rows.append(("level", f"{snap.level} ({snap.level_mode})", WHITE))
        if snap.shown and snap.shown != snap.level:
            rows.append(("showing", snap.shown, YELLOW))
        stage = STAGE_NAMES[snap.stage] if 0 <= snap.stage < len(STAGE_NAMES) else str(snap.stage)
        rows.append(("hesitation", stage, YELLOW if snap.stage else DIM))
    else:
        rows.append(("operator", "nobody signed in", DIM))
    rows.append(("bins lit", ", ".join(snap.expected_bins) or "-", WHITE))
    obs = snap.obs
    cam_ok = obs is None or obs.camera_ok
    rows.append(
        ("camera", f"{model.fps.fps:.1f} fps" + ("" if cam_ok else " · NO IMAGE"), WHITE if cam_ok else RED)
    )
    if obs is not None:
        rows.append(("seen", f"{len(obs.hands)} hand(s), frame {obs.frame_index}", DIM))
    for label, value, col in rows:
        put_text(img, label, x, y, 16, DIM)
        put_text(img, value, x + 110, y, 16, col, max_w=w - 110)
        y += line_height(16)
    return y


def draw_events(img: np.ndarray, model: MonitorModel, x: int, y: int, w: int, bottom: int) -> None:
    put_text(img, "Recent events", x, y, 17, WHITE, "bold")
    y += line_height(17) + 2
    em = 13
    for ev in reversed(model.events):  # newest first
        if y + line_height(em) > bottom:
            break
        col = (
            RED
            if ev.kind == "error" and not ev.get("cleared")
            else YELLOW
            if ev.kind
            in (
                "help",
                "hesitation",
                "supervisor",
                "skip",
                "restart",
            )
            else WHITE
        )
        put_text(img, event_line(ev), x, y, em, col, max_w=w)
        y += line_height(em)


def draw_console(img: np.ndarray, status: ConsoleStatus, x: int, y: int, w: int) -> None:
    """The supervisor's line: locked or unlocked (with the keys), the digits typed, the last outcome."""
    if status.unlocked:
        m, s = divmod(int(status.remaining_s), 60)
        head, col = f"UNLOCKED {m}:{s:02d}", GREEN
        keys = "S skip step · R restart unit · H answer call · L level · + / - guidance · Esc lock"
    else:
        head, col = "LOCKED", DIM if status.has_pin else YELLOW
        keys = "type the supervisor PIN and press Enter" if status.has_pin else "no supervisor PIN set"
        if status.blocked_s > 0:
            keys = f"PIN entry blocked for {status.blocked_s:.0f} s"
    hw = put_text(img, head, x, y, 22, col, "bold")
    if not status.unlocked and status.typed:
        keys += "   " + "●" * status.typed
    put_text(img, keys, x + hw + 16, y + 4, 17, WHITE, max_w=w - hw - 16)
    y += line_height(22) + 6
    if status.message:
        put_text(img, status.message, x, y, 18, RED if status.warning else GREEN, max_w=w)
