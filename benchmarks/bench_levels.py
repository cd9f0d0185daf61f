"""The automatic guidance level on the virtual bench: the real station loop, perception, engine and log.

Runs a scenario (default ``led_learning``: six clean units, a wrong pick in the seventh, one clean unit)
with an operator whose profile says ``level: auto`` and the station's default level policy, reads the
log back from its SQLite event store, and prints JSON: the level events (simulated time, unit,
previous, level, reason), each unit with the level it was done at, its active time against the sum of
its steps' expected times (``pace_pct``; at pace up to 130 %), its mistakes and hesitations, and the
evaluation against the ground truth (steps, false advances, wrong picks caught). A run where the station
does not move on after a step the operator has done (the operator pressed the pedal 3 times, ``stuck``)
stops there and says so (``stopped_by``). Progress goes to stderr as the units end.

Usage: python benchmarks/bench_levels.py [--scenario NAME] [--clean-units N] [--max-cycles N]
(about 1 to 3 minutes of wall time per LED unit on a 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from oss.log.store import EventStore
from oss.operator.adaptive import LevelPolicy, unit_outcomes
from oss.operator.profile import OperatorProfile
from oss.sim.scenario import load_scenario
from oss.station.evaluate import evaluate
from oss.station.sim_link import sim_station

OPERATOR = "learner"
GIVE_UP_STUCK = 3  # the station did not move on after the operator's step this often: stop, report it


def run(name: str, policy: LevelPolicy, max_cycles: int | None = None) -> dict[str, object]:
    sc = load_scenario(name)
    ins = sc.load_instruction()
    profile = OperatorProfile(OPERATOR, name="Learner", level="auto", sound=False)
    with tempfile.TemporaryDirectory() as d, EventStore(Path(d) / "log.sqlite", f"bench-{name}") as store:
        station, bench = sim_station(
            sc, ins, store, max_cycles=max_cycles, operator=OPERATOR, profile=profile, level_policy=policy
        )
        station.start()
        t0 = time.perf_counter()
        seen = [0]

        def stop() -> bool:
            for e in station.result.events[seen[0] :]:  # progress, as the units end
                if e.kind == "cycle_end" or (e.kind == "level" and e.get("changed")):
                    what = f"level {e.get('previous')} -> {e.get('level')}" if e.kind == "level" else "done"
                    print(f"  t={e.t:.1f} s unit {e.cycle}: {what}", file=sys.stderr)
            seen[0] = len(station.result.events)
            return bench.finished or len(bench.operator.stuck) >= GIVE_UP_STUCK

        result = station.run(stop_when=stop)
        wall = time.perf_counter() - t0
        stored = [e for sid in result.session_ids for e in store.events(sid)]
    levels = [e for e in stored if e.kind == "level"]
    units = []
    level = ""
    starts = {e.cycle: e.t_mono for e in stored if e.kind == "cycle_start"}
    for u in unit_outcomes(stored):
        level = next(
            (str(e.get("level")) for e in reversed(levels) if e.t_mono <= starts.get(u.cycle, 0.0)), level
        )
        units.append(
            {
                "unit": u.cycle,
                "level": level,
                "duration_s": round(u.duration_s, 1),
                "expected_s": u.expected_s,
                "pace_pct": round(100 * u.duration_s / u.expected_s) if u.expected_s else None,
                "at_pace": u.at_pace(policy.pace_factor),
                "errors": u.errors,
                "hesitations": u.hesitations,
                "help": u.help,
                "skips": u.skips,
                "clean": u.clean,
            }
        )
    summary = evaluate(result.events, bench.ground_truth(), result.frame_ms)
    keep = (
        "steps_expected",
        "steps_correct",
        "false_advances",
        "missed_steps",
        "wrong_picks_expected",
        "wrong_picks_detected",
        "false_errors",
        "cycles_completed",
        "cycles_expected",
        "problems",
    )
    return {
        "scenario": sc.name,
        "operator": OPERATOR,
        "policy": asdict(policy),
        "level_events": [
            {
                "t_s": round(e.t_mono, 2),
                "unit": e.cycle,
                "previous": e.get("previous"),
                "level": e.get("level"),
                "changed": e.get("changed"),
                "mode": e.get("mode"),
                "reason": e.get("reason"),
            }
            for e in levels
        ],
        "units": units,
        "evaluation": {k: summary[k] for k in keep},
        "stuck": [
            {"t_s": round(s.t, 1), "unit": s.cycle + 1, "shown": s.shown_uid, "operator_at": s.expected_uid}
            for s in bench.operator.stuck
        ],
        "stopped_by": "operator stuck" if len(bench.operator.stuck) >= GIVE_UP_STUCK else result.stopped_by,
        "sim_seconds": round(bench.t, 1),
        "wall_seconds": round(wall, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="led_learning")
    ap.add_argument("--clean-units", type=int, default=LevelPolicy().clean_units)
    ap.add_argument("--max-cycles", type=int, default=None, help="run only this many units")
    args = ap.parse_args()
    out = run(args.scenario, LevelPolicy(clean_units=args.clean_units), args.max_cycles)
    for e in out["level_events"]:  # type: ignore[attr-defined]
        print(f"unit {e['unit']}: {e['previous']} -> {e['level']} ({e['reason']})", file=sys.stderr)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
