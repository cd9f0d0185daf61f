"""Hand landmarks with MediaPipe, run on crops around the arm tips the foreground already finds.

A hand over a 1.2 m bench spans ~180 px of a 1280×720 frame: too small for the palm detector on the
whole frame (it sees the image at 192×192). So for each arm tip (bench mm → camera px through the
calibration) a square of ``crop_mm`` around the hand is cut from the camera frame and resampled to
``crop_px``; MediaPipe's ``HandLandmarker`` runs there in VIDEO mode (one landmarker per hand slot, so
it tracks between frames without re-running the palm detector), and the landmarks go back to camera px
and bench mm.

Budget: MediaPipe costs several ms per crop, so it runs on at most ``max_crops_per_frame`` crops per
frame: every frame for a hand near a focus area (a touch button), every ``idle_every`` frames for the
others. Between runs the last landmarks are carried along with the foreground tip for ``hold_s``, so a
frame without a run (or a missed detection) does not lose the hand: ``fuse_hands`` then merges them
into the foreground hands.

Wiring (the pipeline runs its foreground detector before further detectors)::

    perception = Perception(instruction, calibration, variant)
    tracker = MediaPipeHandTracker(calibration, foreground=perception.arms)
    perception.hand_detectors = (tracker,)
    tracker.set_focus(buttons.focus_areas())
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from oss.calibration.model import Calibration
from oss.perception.config import PerceptionConfig
from oss.perception.foreground import BenchView
from oss.perception.hands import ForegroundHandDetector, segment_arms
from oss.perception.landmarks import (
    FINGERTIPS,
    HandLandmarks,
    LandmarkerOptions,
    create_landmarker,
    from_mediapipe,
    to_mp_image,
)
from oss.records import Hand, Point

Focus = tuple[Point, float]  # centre (bench mm), radius (mm)


@dataclass(frozen=True)
class TrackerConfig:
    """Settings of the MediaPipe hand tracker (bench mm, seconds)."""

    task_file: str | None = None  # a hand_landmarker.task; None: the models inside the mediapipe package
    crop_mm: float = 560.0  # side of the bench square cut around each hand (the hand fills about a third)
    crop_px: int = 192  # ... resampled to this (up or down): the palm detector's own input size
    hand_back_mm: float = 80.0  # the crop centre lies this far from the tip towards the arm
    max_hands: int = 2
    min_detection: float = 0.5
    min_presence: float = 0.5
    min_tracking: float = 0.5
    max_crops_per_frame: int = 1  # MediaPipe runs at most this often per frame
    idle_every: int = 6  # a hand away from every focus area is refreshed every n-th frame (0: never)
    focus_margin_mm: float = 150.0  # a tip this close to a focus area gets landmarks every frame
    hold_s: float = 0.5  # landmarks are carried with the foreground tip this long after the last detection
    slot_match_mm: float = 150.0  # a foreground tip keeps its slot if it moved less than this per frame


@dataclass
class _Slot:
    landmarker: Any
    tip_mm: np.ndarray | None = None  # the foreground tip this slot follows (this frame)
    last_ts: int = -1
    last_run_frame: int = -(10**9)
    seen_t: float = -1e9
    seen_tip_mm: np.ndarray | None = None  # foreground tip when the landmarks were seen
    landmarks_mm: np.ndarray | None = None  # 21×2
    landmarks_px: np.ndarray | None = None  # 21×2 camera px (or bench image px without a camera image)
    handedness: str = ""
    score: float = 0.0


@dataclass
class TrackerStats:
    """What the tracker did (for benchmarks and tests)."""

    frames: int = 0
    runs: int = 0
    found: int = 0
    carried: int = 0
    run_frames: list[int] = field(default_factory=list)
    detect_ms: list[float] = field(default_factory=list)  # time of each detect call


def _mirrored(cal: Calibration) -> bool:
    """True if the camera image is a mirror view of the bench seen from above (then MediaPipe's
    handedness, meant for unmirrored images, must be swapped)."""
    cx, cy = cal.bench_size_mm[0] / 2, cal.bench_size_mm[1] / 2
    p = cal.bench_to_camera(np.array([[cx, cy], [cx + 10, cy], [cx, cy + 10]]))
    a, b = p[1] - p[0], p[2] - p[0]
    # bench x right, y away, seen from above; image x right, y down: an unmirrored view flips the sign
    return float(a[0] * b[1] - a[1] * b[0]) > 0


class MediaPipeHandTracker:
    """A ``HandDetector`` that adds MediaPipe landmarks and handedness to the foreground hands.

    ``foreground``: the pipeline's own ``ForegroundHandDetector`` (its segmentation of this frame is read,
    not recomputed); without it the tracker segments the arms from ``fg_mask`` itself.
    """

    def __init__(
        self,
        calibration: Calibration,
        config: TrackerConfig | None = None,
        *,
        foreground: ForegroundHandDetector | None = None,
        perception_config: PerceptionConfig | None = None,
    ) -> None:
        self.cal = calibration
        self.cfg = cfg = config or TrackerConfig()
        self.foreground = foreground
        self.pcfg = perception_config or PerceptionConfig()
        opts = LandmarkerOptions(cfg.task_file, 1, cfg.min_detection, cfg.min_presence, cfg.min_tracking)
        self._slots = [_Slot(create_landmarker(opts, video=True)) for _ in range(cfg.max_hands)]
        self._focus: tuple[Focus, ...] = ()
        self._swap = _mirrored(calibration)
        self._frame = 0
        self.stats = TrackerStats()

    # --- configuration ------------------------------------------------------------------------------
    def set_focus(self, areas: tuple[Focus, ...]) -> None:
        """Areas (centre mm, radius mm) where hands need landmarks every frame (touch buttons)."""
        self._focus = tuple(areas)

    def follow_camera(self, calibration: Calibration) -> None:
        """The camera's view moved and perception re-aligned it (``oss.perception.alignment``)."""
        self.cal = calibration

    def close(self) -> None:
        for s in self._slots:
            s.landmarker.close()

    def __enter__(self) -> MediaPipeHandTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- per frame ----------------------------------------------------------------------------------
    def detect(self, bench_view: BenchView, fg_mask: np.ndarray, t: float) -> tuple[Hand, ...]:
        t_start = time.perf_counter()
        self._frame += 1
        self.stats.frames += 1
        seg = self.foreground.last if self.foreground is not None else None
        if seg is None:
            seg = segment_arms(fg_mask, bench_view.mm_per_px, self.pcfg)
        tips = [np.array(h.tip_mm, np.float64) for h in seg.hands]
        self._assign(tips)
        for slot in self._choose():
            self._run(slot, bench_view, seg.mask, t)
        hands = self._hands(t)
        self.stats.detect_ms.append((time.perf_counter() - t_start) * 1000.0)
        return hands

    def _assign(self, tips: list[np.ndarray]) -> None:
        """Each foreground tip keeps the slot that followed it last frame (nearest first)."""
        pairs = sorted(
            (float(np.hypot(*(tip - s.tip_mm))), si, ti)
            for si, s in enumerate(self._slots)
            if s.tip_mm is not None
            for ti, tip in enumerate(tips)
        )
        new: list[np.ndarray | None] = [None] * len(self._slots)
        used: set[int] = set()
        for d, si, ti in pairs:
            if d > self.cfg.slot_match_mm:
                break
            if new[si] is None and ti not in used:
                new[si] = tips[ti]
                used.add(ti)
        rest = [tips[i] for i in range(len(tips)) if i not in used]
        for si, s in enumerate(self._slots):
            if new[si] is None:
                s.seen_tip_mm = s.landmarks_mm = s.landmarks_px = None  # its hand left: forget it
                if rest:
                    new[si] = rest.pop(0)
            s.tip_mm = new[si]

    def _in_focus(self, tip: np.ndarray) -> bool:
        m = self.cfg.focus_margin_mm
        return any(float(np.hypot(tip[0] - c[0], tip[1] - c[1])) <= r + m for c, r in self._focus)

    def _choose(self) -> list[_Slot]:
        active = [s for s in self._slots if s.tip_mm is not None]
        focus = [s for s in active if s.tip_mm is not None and self._in_focus(s.tip_mm)]
        idle = [
            s
            for s in active
            if s not in focus
            and self.cfg.idle_every > 0
            and self._frame - s.last_run_frame >= self.cfg.idle_every
        ]
        order = sorted(focus, key=lambda s: s.last_run_frame) + sorted(idle, key=lambda s: s.last_run_frame)
        return order[: self.cfg.max_crops_per_frame]

    def _crop(
        self, view: BenchView, arm_mask: np.ndarray, tip: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """The crop image and the 2×3 affine crop px → source px; source is the camera frame if known."""
        cfg = self.cfg
        s = view.mm_per_px
        # the arm's direction near the tip: from the arm pixels within a hand length back to the tip
        r = cfg.hand_back_mm * 2.0 / s
        u, v = tip[0] / s - 0.5, tip[1] / s - 0.5
        h, w = arm_mask.shape
        x0, x1 = max(0, int(u - r)), min(w, int(u + r) + 1)
        y0, y1 = max(0, int(v - r)), min(h, int(v + r) + 1)
        way = np.array([0.0, 1.0])
        if x1 > x0 and y1 > y0:
            ys, xs = np.nonzero(arm_mask[y0:y1, x0:x1])
            if xs.size:
                d = np.array([u - (xs.mean() + x0), v - (ys.mean() + y0)])
                n = float(np.hypot(*d))
                if n > 1e-6:
                    way = d / n
        centre = tip - way * cfg.hand_back_mm
        half = cfg.crop_mm / 2
        sq = np.array([centre + np.array([dx, dy]) for dx in (-half, half) for dy in (-half, half)])
        camera = view.camera_image is not None
        if camera:
            c_px = self.cal.bench_to_camera(centre[None, :])[0]
            corners = self.cal.bench_to_camera(sq)
            src = view.camera_image
        else:
            c_px = centre / s - 0.5
            corners = sq / s - 0.5
            src = view.image
        assert src is not None
        side = float(max(np.ptp(corners[:, 0]), np.ptp(corners[:, 1])))
        k = side / cfg.crop_px  # source px per crop px
        aff = np.array(
            [[k, 0.0, c_px[0] - k * (cfg.crop_px - 1) / 2], [0.0, k, c_px[1] - k * (cfg.crop_px - 1) / 2]]
        )
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        size = (cfg.crop_px, cfg.crop_px)
        if k > 1.5:  # shrink the neighbourhood first (anti-aliasing), then sample
            ax0, ay0 = max(0, int(c_px[0] - side)), max(0, int(c_px[1] - side))
            ax1, ay1 = min(src.shape[1], int(c_px[0] + side) + 1), min(src.shape[0], int(c_px[1] + side) + 1)
            if ax1 > ax0 and ay1 > ay0:
                sub = cv2.resize(
                    src[ay0:ay1, ax0:ax1], None, fx=1.0 / k, fy=1.0 / k, interpolation=cv2.INTER_AREA
                )
                sx, sy = (ax1 - ax0) / sub.shape[1], (ay1 - ay0) / sub.shape[0]
                to_sub = np.array([[1 / sx, 0, -ax0 / sx], [0, 1 / sy, -ay0 / sy], [0, 0, 1]])
                m = to_sub @ np.vstack([aff, [0, 0, 1]])
                crop = cv2.warpAffine(sub, m[:2], size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
                return crop, aff, camera
        crop = cv2.warpAffine(src, aff, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
        return crop, aff, camera

    def _run(self, slot: _Slot, view: BenchView, arm_mask: np.ndarray, t: float) -> None:
        assert slot.tip_mm is not None
        crop, aff, camera = self._crop(view, arm_mask, slot.tip_mm)
        ts = max(round(t * 1000.0), slot.last_ts + 1)
        slot.last_ts = ts
        slot.last_run_frame = self._frame
        self.stats.runs += 1
        self.stats.run_frames.append(self._frame)
        found = from_mediapipe(
            slot.landmarker.detect_for_video(to_mp_image(crop), ts), crop.shape[1], crop.shape[0]
        )
        if not found:
            return
        self.stats.found += 1
        hand: HandLandmarks = found[0]
        pc = hand.array()
        px = pc @ aff[:, :2].T + aff[:, 2]
        mm = self.cal.camera_to_bench(px) if camera else (px + 0.5) * view.mm_per_px
        slot.landmarks_px, slot.landmarks_mm = px, mm
        slot.seen_t, slot.seen_tip_mm = t, slot.tip_mm.copy()
        label = hand.handedness
        if self._swap and label in ("Left", "Right"):
            label = "Right" if label == "Left" else "Left"
        slot.handedness, slot.score = label, hand.score

    def _hands(self, t: float) -> tuple[Hand, ...]:
        out = []
        for s in self._slots:
            if s.tip_mm is None or s.landmarks_mm is None or s.seen_tip_mm is None:
                continue
            if t - s.seen_t > self.cfg.hold_s:
                continue
            lm = s.landmarks_mm
            if s.seen_t != t:  # carried: move with the foreground tip
                lm = lm + (s.tip_mm - s.seen_tip_mm)
                self.stats.carried += 1
            tips = lm[list(FINGERTIPS)]
            far = tips[
                int(np.argmax(tips[:, 1]))
            ]  # furthest from the operator's edge, like the foreground tip
            out.append(
                Hand(
                    tip_mm=(float(far[0]), float(far[1])),
                    handedness=s.handedness,
                    score=s.score,
                    landmarks_mm=tuple((float(x), float(y)) for x, y in lm),
                    source="mediapipe",
                )
            )
        return tuple(out)

    @property
    def landmarks_px(self) -> tuple[np.ndarray, ...]:
        """The landmarks (camera px) of the hands detected in the last frame a detection ran."""
        return tuple(s.landmarks_px for s in self._slots if s.landmarks_px is not None)
