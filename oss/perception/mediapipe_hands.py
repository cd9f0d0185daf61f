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

Asynchronous (the default): MediaPipe runs on a thread of its own (``oss.perception.latest_worker``;
``detect_for_video`` releases the GIL). ``detect`` only copies the part of the frame a crop needs and
submits it; a request the thread has not started when the next one comes is dropped (never a queue),
and the newest finished landmarks are fused, moved by how far the foreground tip moved since the
crop's frame. Landmarks are then a frame or so old, and carried with the tip exactly as between runs.
``TrackerConfig(asynchronous=False)`` runs MediaPipe inside ``detect`` (deterministic: for tests).

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
from oss.perception.latest_worker import LatestWorker
from oss.records import Hand, Point

Focus = tuple[Point, float]  # centre (bench mm), radius (mm)


@dataclass(frozen=True)
class TrackerConfig:
    """Settings of the MediaPipe hand tracker (bench mm, seconds)."""

    task_file: str | None = None  # a hand_landmarker.task; None: the one shipped with OSS
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
    asynchronous: bool = True  # MediaPipe on its own thread (False: inside detect, deterministic)
    # a hand's landmarks are given only while one of its fingertips lies this close to the foreground tip
    # the slot follows (fuse_hands pairs within 80 mm; further off, one hand would become two)
    max_tip_gap_mm: float = 80.0
    # landmarks from an earlier frame move with the foreground tip, less this much: a resting tip flickers
    # by a few bench px, which must not move (and so restart a touch dwell on) a resting finger
    carry_deadband_mm: float = 8.0


@dataclass
class _Slot:
    landmarker: Any
    tip_mm: np.ndarray | None = None  # the foreground tip this slot follows (this frame)
    gen: int = 0  # counts the hands this slot has lost: a result for an earlier hand is not used
    last_ts: int = -1  # the last VIDEO-mode timestamp given to its landmarker (ms)
    last_run_frame: int = -(10**9)  # frame of its last crop that ran (or waits to run)
    seen_frame: int = -(10**9)  # frame of the crop its landmarks come from
    seen_t: float = -1e9
    seen_tip_mm: np.ndarray | None = None  # foreground tip in the crop's frame
    landmarks_mm: np.ndarray | None = None  # 21×2
    landmarks_px: np.ndarray | None = None  # 21×2 camera px (or bench image px without a camera image)
    handedness: str = ""
    score: float = 0.0


@dataclass(frozen=True, eq=False)
class _CropRequest:
    """One crop for MediaPipe, cut on the loop's thread; ``src`` is a copy of the part of the source image
    the crop needs, so the frame itself may change once ``detect`` returns."""

    slot: int
    gen: int
    frame: int
    t: float
    ts: int  # VIDEO-mode timestamp (ms), increasing per slot
    prev_run_frame: int  # the slot's last_run_frame before this request (restored if it is dropped)
    tip_mm: np.ndarray  # the foreground tip in this frame
    src: np.ndarray  # source image part (a copy)
    shrink: bool  # shrink src by 1/k with INTER_AREA (anti-aliasing) before sampling
    k: float  # source px per crop px
    src_aff: np.ndarray  # 2×3 crop px → src px
    aff: np.ndarray  # 2×3 crop px → camera px (bench image px if not camera)
    camera: bool
    mm_per_px: float
    cal: Calibration
    submitted: float  # perf_counter when submitted


@dataclass(frozen=True, eq=False)
class _CropResult:
    req: _CropRequest
    landmarks_px: np.ndarray | None  # None: no hand in the crop
    landmarks_mm: np.ndarray | None
    handedness: str
    score: float
    ms: float  # resampling + MediaPipe + mapping, on the thread that ran it


