"""Hands and arms on the bench.

A ``HandDetector`` turns one bench view into ``Hand`` records (bench mm, zones left empty: the pipeline
fills them in). ``ForegroundHandDetector`` finds arms as foreground connected to the operator's edge
(y = 0) and takes as tip the furthest point along the hand's own axis (see ``_fingertips``). The
MediaPipe tracker implements the same protocol; ``fuse_hands`` merges its hands into the foreground ones.
``RaisedHands`` marks hands held well above the bench by their apparent size (they touch nothing).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
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


def _tip_pixels(region: np.ndarray, fg: np.ndarray, big: np.ndarray) -> np.ndarray:
    """uint8 0/1: the foreground of ``region`` a tip is looked for in: its pieces in ``big`` (foreground
    pieces of some size), or all of its foreground where it has none of those (a sleeve in specks)."""
    own = region & big
    if not own.any():
        own = region & fg
    return own.astype(np.uint8)


def _count_in(labels: np.ndarray, stats: np.ndarray, j: int, m: np.ndarray) -> int:
    """How many pixels of region ``j`` (of ``labels``) are set in ``m``."""
    x0, y0, bw, bh = (int(v) for v in stats[j, :4])
    return int(np.count_nonzero(m[y0 : y0 + bh, x0 : x0 + bw][labels[y0 : y0 + bh, x0 : x0 + bw] == j]))


def _bridge_gaps(
    arms: list[tuple[np.ndarray, np.ndarray, int, int, int]],
    fg_mask: np.ndarray,
    regions: tuple[int, np.ndarray, np.ndarray, Callable[[int], int]],
    mask: np.ndarray,
    s: float,
    cfg: PerceptionConfig,
    big: Callable[[int, int, int, int], np.ndarray] | None = None,
) -> list[tuple[np.ndarray, np.ndarray, int, int, int]]:
    """Join to an arm the pieces that continue it across a gap: a forearm over a surface of its own
    colour (a grey sleeve over a dark jig) leaves no trace, and the hand beyond is cut off. A region of
    ``changed`` (foreground and shadow-like change) away from the edge with at least
    ``arm_piece_min_mm2`` of foreground, not more than ``arm_gap_mm`` from the arm's last
    ``hand_length_mm`` (counted from where it enters) and reaching further than the arm does, is part
    of that arm (the nearest). ``regions``: the connected regions of ``changed`` (count, labels, stats)
    and how many foreground pixels a region has. ``mask`` gets the joined pieces. Returns the arms,
    pieces joined."""
    gap = cfg.arm_gap_mm / s
    if gap <= 0:
        return arms
    piece_min = cfg.arm_piece_min_mm2 / (s * s)
    fg = fg_mask > 0
    n, lab, st, fg_in = regions
    band = max(1, round(cfg.edge_band_mm / s))
    # (a region away from the edge holds no arm: an arm's region reaches the edge)
    fg_px = {
        j: fg_in(j)
        for j in range(1, n)
        if st[j, cv2.CC_STAT_TOP] >= band and st[j, cv2.CC_STAT_AREA] >= piece_min
    }
    pieces = [j for j, c in fg_px.items() if c >= piece_min]
    if not pieces:
        return arms
    h, w = fg_mask.shape
    hand_px = cfg.hand_length_mm / s
    ends: list[tuple[np.ndarray, float, float]] = []  # per arm: distance to its hand end, entry x, reach
    for crop, _, x0, y0, _ in arms:
        ys, xs = np.nonzero(crop)
        at_edge = np.flatnonzero(crop[: max(1, band - y0)].any(axis=0))
        if ys.size == 0 or at_edge.size == 0:
            ends.append((np.full((h, w), np.inf, np.float32), 0.0, np.inf))
            continue
        ex = float(at_edge.mean()) + x0
        reach = np.hypot(xs + x0 - ex, ys + y0)
        far = reach >= float(reach.max()) - hand_px
        distal = np.full((h, w), 255, np.uint8)
        distal[ys[far] + y0, xs[far] + x0] = 0
        ends.append((cv2.distanceTransform(distal, cv2.DIST_L2, 3), ex, float(reach.max())))
    grown = [[a] for a in arms]
    for j in pieces:
        x0, y0, bw, bh, _ = (int(v) for v in st[j])
        sub = lab[y0 : y0 + bh, x0 : x0 + bw] == j
        ys, xs = np.nonzero(sub)
        best, best_d = -1, gap
        for k, (dist, ex, rmax) in enumerate(ends):
            d = float(dist[ys + y0, xs + x0].min())
            if d <= best_d and float(np.hypot(xs + x0 - ex, ys + y0).max()) > rmax:
                best, best_d = k, d
        if best >= 0:
            mask[y0 : y0 + bh, x0 : x0 + bw][sub] = 255
            fg_sub = fg[y0 : y0 + bh, x0 : x0 + bw]
            own_fg = _tip_pixels(sub, fg_sub, fg_sub if big is None else big(y0, y0 + bh, x0, x0 + bw))
            grown[best].append((sub.astype(np.uint8), own_fg, x0, y0, int(fg_px[j])))
    out = []
    for parts in grown:
        if len(parts) == 1:
            out.append(parts[0])
            continue
        gx0 = min(p[2] for p in parts)
        gy0 = min(p[3] for p in parts)
        gx1 = max(p[2] + p[0].shape[1] for p in parts)
        gy1 = max(p[3] + p[0].shape[0] for p in parts)
        crop = np.zeros((gy1 - gy0, gx1 - gx0), np.uint8)
        tip = np.zeros_like(crop)
        for c, t, x0, y0, _ in parts:
            crop[y0 - gy0 : y0 - gy0 + c.shape[0], x0 - gx0 : x0 - gx0 + c.shape[1]] |= c
            tip[y0 - gy0 : y0 - gy0 + t.shape[0], x0 - gx0 : x0 - gx0 + t.shape[1]] |= t
        out.append((crop, tip, gx0, gy0, sum(p[4] for p in parts)))
    return out


def _without_strands(
    arm: np.ndarray, kernel: np.ndarray | None, r: int, top_rows: int, min_area: float
) -> np.ndarray:
    """The arm (crop, 0/1) opened by ``kernel`` (radius ``r``): strands thinner than a finger that the
    foreground joined to it are gone (a seam of the projection's edge, a strip of shadow; left in, they
    pull the tip off the fingers on the frames they appear). What the opening cuts off is dropped; the
    pieces still reaching the operator's edge (the first ``top_rows`` rows) stay, and those of at least
    ``min_area`` px (a hand whose sleeve looks like the bench). The arm where nothing of it would stay
    (a thin arm is still an arm)."""
    if kernel is None:
        return arm
    big = cv2.copyMakeBorder(arm, r, r, r, r, cv2.BORDER_CONSTANT, value=(0,))
    big[:r] = big[r]  # the operator's edge side continues beyond the crop: no erosion from there
    opened = cv2.morphologyEx(big, cv2.MORPH_OPEN, kernel)[r:-r, r:-r]
    n, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    keep = [
        j
        for j in range(1, n)
        if stats[j, cv2.CC_STAT_TOP] < top_rows or stats[j, cv2.CC_STAT_AREA] >= min_area
    ]
    if not keep:
        return arm
    if n == 2:
        return opened
    lut = np.zeros(n, np.uint8)
    lut[keep] = 1
    return lut[labels]


def segment_arms(
    fg_mask: np.ndarray,
    mm_per_px: float,
    cfg: PerceptionConfig,
    changed: np.ndarray | None = None,
    previous: np.ndarray | None = None,
) -> ArmSegmentation:
    """Arms = foreground components that touch the operator's edge; one hand per place they cross it.

    ``changed`` (uint8 0/255, ``ForegroundResult.changed``): the foreground together with the change
    that looks like a shadow (an even dimming). A grey sleeve darker than the bench looks just like a
    shadow: where such change joins foreground to the edge, and the foreground reaching the edge itself
    is less than half of the foreground so joined, that whole region is an arm. It crosses the edge where
    the change does; its tip and area come from its foreground, its mask and outline take all of it.
    Such a region with less than ``min_component_mm2`` of foreground of its own (the sleeve where only
    specks of it, or none, pass as foreground) is an arm's start only where it overlaps ``previous`` (the
    arm mask of the frame before): it continues an arm, it does not begin one. An arm is continued across
    a stretch where it looks like the bench (see ``_bridge_gaps``), and needs ``min_component_mm2`` of
    foreground in all."""
    s = mm_per_px
    h, w = fg_mask.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg_mask, connectivity=8)
    band = max(1, round(cfg.edge_band_mm / s))
    min_area = cfg.min_component_mm2 / (s * s)
    arm_ids = [
        i for i in range(1, n) if stats[i, cv2.CC_STAT_TOP] < band and stats[i, cv2.CC_STAT_AREA] >= min_area
    ]
    # foreground in pieces of at least min_area: what a tip is looked for in where change joins pieces
    # (noise specks there would stretch the arm's reach to where no hand is)
    big_lut = np.zeros(max(n, 1), bool)
    big_lut[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area

    def big(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:  # (per window: the whole image costs)
        return np.asarray(big_lut[labels[y0:y1, x0:x1]])

    # per arm: its pixels, its foreground (for the tip), offset, area (px) of its foreground
    arms: list[tuple[np.ndarray, np.ndarray, int, int, int]] = []
    mask = np.zeros((h, w), np.uint8)
    for i in arm_ids:
        x0, y0, bw, bh, area = (int(v) for v in stats[i])
        crop = (labels[y0 : y0 + bh, x0 : x0 + bw] == i).astype(np.uint8)
        mask[y0 : y0 + bh, x0 : x0 + bw][crop > 0] = 255
        arms.append((crop, crop, x0, y0, area))
    # the connected regions of change and their foreground (for _bridge_gaps)
    regions: tuple[int, np.ndarray, np.ndarray, Callable[[int], int]] = (
        n,
        labels,
        stats,
        lambda j: int(stats[j, cv2.CC_STAT_AREA]),
    )
    if changed is not None and changed.any():
        fg = fg_mask > 0
        nc, lc, sc, _ = cv2.connectedComponentsWithStats(np.maximum(changed, fg_mask), connectivity=8)
        fg_px: dict[int, int] = {}
        prev = previous if previous is not None and previous.shape == fg_mask.shape else None
        joined = []
        for j in range(1, nc):
            if sc[j, cv2.CC_STAT_TOP] >= band:
                continue
            fg_px[j] = _count_in(lc, sc, j, fg)
            if fg_px[j] >= min_area:
                if 2 * _count_in(lc, sc, j, mask) < fg_px[j]:  # the arms found above: under half of it
                    joined.append(j)
            elif prev is not None and _count_in(lc, sc, j, prev) > 0:
                joined.append(j)
        if joined:  # the arms found above within such a region are only part of it
            gone = np.zeros(nc, bool)
            gone[joined] = True
            arms = [a for a in arms if not gone[lc[a[3], a[2] + int(np.argmax(a[0][0]))]]]
        for j in joined:
            x0, y0, bw, bh, _ = (int(v) for v in sc[j])
            whole = lc[y0 : y0 + bh, x0 : x0 + bw] == j
            mask[y0 : y0 + bh, x0 : x0 + bw][whole] = 255
            own_fg = _tip_pixels(whole, fg[y0 : y0 + bh, x0 : x0 + bw], big(y0, y0 + bh, x0, x0 + bw))
            arms.append((whole.astype(np.uint8), own_fg, x0, y0, int(fg_px[j])))
        regions = (nc, lc, sc, lambda j: _count_in(lc, sc, j, fg))
    if arms:
        arms = _bridge_gaps(arms, fg_mask, regions, mask, s, cfg, big)
        # too little foreground (a shadow with a few specks of foreground): no arm
        arms = [a for a in arms if a[4] >= min_area]
        mask = np.zeros_like(fg_mask)
        for crop, _, x0, y0, _ in arms:
            mask[y0 : y0 + crop.shape[0], x0 : x0 + crop.shape[1]][crop > 0] = 255
    hands: list[Hand] = []
    outlines: list[tuple[Point, ...]] = []
    grow = max(0, round(cfg.hand_mask_margin_mm / s))
    grow_k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)) if grow else None
    eps = cfg.outline_epsilon_mm / s
    band_tip = max(1.5, cfg.tip_band_mm / s)
    hand_px = cfg.hand_length_mm / s
    r_open = round(cfg.finger_min_width_mm / (2 * s))
    open_k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r_open + 1,) * 2) if r_open > 0 else None
    for crop, tip_crop, x0, y0, area in arms:
        area_mm2 = float(area * s * s)
        tip_crop = _without_strands(tip_crop, open_k, r_open, max(1, band - y0), min_area)
        contours, _ = cv2.findContours(tip_crop, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        pts = np.vstack([c.reshape(-1, 2) for c in contours]).astype(np.float64)
        rows = max(1, band - y0)
        runs = _runs(np.asarray(crop[:rows].any(axis=0)), min_gap=max(2, round(40.0 / s)))
        if not runs:
            continue
        # where the arm's foreground reaches the edge it crosses there (not where its shadow does)
        fg_cols = np.asarray(tip_crop[:rows].any(axis=0))
        entries = [
            (int(cols[0]) + a, int(cols[-1]) + a)
            for a, b in runs
            if (cols := np.flatnonzero(fg_cols[a : b + 1])).size
        ] or runs
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
                tip_crop, pts[own], reach, (float(entry[0]), float(entry[1])), hand_px, band_tip, others
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
        padded = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0,))
        if grow_k is not None:
            padded = cv2.dilate(padded, grow_k)
        outer, _ = cv2.findContours(padded, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in outer:
            poly = cv2.approxPolyDP(c, eps, True).reshape(-1, 2).astype(np.float64)
            poly = poly + np.array([x0 - pad, y0 - pad])
            poly = np.clip(poly, (-grow, -grow), (w - 1 + grow, h - 1 + grow))
            outlines.append(tuple((float((x + 0.5) * s), float((y + 0.5) * s)) for x, y in poly))
    covered = float(np.count_nonzero(np.minimum(mask, fg_mask))) / float(h * w)
    return ArmSegmentation(tuple(hands), mask, tuple(outlines), covered, covered > cfg.lean_fraction)


class ForegroundHandDetector:
    """Hands as foreground arms; keeps the last segmentation for the arm mask and outlines."""

    def __init__(self, config: PerceptionConfig | None = None) -> None:
        self.cfg = config or PerceptionConfig()
        self.last: ArmSegmentation | None = None

    def detect(self, bench_view: BenchView, fg_mask: np.ndarray, t: float) -> tuple[Hand, ...]:
        prev = self.last.mask if self.last is not None else None
        self.last = segment_arms(fg_mask, bench_view.mm_per_px, self.cfg, bench_view.changed, prev)
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
