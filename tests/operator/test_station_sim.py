"""The operator features on the virtual bench: the real station loop, perception, engine and log.

Runtime: about 30 s on a 2-core machine (the station runs at 20-40 frames per second here).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oss.display.base import NullDisplay, TextLine
from oss.engine.guidance import HesitationPolicy
from oss.log.store import EventStore
from oss.operator.profile import OperatorProfile, ProfileBook
from oss.records import Button, InputEvent
from oss.sim.scenario import load_scenario
from oss.station.sim_link import sim_station

pytestmark = pytest.mark.slow


def test_a_hesitating_operator_gets_escalating_help_then_a_supervisor(tmp_path: Path, player) -> None:
    sc = load_scenario("led_hesitation")
    store = EventStore(tmp_path / "log.sqlite", "sim")
    sam = OperatorProfile("sam", name="Sam", level="minimal", volume=0.5)
    policy = HesitationPolicy(animation_after_s=2.0, sound_after_s=4.0, call_after_s=6.0)
    station, bench = sim_station(
        sc,
        sc.load_instruction(),
        store,
        max_cycles=1,
        operator="sam",
        profile=sam,
        hesitation=policy,
        sounds=player,
    )
    station.start()
    panel_lit: dict[int, bool] = {}
    text = station.renderer.layout.text
    while bench.t < 18.5:
        station.tick()
        g = station.session.view()
        if g.stage not in panel_lit:
            img = station.renderer.overlay_bench_image(station.engine.state, None, 2.0, False, g)
            x0, y0, x1, y1 = (int(v / 2.0) for v in text)
            panel_lit[g.stage] = bool(img[y0:y1, x0:x1].max() > 100)
    result = station.stop()
    stored = store.events(station.result.session_ids[0])
    store.close()
    hes = [(e.get("stage"), e.get("name"), e.step_uid) for e in stored if e.kind == "hesitation"]
    assert hes == [
        (1, "more", "housing"),
        (2, "animation", "housing"),
        (3, "sound", "housing"),
        (4, "supervisor", "housing"),
    ]
    t_more = next(e.t_mono for e in stored if e.kind == "hesitation")
    t_start = next(e.t_mono for e in stored if e.kind == "step_start")
    assert 10.5 <= t_more - t_start <= 11.5  # 1.5 x the 7 s expected, without progress
    helps = [(e.get("on"), e.get("source")) for e in stored if e.kind == "help"]
    assert helps[0] == (True, "hesitation")
    assert result.supervisor_calls and result.supervisor_calls[0][1] == "housing"
    # minimal guidance: no step text until the hesitation, then the text
    assert panel_lit[0] is False and panel_lit[1] is True
    assert [n for n, _ in player.played].count("attention") >= 2
    level = [e for e in stored if e.kind == "level"]
    assert level and level[0].get("level") == "minimal" and level[0].get("mode") == "fixed"


class Keys(NullDisplay):
    """A display whose keyboard is scripted by simulated time (a badge reader, a key)."""

    def __init__(self, script: list[tuple[float, object]], clock) -> None:
        super().__init__()
        self.script, self.clock = list(script), clock

    def poll_keys(self):
        now = self.clock()
        due = [k for t, k in self.script if t <= now]
        self.script = [(t, k) for t, k in self.script if t > now]
        return due


def test_sign_in_by_pedal_work_then_badge_sign_out_back_to_the_list(tmp_path: Path) -> None:
    sc = load_scenario("led_basic")
    store = EventStore(tmp_path / "log.sqlite", "sim")
    book = ProfileBook((OperatorProfile("anna", name="Anna", badge="777"), OperatorProfile("bo", name="Bo")))
    holder: list = []
    keys = Keys(
        [
            (0.2, InputEvent(Button.NEXT, "pedal", 0.0)),  # frame on Anna
            (1.5, InputEvent(Button.CONFIRM, "buttonbox", 0.0)),  # choose
            (7.0, TextLine("777", 0.0)),  # Anna's badge: sign out
        ],
        lambda: holder[0].t if holder else 0.0,
    )
    station, bench = sim_station(sc, sc.load_instruction(), store, max_cycles=1, profiles=book, display=keys)
    holder.append(bench)
    station.start()
    assert station.session is None and station.desk is not None
    first = None
    while bench.t < 8.0:
        station.tick()
        if first is None:
            first = station.projector_image.copy()
    assert station.session is None and station.desk.signin is not None  # back on the list
    result = station.stop()
    sessions = store.sessions()
    assert [s.operator for s in sessions] == ["anna"] and sessions[0].ended_utc is not None
    kinds = [e.kind for e in store.events(sessions[0].id)]
    assert kinds[:3] == ["session_start", "cycle_start", "step_start"] and kinds[-1] == "session_end"
    assert "level" in kinds
    end = store.events(sessions[0].id, kinds=("session_end",))[0]
    assert end.get("resume_cycle") == 1  # the unit stays open for whoever signs in next
    assert store.unfinished_unit(sc.load_instruction()) is not None
    assert first is not None and np.count_nonzero(first.max(axis=2) > 150) > 1000  # the tiles were shown
    assert result.session_ids == [sessions[0].id]
    store.close()
