"""Compare what a station logged with the virtual bench's ground truth.

A step is *correct* when the station advanced it (``step_end`` with result ``done``) no earlier than
the moment it was truly done (less one frame period, the resolution of both clocks); earlier is a
*false advance*, and so is the advance of a step that was never truly done. A step truly done but
never advanced by the station is *missed*. Detection latency is advance time minus true-done time.
A wrong pick is *detected* when an ``error`` event names the same bin within 2 s of the true pick.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from oss.records import LogEvent
from oss.sim.truth import GroundTruth

WRONG_PICK_WINDOW_S = 2.0


def stats(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p95": None, "max": None, "n": 0}
    a = np.asarray(values, dtype=float)
    return {
        "median": round(float(np.median(a)), 2),
        "p95": round(float(np.percentile(a, 95)), 2),
        "max": round(float(a.max()), 2),
        "n": len(values),
    }


@dataclass(frozen=True)
class StepVerdict:
    uid: str
    cycle: int  # 1-based unit number, as in the log
    t_done: float | None
    t_advanced: float | None
    verdict: str  # correct, false_advance, missed, open


def step_verdicts(events: Sequence[LogEvent], gt: GroundTruth) -> list[StepVerdict]:
    frame = 1.0 / gt.fps
    advanced = {
        (e.step_uid, e.cycle): e.t for e in events if e.kind == "step_end" and e.get("result") == "done"
    }
    out: list[StepVerdict] = []
    seen: set[tuple[str, int]] = set()
    for s in gt.steps:
        key = (s.uid, s.cycle + 1)
        seen.add(key)
        adv = advanced.get(key)
        if s.t_done is None:
            verdict = "false_advance" if adv is not None else ("open" if s.status == "open" else "missed")
        elif adv is None:
            verdict = "missed"
        elif adv < s.t_done - frame - 1e-6:
            verdict = "false_advance"
        else:
            verdict = "correct"
        out.append(StepVerdict(s.uid, s.cycle + 1, s.t_done, adv, verdict))
    for key, adv in advanced.items():
        if key not in seen:
            out.append(StepVerdict(key[0], key[1], None, adv, "false_advance"))
    return out


def evaluate(events: Sequence[LogEvent], gt: GroundTruth, frame_ms: Sequence[float]) -> dict[str, object]:
    """The summary figures of a simulated run (see ``oss run --summary-json``)."""
    verdicts = step_verdicts(events, gt)
    expected = [v for v in verdicts if v.t_done is not None]
    latencies = [
        (v.t_advanced - v.t_done) * 1000.0
        for v in verdicts
        if v.verdict == "correct" and v.t_advanced is not None and v.t_done is not None
    ]
    wrong = [p for p in gt.picks if p.wrong and p.kind == "take"]
    raised = [e for e in events if e.kind == "error" and e.get("cleared") is False]
    used: set[int] = set()
    detected = 0
    for p in wrong:
        for i, e in enumerate(raised):
            if (
                i not in used
                and e.get("bin") == p.bin
                and p.t_enter - 0.5 <= e.t <= p.t_leave + WRONG_PICK_WINDOW_S
            ):
                used.add(i)
                detected += 1
                break
    return {
        "scenario": gt.scenario,
        "steps_expected": len(expected),
        "steps_correct": sum(1 for v in verdicts if v.verdict == "correct"),
        "false_advances": sum(1 for v in verdicts if v.verdict == "false_advance"),
        "missed_steps": sum(1 for v in verdicts if v.verdict == "missed"),
        "wrong_picks_expected": len(wrong),
        "wrong_picks_detected": detected,
        "false_errors": len(raised) - len(used),
        "detection_latency_ms": stats(latencies),
        "frame_ms": stats(frame_ms),
        "cycles_completed": sum(1 for e in events if e.kind == "cycle_end"),
        "cycles_expected": len({s.cycle for s in gt.steps}),
        "problems": [
            f"{v.verdict}: {v.uid} (unit {v.cycle}) done {v.t_done} advanced {v.t_advanced}"
            for v in verdicts
            if v.verdict in ("false_advance", "missed")
        ],
    }
