"""The supervisor monitor's image (BGR, 1280×720 by default): the camera view with what perception
and the engine know drawn on it, the station panel, recent events and the supervisor's console line.

Layout::

    ┌──────────── header: station · operator · product  (red banner while a supervisor is called) ─┐
    │ camera view (downscaled):                              │ step k/n, its text, phase, units,    │
    │   zones and bins (lit bins green, a wrong bin red),    │ level (mode, shown), hesitation,     │
    │   part presence, fixture markers, hands (outline,      │ bins lit, camera fps                 │
    │   tip, MediaPipe landmarks), picks as they complete    │ recent events (newest first)         │
    │ console: LOCKED / UNLOCKED m:ss, keys, last outcome    │                                      │
    └────────────────────────────────────────────────────────┴──────────────────────────────────────┘

Geometry: bench mm → raw camera px with ``Calibration.bench_to_camera`` (lens distortion included,
zone edges subdivided so they bend as the camera sees them), then ``camera_to_view``.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from oss.calibration.model import Calibration
from oss.instructions.model import BENCH_FRAME, Instruction, RunStep, iter_conditions
from oss.perception.landmarks import HAND_CONNECTIONS
from oss.records import Observation, Presence
from oss.render.colors import BGR
from oss.render.fonts import text_width
from oss.render.scene import Poses, overlay_zones

from . import panel as P
from .console import ConsoleStatus
from .model import MonitorModel

HEADER_H = 56
CONSOLE_H = 96
CAMERA_SHARE = 0.7  # of the width
SEGMENT_MM = 15.0  # zone edges are subdivided this finely before the lens distortion bends them
SHIFT = 4  # fractional bits for cv2 drawing

ZONE: BGR = (120, 120, 120)
STEP_ZONE: BGR = (235, 235, 235)  # a zone the current step shows or checks
BIN: BGR = (230, 190, 0)
LIT: BGR = (0, 230, 0)
WRONG: BGR = (60, 60, 255)
HAND_OUTLINE: BGR = (0, 200, 255)
TIP: BGR = (255, 0, 255)
LANDMARK: BGR = (255, 255, 0)
PRESENCE: dict[Presence, BGR] = {
    Presence.PRESENT: (0, 230, 0),
    Presence.EMPTY: (130, 130, 130),
    Presence.UNKNOWN: (0, 215, 255),
}


def _fixed(px: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(px, np.float64) * (1 << SHIFT)).astype(np.int32).reshape(-1, 1, 2)


def densify(points: Sequence[tuple[float, float]], step_mm: float = SEGMENT_MM) -> np.ndarray:
    """A closed polygon with each edge cut into pieces of at most ``step_mm``."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    out = []
    for a, b in zip(pts, np.roll(pts, -1, axis=0), strict=True):
        n = max(1, int(np.ceil(np.hypot(*(b - a)) / step_mm)))
        out.append(a + (b - a) * (np.arange(n)[:, None] / n))
    return np.concatenate(out) if out else pts


