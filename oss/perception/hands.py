"""Hands and arms on the bench.

A ``HandDetector`` turns one bench view into ``Hand`` records (bench mm, zones left empty: the pipeline
fills them in). ``ForegroundHandDetector`` finds arms as foreground connected to the operator's edge
(y = 0) and takes as tip the furthest point along the hand's own axis (see ``_fingertips``). The
MediaPipe tracker implements the same protocol; ``fuse_hands`` merges its hands into the foreground ones.
``RaisedHands`` marks hands held well above the bench by their apparent size (they touch nothing).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import cv2
import numpy as np

from oss.perception.config import PerceptionConfig
from oss.perception.foreground import BenchView
from oss.records import Hand, Point


class HandDetector(Protocol):
    """Finds hands in a bench view. ``fg_mask`` (uint8, 0/255) is the foreground at bench size."""

    def detect(self, bench_view: BenchView, fg_mask: np.ndarray, t: float) -> tuple[Hand, ...]: ...


@dataclass(frozen=True, eq=False)
class ArmSegmentation:
    """The arms found in one foreground mask."""

    hands: tuple[Hand, ...]
    mask: np.ndarray  # uint8 0/255 at bench size: every arm pixel
    outlines_mm: tuple[tuple[Point, ...], ...]  # grown by hand_mask_margin_mm, simplified
    area_fraction: float  # of the bench covered by arms
    leaning: bool  # so much of the bench is covered that someone leans over it


def _runs(cols: np.ndarray, min_gap: int) -> list[tuple[int, int]]:
    """Runs of True in a 1-D array, merging runs separated by fewer than ``min_gap`` False."""
    idx = np.flatnonzero(cols)
    if idx.size == 0:
        return []
    runs: list[tuple[int, int]] = []
    start = prev = int(idx[0])
    for i in idx[1:]:
        i = int(i)
        if i - prev > min_gap:
            runs.append((start, prev))
            start = i
        prev = i
    runs.append((start, prev))
    return runs


def _fingertips(
    crop: np.ndarray,
    pts: np.ndarray,
    reach: np.ndarray,
    entry: Point,
    hand_px: float,
    band: float,
    others: Sequence[Point] = (),
) -> tuple[np.ndarray, int]:
    """Fingertip point (crop px) of one arm, and how many pixels its hand covers (those of the arm's
    last ``hand_px``: its apparent size, which grows as the hand is raised towards the camera).

    The tip is the middle of its furthest outline points *along the hand's own axis*. The axis runs from the palm centre (the widest spot of the last ``hand_px`` of the
    arm) through the middle of the hand beyond it; a hand turned at the wrist or reaching across the
    body points elsewhere than its forearm, and the point furthest from where the arm enters is then
    the corner of the outer finger, not the fingertips."""
    dmax = float(reach.max())
    h, w = crop.shape
    ys, xs = np.mgrid[0:h, 0:w]
    from_entry = np.hypot(xs - entry[0], ys - entry[1])
    distal = (from_entry >= dmax - hand_px) & (crop > 0)
    for ox, oy in others:  # arms that touch: this arm's pixels are those nearer to where it enters
        distal &= from_entry <= np.hypot(xs - ox, ys - oy)
    if not distal.any():
        return np.asarray(pts[int(np.argmax(reach))], np.float64), 0
    size = int(np.count_nonzero(distal))
    dt = cv2.distanceTransform(crop, cv2.DIST_L2, 3)
    dt[~distal] = 0
    cy, cx = np.unravel_index(int(np.argmax(dt)), dt.shape)
    palm = np.array([cx, cy], np.float64)
    r_palm = float(dt[cy, cx])
    # the fingers (and what the hand holds): past the palm, on the far side of it from the arm
    fy, fx = np.nonzero(distal)
    rel = np.column_stack([fx - palm[0], fy - palm[1]]).astype(np.float64)
    palm_reach = float(np.hypot(palm[0] - entry[0], palm[1] - entry[1]))
    fingers = (np.hypot(rel[:, 0], rel[:, 1]) > 1.2 * r_palm) & (from_entry[fy, fx] > palm_reach)
    hand = pts[reach >= dmax - hand_px] - palm
    axis = rel[fingers].mean(axis=0) if fingers.any() else hand[int(np.argmax(np.hypot(*hand.T)))]
    n = float(np.hypot(*axis))
    if n < 1e-6:
        return np.asarray(pts[int(np.argmax(reach))], np.float64), size
    u = axis / n
    along = hand @ u
    across = np.abs(hand @ np.array([-u[1], u[0]]))
    near = across <= max(band, 0.25 * r_palm)  # outline points about on the axis: the fingertips' middle
    if not near.any():
        near = along >= along.max() - band
    return palm + u * float(along[near].max()), size


def _without_strands(arm: np.ndarray, kernel: np.ndarray | None, r: int, top_rows: int) -> np.ndarray:
    """The arm (crop, 0/1) opened by ``kernel`` (radius ``r``): strands thinner than a finger that the
    foreground joined to it are gone (a seam of the projection's edge, a strip of shadow; left in, they
    pull the tip off the fingers on the frames they appear). What the opening cuts off is dropped; only
    pieces still reaching the operator's edge (the first ``top_rows`` rows) stay. The arm where nothing
    of it would stay (a thin arm is still an arm)."""
    if kernel is None:
        return arm
    big = cv2.copyMakeBorder(arm, r, r, r, r, cv2.BORDER_CONSTANT, value=(0,))
    big[:r] = big[r]  # the operator's edge side continues beyond the crop: no erosion from there
    opened = cv2.morphologyEx(big, cv2.MORPH_OPEN, kernel)[r:-r, r:-r]
    n, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    keep = [j for j in range(1, n) if stats[j, cv2.CC_STAT_TOP] < top_rows]
    if not keep:
        return arm
    if n == 2:
        return opened
    lut = np.zeros(n, np.uint8)
    lut[keep] = 1
    return lut[labels]


def segment_arms(fg_mask: np.ndarray, mm_per_px: float, cfg: PerceptionConfig) -> ArmSegmentation:
    """Arms = foreground components that touch the operator's edge; one hand per place they cross it."""
    s = mm_per_px
    h, w = fg_mask.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg_mask, connectivity=8)
    band = max(1, round(cfg.edge_band_mm / s))
    min_area = cfg.min_component_mm2 / (s * s)
    arm_ids = [
        i for i in range(1, n) if stats[i, cv2.CC_STAT_TOP] < band and stats[i, cv2.CC_STAT_AREA] >= min_area
    ]
    lut = np.zeros(max(n, 1), np.uint8)
    lut[arm_ids] = 255
    mask = lut[labels]
    hands: list[Hand] = []
    outlines: list[tuple[Point, ...]] = []
    grow = max(0, round(cfg.hand_mask_margin_mm / s))
    grow_k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)) if grow else None
    eps = cfg.outline_epsilon_mm / s
    band_tip = max(1.5, cfg.tip_band_mm / s)
    hand_px = cfg.hand_length_mm / s
    r_open = round(cfg.finger_min_width_mm / (2 * s))
    open_k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r_open + 1,) * 2) if r_open > 0 else None
    for i in arm_ids:
        x0, y0, bw, bh, area = (int(v) for v in stats[i])
        area_mm2 = float(area * s * s)
        arm = (labels[y0 : y0 + bh, x0 : x0 + bw] == i).astype(np.uint8)
        rows = max(1, band - y0)  # the crop's rows within the edge band
        crop = _without_strands(arm, open_k, r_open, rows)
        contours, _ = cv2.findContours(crop, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        pts = np.vstack([c.reshape(-1, 2) for c in contours]).astype(np.float64)
        entries = _runs(crop[:rows].any(axis=0), min_gap=max(2, round(40.0 / s)))
        if not entries:
            continue
        ex = np.array([(a + b) / 2.0 for a, b in entries])
        # each outline point belongs to the arm whose edge crossing is nearest
        d_all = np.hypot(pts[:, 0][:, None] - ex[None, :], pts[:, 1][:, None] - (-y0))
        owner = np.argmin(d_all, axis=1)
        for k in range(len(entries)):
            own = owner == k
            if not own.any():
                continue
            reach = d_all[own, k]
            entry = np.array([ex[k], -y0], np.float64)
            others = [(float(x), float(-y0)) for j, x in enumerate(ex) if j != k]
            tip_px, hand_area = _fingertips(
                crop, pts[own], reach, (float(entry[0]), float(entry[1])), hand_px, band_tip, others
            )
            tip_px = tip_px + np.array([x0, y0])
            hands.append(
                Hand(
                    tip_mm=(float((tip_px[0] + 0.5) * s), float((tip_px[1] + 0.5) * s)),
                    area_mm2=area_mm2 / len(entries),
                    source="foreground",
                    width_mm=hand_area * s * s / cfg.hand_length_mm,
                )
            )
        pad = grow + 1
        big = cv2.copyMakeBorder(arm, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0,))
        if grow_k is not None:
            big = cv2.dilate(big, grow_k)
        outer, _ = cv2.findContours(big, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in outer:
            poly = cv2.approxPolyDP(c, eps, True).reshape(-1, 2).astype(np.float64)
            poly = poly + np.array([x0 - pad, y0 - pad])
            poly = np.clip(poly, (-grow, -grow), (w - 1 + grow, h - 1 + grow))
            outlines.append(tuple((float((x + 0.5) * s), float((y + 0.5) * s)) for x, y in poly))
    covered = float(np.count_nonzero(mask)) / float(h * w)
    return ArmSegmentation(tuple(hands), mask, tuple(outlines), covered, covered > cfg.lean_fraction)


class ForegroundHandDetector:
    """Hands as foreground arms; keeps the last segmentation for the arm mask and outlines."""

    def __init__(self, config: PerceptionConfig | None = None) -> None:
        self.cfg = config or PerceptionConfig()
        self.last: ArmSegmentation | None = None

    def detect(self, bench_view: BenchView, fg_mask: np.ndarray, t: float) -> tuple[Hand, ...]:
        self.last = segment_arms(fg_mask, bench_view.mm_per_px, self.cfg)
        return self.last.hands


class RaisedHands:
    """Tells a hand held well above the bench from one on it by its apparent size.

    Seen from a camera ``H`` above the bench, a hand ``z`` above it covers ``H / (H - z)`` times as much of
    the bench plane in width as it does on the bench. Its width at bench level is learnt from hands
    resting with the tip in a zone (picking, placing, touching): the lower quartile of the last
    ``hand_width_samples`` widths, once there are ``hand_width_min_samples`` (``bench_hand_width_mm``
    until then). The quartile keeps the learnt width low where hands rested above a zone or carried a
    part there. A hand wider than that by ``raised_width_ratio`` is marked ``raised``.
    """

    def __init__(self, cfg: PerceptionConfig) -> None:
        self.cfg = cfg
        self._widths: deque[float] = deque(maxlen=max(1, cfg.hand_width_samples))

    def bench_width(self) -> float:
        if len(self._widths) < self.cfg.hand_width_min_samples:
            return self.cfg.bench_hand_width_mm
        return float(np.percentile(np.fromiter(self._widths, np.float64), 25))

    def update(self, hands: Sequence[Hand]) -> tuple[Hand, ...]:
        """Learn from the resting hands in zones and mark the raised ones (hands with zones and speeds)."""
        rest = self.cfg.rest_speed_mm_s
        for h in hands:
            if h.width_mm > 0 and h.zones and h.speed_mm_s is not None and h.speed_mm_s < rest:
                self._widths.append(h.width_mm)
        limit = self.bench_width() * self.cfg.raised_width_ratio
        return tuple(replace(h, raised=h.width_mm > limit) for h in hands)


def fuse_hands(
    primary: Sequence[Hand], others: Sequence[Hand], max_dist_mm: float = 80.0
) -> tuple[Hand, ...]:
    """Merge hands of a landmark tracker into foreground hands.

    A tracked hand whose tip lies within ``max_dist_mm`` of a foreground tip replaces that tip and brings
    its landmarks and handedness; tracked hands with no foreground partner are kept as they are
    (the tracker saw a hand the foreground missed), foreground hands with no partner stay too.
    """
    out = list(primary)
    used: set[int] = set()
    extra: list[Hand] = []
    for o in others:
        best, best_d = -1, max_dist_mm
        for i, p in enumerate(out):
            d = float(np.hypot(o.tip_mm[0] - p.tip_mm[0], o.tip_mm[1] - p.tip_mm[1]))
            if i not in used and d <= best_d:
                best, best_d = i, d
        if best >= 0:
            used.add(best)
            out[best] = replace(
                o, area_mm2=out[best].area_mm2 or o.area_mm2, width_mm=out[best].width_mm or o.width_mm
            )
        else:
            extra.append(o)
    return tuple(out + extra)
