"""End to end on the virtual bench: a hesitating operator presses the pedal twice where the step takes
no press, the station calls the supervisor and the monitor window shows it; the supervisor types a wrong
PIN, the right one, answers the call and skips the step.

Runtime: about 10 s on a 2-core machine (200 ticks).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oss.display.base import NullDisplay
from oss.log.store import EventStore
from oss.monitor import MonitorWindow, SupervisorConsole
from oss.monitor.panel import BANNER
from oss.monitor.view import HEADER_H
from oss.operator.profile import OperatorProfile
from oss.records import Button, InputEvent
from oss.sim.scenario import load_scenario
from oss.station.sim_link import sim_station

from .conftest import PIN

pytestmark = [pytest.mark.slow, pytest.mark.display]


class Pedal(NullDisplay):
    """Pedal presses at given times of the bench clock (the keyboard of the projector window)."""

    def __init__(self, times: list[float], clock) -> None:
        super().__init__()
        self.times, self.clock = list(times), clock

    def poll_keys(self):
        due = [t for t in self.times if t <= self.clock()]
        self.times = [t for t in self.times if t > self.clock()]
        return [InputEvent(Button.NEXT, "pedal", t) for t in due]


def test_a_supervisor_call_reaches_the_monitor_and_pin_plus_skip_moves_the_station_on(
    tmp_path: Path, x_display: str
) -> None:
    from pyglet.window import key

    sc = load_scenario("led_hesitation")
    store = EventStore(tmp_path / "log.sqlite", "sim")
    holder: list = []
    pedal = Pedal([1.0, 1.8], lambda: holder[0].t if holder else 0.0)  # stuck: "help" by pedal, twice
    with MonitorWindow(SupervisorConsole(PIN), size=(1280, 720)) as mon:
        station, bench = sim_station(
            sc,
            sc.load_instruction(),
            store,
            max_cycles=1,
            operator="sam",
            profile=OperatorProfile("sam", name="Sam", sound=False),
            display=pedal,
            monitor=mon,
        )
        holder.append(bench)
        station.start()
        ticks = 0
        while mon.model.call is None and bench.t < 20.0:
            station.tick()
            ticks += 1
        call = mon.model.call
        assert call is not None and call.stuck and call.step_uid == "housing"
        stuck_at = station.engine.state.step_index
        shown = mon.redraw()
        snap = mon.model.snap
        assert snap is not None
        assert np.allclose(shown[:HEADER_H].reshape(-1, 3).mean(axis=0), BANNER[int(snap.t * 2) % 2], atol=40)
        assert np.abs(mon.read_back().astype(int) - shown.astype(int)).max() <= 2

        def type_keys(*symbols: int) -> None:
            for s in symbols:
                mon.window.dispatch_event("on_key_press", s, 0)

        for _ in range(15):  # the supervisor walks up (half a second)
            station.tick()
        type_keys(key._1, key._1, key._1, key._1, key.ENTER, key.S)  # a wrong PIN, then a refused skip
        station.tick()
        assert station.engine.state.step_index == stuck_at
        type_keys(key._2, key._4, key._6, key._8, key.ENTER, key.H)  # unlock, answer the call
        station.tick()
        assert mon.model.call is None
        type_keys(key.S)  # skip the step the operator is stuck at
        station.tick()
        ticks += 18
        while ticks < 200 and station.tick():
            ticks += 1
        result = station.stop()
    events = store.events(result.session_ids[0])
    store.close()
    sup = [(e.get("action"), e.get("accepted"), e.get("reason")) for e in events if e.kind == "supervisor"]
    assert sup == [
        ("wrong_pin", False, "wrong PIN (1 of 3)"),
        ("skip", False, "locked: type the PIN and press Enter"),
        ("unlock", True, None),
        ("answer", True, None),
        ("skip", True, None),
    ]
    helps = [(e.get("on"), e.get("source")) for e in events if e.kind == "help"]
    assert helps[:2] == [(True, "hesitation"), (False, "monitor")]
    skips = [e for e in events if e.kind == "skip"]
    assert len(skips) == 1 and skips[0].get("refused") is False and skips[0].get("source") == "monitor"
    assert skips[0].step_uid == "housing"
    ends = [(e.step_uid, e.get("result")) for e in events if e.kind == "step_end"]
    assert ("housing", "skip") in ends
    after = [e.step_uid for e in events if e.kind == "step_start"]
    assert after[after.index("housing") + 1] != "housing"  # the engine moved on to the next step
    assert ticks >= 200 and mon.draws >= 5
    hes = [(e.get("name"), e.get("source")) for e in events if e.kind == "hesitation"]
    assert hes[-1] == ("supervisor", "press")
