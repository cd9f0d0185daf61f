"""Part presence per zone, judged only while no hand or arm covers the zone.

Looks are the normalised view (projection cancelled) sampled in the zone's own frame. Each watched zone
keeps its last *clear* look (no arm within ``presence_hand_margin_mm``). References:

- ``begin_unit()``: the unit-start look of every watched zone (the empty jig);
- ``begin_step(present, absent)``: a zone of a ``present`` condition is compared with its look at the
  start of the step (has the part of this step been added?), a zone of an ``absent`` condition with its
  unit-start look (is it empty again?).

A reference is the last clear look at the time it is asked for; a zone that was never seen clear takes
its next clear look. PRESENT = the zone differs from its reference over ``presence_fraction`` of its
area, EMPTY = it does not; UNKNOWN while covered or without a reference. Taught looks (of the zone
empty and done) can be given with ``teach``; a taught 'done' look must then also match for PRESENT
(else UNKNOWN: something is there, not the right thing). It matches where each pixel lies within the
range of the taught look within ``TAUGHT_SHIFT_MM`` of it, so a part put down a few mm off still fits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from oss.instructions.model import Condition, PartAbsent, PartPresent, iter_conditions
from oss.perception.config import PerceptionConfig
from oss.perception.foreground import channel_max
from oss.perception.zones import ZoneMap
from oss.records import Presence

TAUGHT_SHIFT_MM = 5.0  # a taught 'done' look matches a part lying up to this far off (placement jitter)


def condition_zones(done: Condition) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(zones of PartPresent, zones of PartAbsent) of a done-condition, in order, without repeats."""
    conds = list(iter_conditions(done))
    present = tuple(dict.fromkeys(c.zone for c in conds if isinstance(c, PartPresent)))
    absent = tuple(dict.fromkeys(c.zone for c in conds if isinstance(c, PartAbsent)))
    return present, absent


@dataclass
class _ZoneState:
    last_clear: np.ndarray | None = None
    last_clear_version: int = -1
    unit_ref: np.ndarray | None = None
    ref: np.ndarray | None = None
    want_unit_ref: bool = False
    want_ref: str = ""  # "" | "step" | "unit"
    taught_empty: np.ndarray | None = None
    taught_done: np.ndarray | None = None
    taught_done_range: tuple[np.ndarray, np.ndarray] | None = None  # per-pixel min/max near each pixel
    state: Presence = Presence.UNKNOWN
    kind: str = ""  # "present" | "absent" in the current step
    last_clear_t: float = 0.0  # when each look was taken (so looks taken while the view was off can go)
    unit_ref_t: float = 0.0
    ref_t: float = 0.0