class MonitorView:
    """Draws the monitor image of a :class:`MonitorModel` for one instruction and calibration."""

    def __init__(
        self,
        instruction: Instruction,
        variant: str | None,
        calibration: Calibration,
        station_id: str = "",
        size: tuple[int, int] = (1280, 720),
    ) -> None:
        self.instruction, self.variant, self.calibration = instruction, variant, calibration
        self.station_id = station_id
        self.size = (int(size[0]), int(size[1]))
        self.steps: tuple[RunStep, ...] = instruction.run_steps(variant)
        w, h = self.size
        cw, ch = calibration.camera_size
        area_w, area_h = round(w * CAMERA_SHARE), h - HEADER_H - CONSOLE_H
        self.scale = min(area_w / cw, area_h / ch)
        self.camera_rect = (
            (area_w - round(cw * self.scale)) // 2,
            HEADER_H,
            round(cw * self.scale),
            round(ch * self.scale),
        )  # x, y, w, h of the camera view in the monitor image
        self.panel_x = area_w + 14
        self._zones: dict[tuple, list[tuple[str, np.ndarray, tuple[float, float]]]] = {}
        self._step_zones: dict[int, frozenset[str]] = {}
        self._background = np.empty((h, w, 3), np.uint8)
        self._background[:] = P.BG

    # --- geometry ------------------------------------------------------------------------------------
    def camera_to_view(self, px: np.ndarray) -> np.ndarray:
        """Raw camera px (N×2) → monitor image px (N×2)."""
        x0, y0, _, _ = self.camera_rect
        return np.asarray(px, np.float64).reshape(-1, 2) * self.scale + (x0, y0)

    def bench_to_view(self, pts_mm: np.ndarray | Sequence[tuple[float, float]]) -> np.ndarray:
        pts = np.asarray(pts_mm, np.float64).reshape(-1, 2)
        if len(pts) == 0:
            return pts
        return self.camera_to_view(self.calibration.bench_to_camera(pts))

    def zone_polygons(self, obs: Observation | None) -> list[tuple[str, np.ndarray, tuple[float, float]]]:
        """(zone id, outline in monitor px, centre in monitor px), for the fixture poses seen."""
        poses = Poses.from_observation(obs, self.instruction.fixtures)
        if poses.key not in self._zones:
            if len(self._zones) > 32:
                self._zones.clear()
            out = []
            for zid, z in self.instruction.zones.items():
                if z.frame == BENCH_FRAME:
                    pts = list(z.points)
                else:
                    fx = self.instruction.fixtures[z.frame]
                    pts = [fx.to_bench(x, y, poses.get(z.frame)) for x, y in z.points]
                outline = self.bench_to_view(densify(pts))
                cx, cy = self.bench_to_view([tuple(np.mean(pts, axis=0))])[0]
                out.append((zid, outline, (float(cx), float(cy))))
            self._zones[poses.key] = out
        return self._zones[poses.key]

    def step_zones(self, index: int) -> frozenset[str]:
        """The zones run step ``index`` shows or checks (labelled and drawn brighter)."""
        if index not in self._step_zones:
            rs = self.steps[index] if 0 <= index < len(self.steps) else None
            zones: set[str] = set()
            if rs is not None:
                for o in rs.show:
                    zones.update(overlay_zones(o))
                for c in iter_conditions(rs.done):
                    zones.update(str(v) for v in (getattr(c, "zone", None), getattr(c, "bin", None)) if v)
            self._step_zones[index] = frozenset(zones)
        return self._step_zones[index]

    # --- the image -------------------------------------------------------------------------------------
    def render(self, model: MonitorModel, console: ConsoleStatus, t: float | None = None) -> np.ndarray:
        w, h = self.size
        img = self._background.copy()
        snap = model.snap
        t = snap.t if t is None and snap is not None else (t or 0.0)
        self._camera(img, model, t)
        x0, y0, cw, ch = self.camera_rect
        P.draw_console(img, console, 14, y0 + ch + 14, x0 + cw - 14)
        self._legend(img, 14, h - 28)
        pw = w - self.panel_x - 14
        y = P.draw_status(img, model, self.panel_x, HEADER_H + 10, pw, *self._step_texts(model))
        P.draw_events(img, model, self.panel_x, y + 12, pw, h - 10)
        P.draw_header(img, model, self._title(model), HEADER_H, t)
        return img

    def _title(self, model: MonitorModel) -> str:
        ins = self.instruction
        name = ins.product_name.get("en", ins.default_language) or ins.product_id
        who = model.snap.operator if model.snap is not None and model.snap.signed_in else ""
        parts = [self.station_id, f"operator {who}" if who else "nobody signed in", f"{name} v{ins.version}"]
        if self.variant:
            parts[-1] += f" / {self.variant}"
        return "  ·  ".join(p for p in parts if p)

    def _step_texts(self, model: MonitorModel) -> tuple[str, str]:
        snap = model.snap
        if snap is None or not 0 <= snap.state.step_index < len(self.steps):
            return "", "no step"
        rs = self.steps[snap.state.step_index]
        text = rs.step.text.get(snap.state.language, self.instruction.default_language)
        return text, f"Step {rs.index + 1}/{rs.total}  {rs.uid}"

    def _camera(self, img: np.ndarray, model: MonitorModel, t: float) -> None:
        x0, y0, cw, ch = self.camera_rect
        view = img[y0 : y0 + ch, x0 : x0 + cw]
        frame = model.image_frame
        if frame is not None:
            src = frame.image if frame.image.ndim == 3 else cv2.cvtColor(frame.image, cv2.COLOR_GRAY2BGR)
            view[:] = cv2.resize(src, (cw, ch), interpolation=cv2.INTER_LINEAR)
        else:
            view[:] = (20, 20, 20)
            P.put_text(img, "no camera image yet", x0 + 20, y0 + 20, 20, P.DIM)
        snap = model.snap
        obs = snap.obs if snap is not None else None
        lit = set(snap.expected_bins) if snap is not None else set()
        wrong = snap.state.error_bin if snap is not None else ""
        presence = dict(obs.presence) if obs is not None else {}
        zones = self.zone_polygons(obs)
        current = self.step_zones(snap.state.step_index) if snap is not None else frozenset()
        labelled = []
        for zid, outline, _ in zones:
            z = self.instruction.zones[zid]
            if zid == wrong:
                color, thick = WRONG, 3
            elif zid in lit:
                color, thick = LIT, 3
            elif z.is_bin:
                color, thick = BIN, 2
            else:
                color, thick = (STEP_ZONE, 2) if zid in current else (ZONE, 1)
            cv2.polylines(img, [_fixed(outline)], True, color, thick, cv2.LINE_AA, SHIFT)
            if z.is_bin or zid in current or zid in presence:
                labelled.append((zid, outline))
        for zid, outline in labelled:  # inside the zone's top-left corner, on a dark strip
            x, y = (int(v) for v in outline.min(axis=0))
            w = int(text_width(zid, 12)) + 8
            cv2.rectangle(img, (x + 2, y + 3), (x + w, y + 19), (25, 25, 25), -1)
            P.put_text(img, zid, x + 5, y + 2, 12, P.WHITE)
        for zid, _, (cx, cy) in zones:
            if zid in presence:
                cv2.circle(img, (round(cx), round(cy)), 7, PRESENCE[presence[zid]], -1, cv2.LINE_AA)
                P.put_text(
                    img, presence[zid].value, round(cx) + 10, round(cy) - 9, 12, PRESENCE[presence[zid]]
                )
        if obs is not None:
            self._hands(img, obs)
            for fp in obs.fixtures:
                a = np.radians(fp.angle_deg)
                ends = [(fp.x_mm, fp.y_mm), (fp.x_mm + 30 * np.cos(a), fp.y_mm + 30 * np.sin(a))]
                p, q = self.bench_to_view(ends)
                cv2.drawMarker(img, (round(p[0]), round(p[1])), P.WHITE, cv2.MARKER_CROSS, 16, 2)
                cv2.line(img, (round(p[0]), round(p[1])), (round(q[0]), round(q[1])), P.WHITE, 2, cv2.LINE_AA)
        centers = {zid: c for zid, _, c in zones}
        for pick in model.recent_picks(t):
            if pick.bin in centers:
                cx, cy = centers[pick.bin]
                P.put_text(
                    img, f"PICK {pick.bin}", round(cx) - 30, round(cy) + 10, 16, (255, 255, 255), "bold"
                )
        if obs is not None and not obs.camera_ok:
            P.put_text(img, "CAMERA: NO IMAGE", x0 + 20, y0 + ch - 40, 24, P.RED, "bold")

    def _legend(self, img: np.ndarray, x: int, y: int) -> None:
        for label, color in (
            ("lit bin", LIT),
            ("wrong pick", WRONG),
            ("bin", BIN),
            ("step zone", STEP_ZONE),
            ("fingertip", TIP),
            ("arm", HAND_OUTLINE),
            ("landmarks", LANDMARK),
            ("part present", PRESENCE[Presence.PRESENT]),
            ("covered", PRESENCE[Presence.UNKNOWN]),
        ):
            cv2.rectangle(img, (x, y + 5), (x + 12, y + 17), color, -1)
            x += 18 + P.put_text(img, label, x + 16, y, 13, P.DIM) + 12

    def _hands(self, img: np.ndarray, obs: Observation) -> None:
        for outline in obs.hand_mask_mm:
            if len(outline) >= 3:
                cv2.polylines(
                    img, [_fixed(self.bench_to_view(outline))], True, HAND_OUTLINE, 1, cv2.LINE_AA, SHIFT
                )
        for hand in obs.hands:
            if len(hand.landmarks_mm) == 21:
                lm = self.bench_to_view(hand.landmarks_mm)
                for a, b in HAND_CONNECTIONS:
                    cv2.line(img, _pt(lm[a]), _pt(lm[b]), LANDMARK, 1, cv2.LINE_AA)
                for p in lm:
                    cv2.circle(img, _pt(p), 3, LANDMARK, -1, cv2.LINE_AA)
            tip = self.bench_to_view([hand.tip_mm])[0]
            cv2.circle(img, _pt(tip), 8, TIP, 2, cv2.LINE_AA)
            cv2.circle(img, _pt(tip), 3, TIP, -1, cv2.LINE_AA)
            label = ",".join(hand.zones) or hand.source
            P.put_text(img, label, _pt(tip)[0] + 10, _pt(tip)[1] - 20, 13, TIP, max_w=180)


def _pt(p: np.ndarray) -> tuple[int, int]:
    return (round(float(p[0])), round(float(p[1])))
