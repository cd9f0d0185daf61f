"""Hands and arms on the bench.

A ``HandDetector`` turns one bench view into ``Hand`` records (bench mm, zones left empty: the pipeline
fills them in). ``ForegroundHandDetector`` finds arms as foreground connected to the operator's edge
(y = 0) and takes as tip the outline point furthest from where the arm crosses that edge. The MediaPipe
tracker implements the same protocol; ``fuse_hands`` merges its hands into the foreground ones.
"""

from __future__ import annotations

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
    crop: np.ndarray, pts: np.ndarray, reach: np.ndarray, entry: Point, hand_px: float, band: float
) -> np.ndarray:
    """Fingertip point (crop px) of one arm: seen from the palm centre (the widest spot of the last
    ``hand_px`` of the arm), the middle of the outline points within ``band`` of the furthest one."""
    dmax = float(reach.max())
    h, w = crop.shape
    ys, xs = np.mgrid[0:h, 0:w]
    distal = (np.hypot(xs - entry[0], ys - entry[1]) >= dmax - hand_px) & (crop > 0)
    if not distal.any():
        return np.asarray(pts[int(np.argmax(reach))], np.float64)
    dt = cv2.distanceTransform(crop, cv2.DIST_L2, 3)
    dt[~distal] = 0
    cy, cx = np.unravel_index(int(np.argmax(dt)), dt.shape)
    palm = np.array([cx, cy], np.float64)
    rel = pts[reach >= dmax - hand_px] - palm
    dist = np.hypot(rel[:, 0], rel[:, 1])
    far = dist >= dist.max() - band
    way = (rel[far] / np.maximum(dist[far], 1e-6)[:, None]).mean(axis=0)
    n = float(np.hypot(*way))
    if n < 1e-6:
        return np.asarray(pts[int(np.argmax(dist))], np.float64)
    return palm + way / n * float(dist[far].mean())


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
    for i in arm_ids:
        x0, y0, bw, bh, area = (int(v) for v in stats[i])
        area_mm2 = float(area * s * s)
        crop = (labels[y0 : y0 + bh, x0 : x0 + bw] == i).astype(np.uint8)
        contours, _ = cv2.findContours(crop, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        pts = np.vstack([c.reshape(-1, 2) for c in contours]).astype(np.float64)
        entries = _runs(crop[: max(1, band - y0)].any(axis=0), min_gap=max(2, round(40.0 / s)))
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
            # the reach: outline points within tip_band of the furthest one, their side position, the
            # furthest distance (robust, but a carried part or one long finger pulls it aside) ...
            far = pts[own][reach >= reach.max() - band_tip]
            way = far.mean(axis=0) - entry
            norm = float(np.hypot(*way))
            tip_px: np.ndarray = (
                entry + way * (float(reach.max()) / norm) if norm > 1e-6 else far.mean(axis=0)
            )
            # ... refined from the palm centre where both agree (an empty hand)
            fine = _fingertips(crop, pts[own], reach, (float(entry[0]), float(entry[1])), hand_px, band_tip)
            if float(np.hypot(*(fine - tip_px))) <= 2.0 * band_tip:
                tip_px = fine
            tip_px = tip_px + np.array([x0, y0])
            hands.append(
                Hand(
                    tip_mm=(float((tip_px[0] + 0.5) * s), float((tip_px[1] + 0.5) * s)),
                    area_mm2=area_mm2 / len(entries),
                    source="foreground",
                )
            )
        pad = grow + 1
        big = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0,))
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
            out[best] = replace(o, area_mm2=out[best].area_mm2 or o.area_mm2)
        else:
            extra.append(o)
    return tuple(out + extra)