class PresenceDetector:
    def __init__(self, zones: ZoneMap, watched: Iterable[str], config: PerceptionConfig) -> None:
        self.zones = zones
        self.cfg = config
        self._z: dict[str, _ZoneState] = {z: _ZoneState() for z in watched}
        self.active: tuple[str, ...] = ()
        self._k = max(1, round(config.presence_smooth_mm / zones.mm_per_px)) | 1
        r = round(config.presence_shift_mm / zones.mm_per_px)
        self._shift_kernel = np.ones((2 * r + 1, 2 * r + 1), np.uint8) if r > 0 else None

    @property
    def watched(self) -> tuple[str, ...]:
        return tuple(self._z)

    def _state(self, zone: str) -> _ZoneState:
        if zone not in self._z:
            self._z[zone] = _ZoneState()
        return self._z[zone]

    # --- references -----------------------------------------------------------------------------
    def begin_unit(self) -> None:
        for st in self._z.values():
            st.unit_ref, st.unit_ref_t = st.last_clear, st.last_clear_t
            st.want_unit_ref = st.last_clear is None

    def begin_step(self, present: Sequence[str], absent: Sequence[str] = ()) -> None:
        for st in self._z.values():
            st.ref, st.want_ref, st.state, st.kind = None, "", Presence.UNKNOWN, ""
        for z in present:
            st = self._state(z)
            st.kind = "present"
            st.ref, st.ref_t = st.last_clear, st.last_clear_t
            st.want_ref = "step" if st.ref is None else ""
        for z in absent:
            st = self._state(z)
            st.kind = "absent"
            st.ref = st.unit_ref if st.unit_ref is not None else st.taught_empty
            st.ref_t = st.unit_ref_t
            st.want_ref = "unit" if st.ref is None else ""
        self.active = tuple(dict.fromkeys([*present, *absent]))

    def teach(self, zone: str, empty: np.ndarray | None = None, done: np.ndarray | None = None) -> None:
        """Taught looks of ``zone`` (as returned by ``look``): empty replaces a missing unit reference."""
        st = self._state(zone)
        st.taught_empty, st.taught_done = empty, done
        st.taught_done_range = None
        if done is not None:  # a part put down a little off or turned still matches its taught look
            k = 2 * max(1, round(TAUGHT_SHIFT_MM / self.zones.mm_per_px)) + 1
            kernel = np.ones((k, k), np.uint8)
            st.taught_done_range = (cv2.erode(done, kernel), cv2.dilate(done, kernel))

    def realigned(self, since_t: float) -> None:
        """The camera's view was off since ``since_t`` and is in line again: looks taken since then
        (references included) are dropped and taken again at the next clear look."""
        for st in self._z.values():
            st.state = Presence.UNKNOWN
            if st.last_clear is not None and st.last_clear_t > since_t:
                st.last_clear = None
            if st.unit_ref is not None and st.unit_ref_t > since_t:
                st.unit_ref, st.want_unit_ref = None, True
            if st.ref is not None and st.ref_t > since_t:
                st.ref, st.want_ref = None, ("step" if st.kind == "present" else "unit")

    def look(self, zone: str) -> np.ndarray | None:
        """The zone's last clear look (normalised view in the zone's frame)."""
        return self._state(zone).last_clear

    # --- per frame ----------------------------------------------------------------------------------
    def update(self, ratio: np.ndarray, cover_mask: np.ndarray, t: float = 0.0, judge: bool = True) -> None:
        """Take the looks of every watched zone that no hand covers (``cover_mask``: dilated arms) at time
        ``t``. ``judge=False``: the view may be off (see ``oss.perception.alignment``): no look is taken
        and every zone is UNKNOWN."""
        if not judge:
            for st in self._z.values():
                st.state = Presence.UNKNOWN
            return
        for zone, st in self._z.items():
            smp = self.zones.sampler(zone)
            covered = smp.sample(cover_mask, nearest=True)[smp.mask].any()
            if covered:
                st.state = Presence.UNKNOWN
                continue
            look = smp.sample(ratio)
            if self._k > 1:  # average out sensor noise: parts are larger than this
                look = cv2.blur(look, (self._k, self._k))
            st.last_clear, st.last_clear_t = look, t
            if st.want_unit_ref:
                st.unit_ref, st.unit_ref_t, st.want_unit_ref = look, t, False
            if st.want_ref == "step" or (st.want_ref == "unit" and st.unit_ref is not None):
                st.ref, st.want_ref = (look if st.want_ref == "step" else st.unit_ref), ""
                st.ref_t = t if st.ref is look else st.unit_ref_t
            if zone in self.active and st.ref is not None:
                st.state = self._judge(st, look, smp.mask)

    def _changed(self, a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
        if a.shape != b.shape:
            return 1.0
        if self._shift_kernel is not None:  # a look a little shifted (camera or jig nudged) is no change
            lo, hi = cv2.erode(b, self._shift_kernel), cv2.dilate(b, self._shift_kernel)
            delta = channel_max(np.maximum(np.maximum(lo - a, a - hi), 0.0))[mask]
        else:
            delta = channel_max(cv2.absdiff(a, b))[mask]
        if not delta.size:
            return 0.0
        changed = delta > self.cfg.presence_pixel_delta
        if changed.any():  # an even dimming is the shadow of an arm nearby, not a part
            q = a[mask][changed] / np.maximum(b[mask][changed], 0.05)
            mean = (q[:, 0] + q[:, 1] + q[:, 2]) / 3.0
            dev = np.maximum(
                np.maximum(np.abs(q[:, 0] - mean), np.abs(q[:, 1] - mean)), np.abs(q[:, 2] - mean)
            )
            cfg = self.cfg
            shadow = (mean >= cfg.shadow_min_ratio) & (mean < 1.0) & (dev < cfg.shadow_chroma * mean)
            changed[np.flatnonzero(changed)[shadow]] = False
        return float(np.mean(changed))

    def _outside(self, look: np.ndarray, rng: tuple[np.ndarray, np.ndarray], mask: np.ndarray) -> float:
        """Fraction of the zone where ``look`` is off the taught look's local range by more than the delta."""
        lo, hi = rng
        if look.shape != lo.shape:
            return 1.0
        off = np.maximum(np.maximum(lo - look, look - hi), 0.0)
        delta = channel_max(off)[mask]
        return float(np.mean(delta > self.cfg.presence_pixel_delta)) if delta.size else 0.0

    def _judge(self, st: _ZoneState, look: np.ndarray, mask: np.ndarray) -> Presence:
        assert st.ref is not None
        frac = self._changed(look, st.ref, mask)
        hi = self.cfg.presence_fraction
        if frac >= hi:
            new = Presence.PRESENT
        elif frac < 0.5 * hi:
            new = Presence.EMPTY
        else:
            new = st.state if st.state is not Presence.UNKNOWN else Presence.EMPTY
        if (
            new is Presence.PRESENT
            and st.kind == "present"
            and st.taught_done_range is not None
            and self._outside(look, st.taught_done_range, mask) >= hi
        ):
            new = Presence.UNKNOWN  # something is there, but it does not look like the taught result
        return new

    def presence(self, zones: Sequence[str] = ()) -> tuple[tuple[str, Presence], ...]:
        ids = zones or self.active
        return tuple((z, self._z[z].state if z in self._z else Presence.UNKNOWN) for z in ids)
