"""The automatic guidance level on the virtual bench: the real station loop, perception, engine and log.

An operator on ``level: auto`` does clean units at pace and goes to less guidance, then makes a wrong
pick and goes back one level; every change is a ``level`` event in the SQLite log, and the projection
follows (the step text and the lit bins go away). The short box instruction (three steps, about 13 s
a unit) and a policy of one clean unit keep it to three units; ``benchmarks/bench_levels.py`` runs the
LED fixture with the default policy (3 clean units).

Runtime: about 50 s of CPU time (1 to 2.5 minutes of wall time on a busy 2-core machine).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from oss.calibration.model import Calibration
from oss.log.store import EventStore
from oss.operator.adaptive import LevelPolicy
from oss.operator.profile import OperatorProfile
from oss.records import Phase
from oss.sim.scenario import load_scenario
from oss.station.evaluate import evaluate
from oss.station.sim_link import sim_station

pytestmark = pytest.mark.slow
SCENARIO = Path(__file__).parent / "data" / "box_learning.yaml"
BIN_BOX = (40.0, 400.0, 240.0, 530.0)  # bench mm, lit by the first step at full and reduced guidance


def lit(img: np.ndarray, cal: Calibration, rect: tuple[float, float, float, float]) -> float:
    """Share of the points of a bench rectangle (x0, y0, x1, y1) mm that the projector image lights."""
    x0, y0, x1, y1 = rect
    pts = np.array([[x, y] for x in np.linspace(x0 + 5, x1 - 5, 12) for y in np.linspace(y0 + 5, y1 - 5, 8)])
    uv = np.round(cal.bench_to_projector(pts)).astype(int)
    h, w = img.shape[:2]
    return float(np.mean([img[v, u].max() > 40 for u, v in uv if 0 <= u < w and 0 <= v < h]))


def test_clean_units_lower_the_level_a_wrong_pick_raises_it_all_in_the_log(tmp_path: Path) -> None:
    sc = load_scenario(SCENARIO)
    ins = sc.load_instruction()
    store = EventStore(tmp_path / "log.sqlite", "sim")
    lea = OperatorProfile("lea", name="Lea", level="auto", sound=False)
    station, bench = sim_station(
        sc, ins, store, max_cycles=3, operator="lea", profile=lea, level_policy=LevelPolicy(clean_units=1)
    )
    cal = station.p.calibration
    station.start()
    # what the projector showed during each unit's first step (box), by the level shown then
    text: dict[tuple[int, str], float] = defaultdict(float)
    bin_box: dict[tuple[int, str], float] = defaultdict(float)
    shown_at_error: set[str] = set()
    while station.tick():  # until the simulated operator is done (the camera input ends)
        st, view, img = station.engine.state, station.session.view(), station.projector_image
        assert img is not None
        if st.phase is Phase.RUNNING and st.step_uid == "box":
            key = (st.cycle + 1, view.shown)
            text[key] = max(text[key], lit(img, cal, station.renderer.layout.text))
            bin_box[key] = max(bin_box[key], lit(img, cal, BIN_BOX))
        if st.phase is Phase.ERROR:
            shown_at_error.add(view.shown)
            key = (st.cycle + 1, "error")
            text[key] = max(text[key], lit(img, cal, station.renderer.layout.text))
    result = station.stop()
    assert len(result.session_ids) == 1

    # the log, read back from SQLite
    stored = store.events(result.session_id)
    store.close()
    levels = [
        (e.cycle, e.get("previous"), e.get("level"), e.get("changed"), e.get("mode"), str(e.get("reason")))
        for e in stored
        if e.kind == "level"
    ]
    assert len(levels) == 4, levels
    assert levels[0] == (1, None, "full", False, "auto", "from the log")  # session start: new to the product
    assert levels[1][:5] == (1, "full", "reduced", True, "auto")
    assert levels[2][:5] == (2, "reduced", "minimal", True, "auto")
    for _, _, _, _, _, reason in levels[1:3]:
        assert reason.startswith("1 clean unit in a row, at ") and reason.endswith("% of the expected time")
        assert int(reason.split("at ")[1].split("%")[0]) <= 130  # at pace
    assert levels[3] == (3, "minimal", "reduced", True, "auto", "unit 3: 1 error")
    raised = [e for e in stored if e.kind == "error" and e.get("cleared") is False]
    assert [(e.cycle, e.step_uid, e.get("bin")) for e in raised] == [(3, "lid", "bin_box")]
    ends = [e for e in stored if e.kind == "cycle_end"]
    assert [(e.cycle, e.get("errors")) for e in ends] == [(1, 0), (2, 0), (3, 1)]
    # each change is logged the moment its unit ends
    changes = [e for e in stored if e.kind == "level" and e.get("changed")]
    assert [c.t_mono for c in changes] == [e.t_mono for e in ends]

    # the station saw every step right, at every level, and caught the wrong pick
    summary = evaluate(result.events, bench.ground_truth(), result.frame_ms)
    assert summary["false_advances"] == 0 and summary["missed_steps"] == 0, summary["problems"]
    assert summary["steps_correct"] == summary["steps_expected"] == 9
    assert summary["wrong_picks_detected"] == summary["wrong_picks_expected"] == 1
    assert summary["false_errors"] == 0

    # the projection followed the level: text and bin at full, only the bin at reduced, neither at minimal
    assert set(text) >= {(1, "full"), (2, "reduced"), (3, "minimal")}, sorted(text)
    assert text[(1, "full")] > 0.01 and bin_box[(1, "full")] > 0.9
    assert text[(2, "reduced")] == 0 and bin_box[(2, "reduced")] > 0.9
    assert text[(3, "minimal")] == 0 and bin_box[(3, "minimal")] == 0
    # the mistake at minimal guidance brought back full guidance, with the step text
    assert shown_at_error == {"full"} and text[(3, "error")] > 0.01


def test_max_cycles_drops_the_deviations_of_the_units_left_out(tmp_path: Path) -> None:
    sc = load_scenario("led_learning")  # eight units, the wrong pick in the seventh (cycle 6)
    assert [d.cycle for d in sc.deviations] == [6]
    with EventStore(tmp_path / "log.sqlite", "sim") as store:
        _, bench = sim_station(sc, sc.load_instruction(), store, max_cycles=3)
        assert bench.scenario.cycles == 3 and bench.scenario.deviations == ()
        _, bench = sim_station(sc, sc.load_instruction(), store, max_cycles=7)
        assert bench.scenario.cycles == 7 and [d.cycle for d in bench.scenario.deviations] == [6]
