"""Pictures of the supervisor monitor for docs/operator.md, from real runs on the virtual bench.

    python -m oss.monitor.pictures docs/images

``monitor.png``: the LED fixture (``sim:led_basic``) at work, the supervisor has unlocked the monitor
and set the level; ``monitor_call.png``: ``sim:led_hesitation``, the operator is stuck at the first step
and the station has called the supervisor. The monitor's clock is the bench's, so the pictures are the
same every time but for the wall-clock times in the event list. They are saved with 256 colours
(small files; the text and the drawing colours stay exact).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from oss.engine.guidance import HesitationPolicy
from oss.log.store import EventStore
from oss.operator.profile import OperatorProfile
from oss.sim.bench import VirtualBench
from oss.sim.scenario import load_scenario
from oss.station.loop import Station
from oss.station.sim_link import sim_station

from .console import SupervisorConsole
from .window import SupervisorMonitor

PIN = "2468"
QUICK = HesitationPolicy(
    factor=1.0, min_extra_s=0.0, animation_after_s=2.0, sound_after_s=4.0, call_after_s=6.0
)


def _run(scenario: str, tmp: Path, level: str) -> tuple[Station, VirtualBench, SupervisorMonitor]:
    sc = load_scenario(scenario)
    store = EventStore(tmp / f"{scenario}.sqlite", "line1-st3")
    holder: list[VirtualBench] = []

    def clock() -> float:
        return holder[0].t if holder else 0.0

    mon = SupervisorMonitor(SupervisorConsole(PIN, clock=clock), clock=clock)
    station, bench = sim_station(
        sc,
        sc.load_instruction(),
        store,
        max_cycles=1,
        operator="sam",
        profile=OperatorProfile("sam", name="Sam", level=level, sound=False),
        hesitation=QUICK,
        monitor=mon,
        station_id="line1-st3",
    )
    holder.append(bench)
    station.start()
    return station, bench, mon


def at_work(tmp: Path) -> np.ndarray:
    """led_basic: unlocked, the level set to reduced, a hand taking a part from a lit bin."""
    station, bench, mon = _run("led_basic", tmp, "full")
    best: np.ndarray | None = None
    while bench.t < 40.0 and station.tick():
        if abs(bench.t - 2.0) < 1e-6:
            mon.type_keys("_2", "_4", "_6", "_8", "ENTER", "L", "L")
        snap = mon.model.snap
        seen = snap is not None and snap.obs is not None and bool(snap.obs.hands)
        if bench.t > 15.0 and seen and snap is not None and mon.model.recent_picks(snap.t):
            best = mon.redraw()
            break
    station.stop()
    return best if best is not None else mon.redraw()


def stuck(tmp: Path) -> np.ndarray:
    """led_hesitation: the station has called the supervisor three seconds ago."""
    station, bench, mon = _run("led_hesitation", tmp, "minimal")
    called = None
    while bench.t < 30.0 and station.tick():
        call = mon.model.call
        if call is not None:
            called = called if called is not None else bench.t
            if bench.t - called >= 3.0:
                break
    image = mon.redraw()
    station.stop()
    return image


def save_png(image: np.ndarray, path: Path) -> None:
    """A BGR image as a 256-colour PNG."""
    from PIL import Image

    rgb = Image.fromarray(np.ascontiguousarray(image[..., ::-1]))
    rgb.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        path, optimize=True
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        for name, make in (("monitor", at_work), ("monitor_call", stuck)):
            path = args.out / f"{name}.png"
            save_png(make(Path(d)), path)
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
