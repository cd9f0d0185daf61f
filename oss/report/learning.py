"""Learning curves and competence levels, from one operator's units of one product and variant.

Learning curve (Wright / Crawford): the n-th unit takes ``T_n = T_1 · n^b`` (b < 0 while learning).
The learning rate ``2^b`` is the share of time a doubling of experience leaves: 0.85 means every
doubling of the units done cuts the cycle time to 85 %. Fitted by least squares on log T against log n.
The units to reach the expected pace are where the fitted curve meets the standard time E (the sum of
the steps' expected_s): ``n = (E / T_1)^(1/b)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MIN_FIT_UNITS = 5
ROLLING = 5  # units in the rolling median that decides "reached the expected pace"


@dataclass(frozen=True)
class LearningFit:
    t1_s: float  # fitted time of the first unit
    b: float  # exponent; learning rate = 2 ** b
    units_to_standard: int | None  # where the fitted curve reaches the standard time (None: never)

    @property
    def rate(self) -> float:
        return float(2.0**self.b)


def fit_learning_curve(
    unit_no: np.ndarray, duration_s: np.ndarray, standard_s: float | None
) -> LearningFit | None:
    """Fit ``T_n = T_1 · n^b``; None with fewer than MIN_FIT_UNITS units of positive duration."""
    ok = (duration_s > 0) & (unit_no > 0)
    if int(ok.sum()) < MIN_FIT_UNITS or len(np.unique(unit_no[ok])) < 2:
        return None
    x, y = np.log(unit_no[ok].astype(float)), np.log(duration_s[ok].astype(float))
    b, a = np.polyfit(x, y, 1)
    t1 = math.exp(a)
    return LearningFit(t1, float(b), units_to(t1, float(b), standard_s))


def units_to(t1: float, b: float, standard_s: float | None, cap: int = 1_000_000) -> int | None:
    """The first unit number at which ``T_1 · n^b`` is at or below the standard time."""
    if standard_s is None or standard_s <= 0:
        return None
    if t1 <= standard_s * (1 + 1e-6):
        return 1
    if b > -1e-9:
        return None
    n = math.ceil((standard_s / t1) ** (1.0 / b) - 1e-9)
    return n if n <= cap else None


def reached_at(duration_s: np.ndarray, standard_s: np.ndarray) -> int | None:
    """The first unit number where the median of the last ROLLING units is within their standard time."""
    if len(duration_s) < ROLLING:
        return None
    from numpy.lib.stride_tricks import sliding_window_view

    ratio = duration_s / np.where(standard_s > 0, standard_s, np.nan)
    med = np.median(sliding_window_view(ratio, ROLLING), axis=1)
    hit = np.nonzero(med <= 1.0)[0]
    return int(hit[0]) + ROLLING if hit.size else None


def curve_bins(n: int) -> list[tuple[int, int]]:
    """Unit-number ranges for plotting a learning curve: single units up to 10, then ~10 per decade."""
    out: list[tuple[int, int]] = []
    lo = 1
    while lo <= n:
        hi = lo if lo <= 10 else min(n, max(lo, int(lo * 10**0.1)))
        out.append((lo, min(hi, n)))
        lo = hi + 1
    return out


# ---------------------------------------------------------------------------------------------------
# Competence


@dataclass(frozen=True)
class Level:
    rank: int
    name: str
    min_units: int
    min_first_time_right: float  # share of the recent units without an error
    min_pace: float  # standard time / actual time over the recent units (1.0 = at standard)


LEVELS = (
    Level(1, "learning", 1, 0.0, 0.0),
    Level(2, "independent", 10, 0.80, 0.75),
    Level(3, "at standard", 30, 0.95, 0.95),
    Level(4, "expert", 100, 0.98, 1.0),
)
RECENT_UNITS = 20
"""Competence is judged on the operator's last RECENT_UNITS units (their current state, not their past)."""


def competence(units: int, recent_ftr: float | None, recent_pace: float | None) -> Level | None:
    """The highest level whose thresholds are all met (None: no units). Pace is not judged when the
    instruction gives no expected times (``recent_pace`` None)."""
    best: Level | None = None
    for lv in LEVELS:
        ftr_ok = recent_ftr is not None and recent_ftr >= lv.min_first_time_right
        pace_ok = recent_pace is None or recent_pace >= lv.min_pace
        if units >= lv.min_units and ftr_ok and pace_ok:
            best = lv
    return best