@dataclass
class TrackerStats:
    """What the tracker did (for benchmarks and tests). Kept on the loop's thread."""

    frames: int = 0
    submitted: int = 0  # crops handed to MediaPipe (run or, asynchronously, dropped before running)
    dropped: int = 0  # crops replaced by a newer one before the tracker thread started on them
    runs: int = 0  # MediaPipe runs finished
    found: int = 0  # ... that found a hand
    used: int = 0  # found landmarks fused into a frame's hands
    stale: int = 0  # found landmarks not used (their hand left, or newer ones came first)
    carried: int = 0  # hands given landmarks from an earlier frame, moved with the tip
    unfit: int = 0  # hands not given their landmarks: no fingertip near the foreground tip
    run_frames: list[int] = field(default_factory=list)  # frames where a crop was submitted
    detect_ms: list[float] = field(default_factory=list)  # time of each detect call (the loop's thread)
    mediapipe_ms: list[float] = field(default_factory=list)  # per run: resample + MediaPipe + mapping
    latency_frames: list[int] = field(default_factory=list)  # per used result: frame used − crop's frame
    latency_ms: list[float] = field(default_factory=list)  # per used result: submitted → fused (wall)


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
    Asynchronously (``TrackerConfig.asynchronous``) MediaPipe runs on a thread the tracker owns: call
    ``close`` (or use it as a context manager) to stop it.
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
        self._closed = False
        self.stats = TrackerStats()
        self._worker: LatestWorker[tuple[_CropRequest, ...], tuple[_CropResult, ...]] | None = None
        if cfg.asynchronous:
            self._worker = LatestWorker(self._run_all, name="mediapipe-hands")

    # --- configuration ------------------------------------------------------------------------------
    def set_focus(self, areas: tuple[Focus, ...]) -> None:
        """Areas (centre mm, radius mm) where hands need landmarks every frame (touch buttons)."""
        self._focus = tuple(areas)

    def follow_camera(self, calibration: Calibration) -> None:
        """The camera's view moved and perception re-aligned it (``oss.perception.alignment``)."""
        self.cal = calibration

    @property
    def asynchronous(self) -> bool:
        return self._worker is not None

    @property
    def thread_alive(self) -> bool:
        """True while the tracker's MediaPipe thread runs (asynchronous mode, before ``close``)."""
        return self._worker is not None and self._worker.alive

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until the tracker thread has finished every crop submitted (True at once if synchronous)."""
        return self._worker is None or self._worker.wait_idle(timeout)

    def close(self) -> None:
        """Stop the tracker thread (finishing a run in progress) and release the landmarkers."""
        if self._closed:
            return
        self._closed = True
        if self._worker is not None:
            self._worker.close()
            for batch in self._worker.take():  # finished after the last frame: counted, not used
                self._count(batch)
                self.stats.stale += sum(r.landmarks_px is not None for r in batch)
        for s in self._slots:
            s.landmarker.close()

    def __enter__(self) -> MediaPipeHandTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- per frame ----------------------------------------------------------------------------------
    def detect(self, bench_view: BenchView, fg_mask: np.ndarray, t: float) -> tuple[Hand, ...]:
        t_start = time.perf_counter()
        if self._closed:
            raise RuntimeError("the hand tracker is closed")
        self._frame += 1
        self.stats.frames += 1
        seg = self.foreground.last if self.foreground is not None else None
        if seg is None:
            seg = segment_arms(fg_mask, bench_view.mm_per_px, self.pcfg)
        tips = [np.array(h.tip_mm, np.float64) for h in seg.hands]
        self._assign(tips)
        if self._worker is not None:
            self._fuse(self._worker.take())
        reqs = tuple(self._request(si, bench_view, seg.mask, t) for si in self._choose())
        if reqs:
            self.stats.submitted += len(reqs)
            self.stats.run_frames.append(self._frame)
            if self._worker is None:
                self._fuse([self._run_all(reqs)])
            else:
                dropped = self._worker.submit(reqs)
                if dropped is not None:  # never started: its slots are due again
                    self.stats.dropped += len(dropped)
                    for r in dropped:
                        slot = self._slots[r.slot]
                        if slot.last_run_frame == r.frame:
                            slot.last_run_frame = r.prev_run_frame
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
                if s.tip_mm is not None:  # its hand left: forget it, and what is still being computed
                    s.gen += 1
                s.seen_tip_mm = s.landmarks_mm = s.landmarks_px = None
                if rest:
                    new[si] = rest.pop(0)
            s.tip_mm = new[si]

    def _in_focus(self, tip: np.ndarray) -> bool:
        m = self.cfg.focus_margin_mm
        return any(float(np.hypot(tip[0] - c[0], tip[1] - c[1])) <= r + m for c, r in self._focus)

    def _choose(self) -> list[int]:
        """The slots whose crops run this frame: focus hands first, then idle hands that are due."""
        active = [i for i, s in enumerate(self._slots) if s.tip_mm is not None]
        focus = [i for i in active if self._in_focus(self._slots[i].tip_mm)]  # type: ignore[arg-type]
        idle = [
            i
            for i in active
            if i not in focus
            and self.cfg.idle_every > 0
            and self._frame - self._slots[i].last_run_frame >= self.cfg.idle_every
        ]

        def key(i: int) -> int:
            return self._slots[i].last_run_frame

        return (sorted(focus, key=key) + sorted(idle, key=key))[: self.cfg.max_crops_per_frame]

    def _request(self, si: int, view: BenchView, arm_mask: np.ndarray, t: float) -> _CropRequest:
        """Plan the crop around slot ``si``'s tip and copy the source pixels it needs."""
        slot = self._slots[si]
        tip = slot.tip_mm
        assert tip is not None
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
        # the source part the crop reads: its own square and a margin for the shrinking and interpolation
        reach = side / 2 + 2 * k + 2
        ax0, ay0 = max(0, int(c_px[0] - reach)), max(0, int(c_px[1] - reach))
        ax1, ay1 = min(src.shape[1], int(c_px[0] + reach) + 1), min(src.shape[0], int(c_px[1] + reach) + 1)
        if ax1 <= ax0:  # the crop lies beside the image: its nearest column is replicated
            ax0 = min(max(0, ax0), src.shape[1] - 1)
            ax1 = ax0 + 1
        if ay1 <= ay0:
            ay0 = min(max(0, ay0), src.shape[0] - 1)
            ay1 = ay0 + 1
        src_aff = aff.copy()
        src_aff[:, 2] -= (ax0, ay0)
        ts = max(round(t * 1000.0), slot.last_ts + 1)
        slot.last_ts = ts
        prev = slot.last_run_frame
        slot.last_run_frame = self._frame
        return _CropRequest(
            slot=si,
            gen=slot.gen,
            frame=self._frame,
            t=t,
            ts=ts,
            prev_run_frame=prev,
            tip_mm=tip.copy(),
            src=src[ay0:ay1, ax0:ax1].copy(),
            shrink=k > 1.5 and ax1 - ax0 > 1 and ay1 - ay0 > 1,
            k=k,
            src_aff=src_aff,
            aff=aff,
            camera=camera,
            mm_per_px=s,
            cal=self.cal,
            submitted=time.perf_counter(),
        )

    def _cut(self, req: _CropRequest) -> np.ndarray:
        """The crop image (``crop_px`` square) of a request."""
        size = (self.cfg.crop_px, self.cfg.crop_px)
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        src, m = req.src, req.src_aff
        if req.shrink:  # shrink the neighbourhood first (anti-aliasing), then sample
            sub = cv2.resize(src, None, fx=1.0 / req.k, fy=1.0 / req.k, interpolation=cv2.INTER_AREA)
            sx, sy = src.shape[1] / sub.shape[1], src.shape[0] / sub.shape[0]
            to_sub = np.array([[1 / sx, 0, 0], [0, 1 / sy, 0], [0, 0, 1]])
            m = (to_sub @ np.vstack([m, [0, 0, 1]]))[:2]
            src = sub
        return cv2.warpAffine(src, m, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)

    def _run(self, req: _CropRequest) -> _CropResult:
        """Resample the crop, run MediaPipe on it and map its landmarks back (on the tracker's thread when
        asynchronous: touches nothing but the request and the slot's landmarker)."""
        t0 = time.perf_counter()
        crop = self._cut(req)
        landmarker = self._slots[req.slot].landmarker
        found = from_mediapipe(
            landmarker.detect_for_video(to_mp_image(crop), req.ts), crop.shape[1], crop.shape[0]
        )
        px = mm = None
        label, score = "", 0.0
        if found:
            hand: HandLandmarks = found[0]
            pc = hand.array()
            px = pc @ req.aff[:, :2].T + req.aff[:, 2]
            mm = req.cal.camera_to_bench(px) if req.camera else (px + 0.5) * req.mm_per_px
            label, score = hand.handedness, hand.score
            if self._swap and label in ("Left", "Right"):
                label = "Right" if label == "Left" else "Left"
        return _CropResult(req, px, mm, label, score, (time.perf_counter() - t0) * 1000.0)

    def _run_all(self, reqs: tuple[_CropRequest, ...]) -> tuple[_CropResult, ...]:
        return tuple(self._run(r) for r in reqs)

    def _count(self, batch: tuple[_CropResult, ...]) -> None:
        for r in batch:
            self.stats.runs += 1
            self.stats.found += r.landmarks_px is not None
            self.stats.mediapipe_ms.append(r.ms)

    def _fuse(self, batches: list[tuple[_CropResult, ...]]) -> None:
        """Take the newest finished landmarks of each slot (older ones finished meanwhile are stale)."""
        now = time.perf_counter()
        newest: dict[int, _CropResult] = {}
        for batch in batches:
            self._count(batch)
            for r in batch:
                if r.landmarks_px is None:
                    continue
                if r.req.slot in newest:
                    self.stats.stale += 1
                newest[r.req.slot] = r
        for si, r in newest.items():
            q, s = r.req, self._slots[si]
            if q.gen != s.gen or s.tip_mm is None or q.frame <= s.seen_frame or r.landmarks_mm is None:
                self.stats.stale += 1  # its hand left the slot
                continue
            s.landmarks_px, s.landmarks_mm = r.landmarks_px, r.landmarks_mm
            s.seen_frame, s.seen_t, s.seen_tip_mm = q.frame, q.t, q.tip_mm
            s.handedness, s.score = r.handedness, r.score
            self.stats.used += 1
            self.stats.latency_frames.append(self._frame - q.frame)
            self.stats.latency_ms.append((now - q.submitted) * 1000.0)

    def _carry(self, moved: np.ndarray) -> np.ndarray:
        """How far to move earlier landmarks when the foreground tip moved by ``moved`` since their
        frame: by as much, less ``carry_deadband_mm`` (soft: no jump where the dead band ends)."""
        n = float(np.hypot(moved[0], moved[1]))
        dead = self.cfg.carry_deadband_mm
        return moved * (1.0 - dead / n) if n > dead else np.zeros(2)

    def _hands(self, t: float) -> tuple[Hand, ...]:
        out = []
        for s in self._slots:
            if s.tip_mm is None or s.landmarks_mm is None or s.seen_tip_mm is None:
                continue
            if t - s.seen_t > self.cfg.hold_s:
                continue
            lm = s.landmarks_mm
            if s.seen_frame != self._frame:  # from an earlier frame: move with the foreground tip
                lm = lm + self._carry(s.tip_mm - s.seen_tip_mm)
                self.stats.carried += 1
            # the tip: the fingertip nearest the foreground tip (the same finger, placed by MediaPipe);
            # none near it: these landmarks no longer fit the hand (it moved or changed shape since)
            tips = lm[list(FINGERTIPS)]
            gap = np.hypot(tips[:, 0] - s.tip_mm[0], tips[:, 1] - s.tip_mm[1])
            near = int(np.argmin(gap))
            if gap[near] > self.cfg.max_tip_gap_mm:
                self.stats.unfit += 1
                continue
            tip = tips[near]
            out.append(
                Hand(
                    tip_mm=(float(tip[0]), float(tip[1])),
                    handedness=s.handedness,
                    score=s.score,
                    landmarks_mm=tuple((float(x), float(y)) for x, y in lm),
                    source="mediapipe",
                )
            )
        return tuple(out)

    @property
    def landmarks_px(self) -> tuple[np.ndarray, ...]:
        """The landmarks (camera px) of the hands, as last found (not moved with the tip)."""
        return tuple(s.landmarks_px for s in self._slots if s.landmarks_px is not None)
