"""Station benchmark: every shipped scenario on the virtual bench, scored against its ground truth.

The operator is on the automatic guidance level (``level: auto``, the default policy) with a fresh log:
it starts at full guidance, and a scenario of more than three units (``led_learning``) is done partly
at reduced and minimal guidance. Prints JSON: per scenario the summary figures (steps, false advances,
missed steps, wrong picks, detection latency, frame processing time) and the level changes (``levels``:
unit, previous, level, reason), totals over all scenarios, and the frame time of the
plain approach (no caching: maps recomputed, whole-frame marker search every frame) on a stretch of
led_basic for comparison. Usage: python benchmarks/bench_station.py [SCENARIO ...] [--plain-seconds S]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from oss.log.store import EventStore
from oss.operator.profile import OperatorProfile
from oss.sim.scenario import load_scenario, shipped_scenarios
from oss.station.evaluate import evaluate, stats, step_verdicts
from oss.station.sim_link import sim_station


def run_scenario(
    name: str, tmp: Path, plain: bool = False, until_s: float | None = None
) -> tuple[dict[str, object], list[float], list[float]]:
    sc = load_scenario(name)
    ins = sc.load_instruction()
    with EventStore(tmp / f"{name}{'-plain' if plain else ''}.sqlite", f"bench-{name}") as store:
        operator = OperatorProfile("bench", level="auto", sound=False)
        station, bench = sim_station(
            sc, ins, store, plain_perception=plain, operator="bench", profile=operator
        )
        station.start()
        t0 = time.perf_counter()
        result = station.run(stop_when=lambda: bench.finished or (until_s is not None and bench.t >= until_s))
        wall = time.perf_counter() - t0
    gt = bench.ground_truth()
    summary = evaluate(result.events, gt, result.frame_ms)
    summary["sim_seconds"] = round(bench.t, 1)
    summary["wall_seconds"] = round(wall, 1)
    summary["loop_fps"] = round(result.frames / wall, 1) if wall else None
    summary["levels"] = [
        {"unit": e.cycle, "previous": e.get("previous"), "level": e.get("level"), "reason": e.get("reason")}
        for e in result.events
        if e.kind == "level" and e.get("changed")
    ]
    latencies = [
        (v.t_advanced - v.t_done) * 1000.0
        for v in step_verdicts(result.events, gt)
        if v.verdict == "correct" and v.t_advanced is not None and v.t_done is not None
    ]
    return summary, latencies, result.frame_ms


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenarios", nargs="*")
    ap.add_argument("--plain-seconds", type=float, default=20.0)
    args = ap.parse_args()
    names = args.scenarios or shipped_scenarios()
    out: dict[str, object] = {"scenarios": {}}
    lat: list[float] = []
    frame_ms: list[float] = []
    totals = dict.fromkeys(
        (
            "steps_expected",
            "steps_correct",
            "false_advances",
            "missed_steps",
            "wrong_picks_expected",
            "wrong_picks_detected",
            "false_errors",
            "cycles_completed",
            "cycles_expected",
        ),
        0,
    )
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name in names:
            s, la, fm = run_scenario(name, tmp)
            lat.extend(la)
            frame_ms.extend(fm)
            out["scenarios"][name] = s  # type: ignore[index]
            for k in totals:
                totals[k] += int(s[k])  # type: ignore[call-overload]
            print(f"{name}: {json.dumps({k: s[k] for k in totals})}", file=sys.stderr)
        totals["detection_latency_ms"] = stats(lat)  # type: ignore[assignment]
        totals["frame_ms"] = stats(frame_ms)  # type: ignore[assignment]
        out["totals"] = totals
        if args.plain_seconds > 0:
            plain, _, _ = run_scenario("led_basic", tmp, plain=True, until_s=args.plain_seconds)
            cached, _, _ = run_scenario("led_basic", tmp, plain=False, until_s=args.plain_seconds)
            out["plain_vs_cached_led_basic_first_s"] = {
                "seconds": args.plain_seconds,
                "plain_frame_ms": plain["frame_ms"],
                "cached_frame_ms": cached["frame_ms"],
            }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
