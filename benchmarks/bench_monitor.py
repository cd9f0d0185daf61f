"""Supervisor monitor benchmark: what the monitor adds to each tick of the station loop.

Runs ``led_basic`` on the virtual bench for ``--seconds`` of simulated time three ways: without a
monitor, with the headless monitor (drawing only) and, where an X display exists, with the monitor
window. Prints JSON: loop ms per tick for each, the monitor's own cost per tick (``monitor_tick_ms``:
snapshot, actions, drawing and showing; median, p95, max, mean) and per redraw (``draw_ms``).

Usage: python benchmarks/bench_monitor.py [--seconds S] [--max-hz HZ]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from oss.log.store import EventStore
from oss.monitor import MonitorWindow, SupervisorConsole, SupervisorMonitor
from oss.sim.scenario import load_scenario
from oss.station.evaluate import stats
from oss.station.sim_link import sim_station


def run(tmp: Path, name: str, seconds: float, monitor: SupervisorMonitor | None) -> dict[str, object]:
    sc = load_scenario("led_basic")
    with EventStore(tmp / f"{name}.sqlite", "bench") as store:
        station, bench = sim_station(sc, sc.load_instruction(), store, operator="bench", monitor=monitor)
        station.start()
        tick_ms: list[float] = []
        while bench.t < seconds:
            t0 = time.perf_counter()
            if not station.tick():
                break
            tick_ms.append((time.perf_counter() - t0) * 1000.0)
        station.stop()
    out: dict[str, object] = {"ticks": len(tick_ms), "loop_ms": stats(tick_ms)}
    if station.monitor is not None and monitor is not None:
        cost = list(station.monitor.tick_ms)
        out["monitor_tick_ms"] = stats(cost) | {"mean": round(float(np.mean(cost)), 2)}
        out["draw_ms"] = stats(list(monitor.draw_ms))
        out["draws"] = monitor.draws
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--max-hz", type=float, default=10.0)
    args = ap.parse_args()
    out: dict[str, object] = {"seconds_simulated": args.seconds, "max_hz": args.max_hz}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        out["no_monitor"] = run(tmp, "none", args.seconds, None)
        headless = SupervisorMonitor(SupervisorConsole("2468"), max_hz=args.max_hz)
        out["headless_monitor"] = run(tmp, "headless", args.seconds, headless)
        if os.environ.get("DISPLAY"):
            with MonitorWindow(SupervisorConsole("2468"), max_hz=args.max_hz) as window:
                out["monitor_window"] = run(tmp, "window", args.seconds, window)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
