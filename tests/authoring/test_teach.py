"""Teach-in on the virtual bench, then part presence against the taught looks (slow: ~1 min).

The author (the scripted operator) does each step of the small instruction once and presses the pedal;
the station then runs a different seed with the taught references: every step completes, none early.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from oss.authoring.scenario import default_scenario
from oss.authoring.teach import teach_on_bench
from oss.instructions.loader import load_instruction
from oss.log.store import EventStore
from oss.perception.taught import layout_key, load_references, teach_dir
from oss.station.evaluate import step_verdicts
from oss.station.sim_link import sim_station

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.slow
CAM = (960, 540)


@pytest.fixture(scope="module")
def taught(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("teach")
    shutil.copy(DATA / "mini.yaml", d / "mini.yaml")
    ins = load_instruction(d / "mini.yaml")
    from oss.authoring.teach import teach_scenario

    sc = teach_scenario(ins)
    from dataclasses import replace

    sc = replace(sc, camera=replace(sc.camera, size=CAM))
    return ins, teach_on_bench(ins, sc)


def test_teach_records_looks_times_and_outlines(taught) -> None:  # type: ignore[no-untyped-def]
    ins, res = taught
    refs = res.references
    assert res.folder == teach_dir(ins.source) and (res.folder / "default.npz").is_file()
    assert set(refs.empty) == {"box_place", "lid_place"}
    assert set(refs.done) == {("box", "box_place"), ("lid", "lid_place")}
    # the box changed its zone: its done look differs from the empty one
    assert np.abs(refs.done[("box", "box_place")] - refs.empty["box_place"]).mean() > 0.1
    assert [s.uid for s in res.steps] == ["box", "screw", "lid", "unload"]
    for s in res.steps:
        assert 1.0 < s.seconds < 10.0 and s.expected_s >= s.seconds
    by_zone = {p.zone: p for p in res.proposals}
    assert by_zone["box_place"].overlap > 0.7  # the box (150x100) lies in its 170x120 zone
    x, y, w, h = by_zone["box_place"].rect
    assert 140 < w < 185 and 90 < h < 135


def test_stale_references_are_ignored(taught, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    ins, res = taught
    assert load_references(ins, None, 2.0) is not None
    assert load_references(ins, None, 1.0) is None  # another resolution
    moved = dict(ins.zones)
    z = moved["box_place"]
    from dataclasses import replace

    moved["box_place"] = replace(z, points=tuple((x + 10, y) for x, y in z.points))
    other = replace(ins, zones=moved)
    assert layout_key(other, None) != layout_key(ins, None)
    with caplog.at_level(logging.WARNING, logger="oss.perception"):
        assert load_references(other, None, 2.0) is None
    assert "run 'oss teach' again" in caplog.text
    # a new text or expected time keeps them
    assert layout_key(replace(ins, version="9", content_hash="x"), None) == layout_key(ins, None)


def test_station_with_taught_looks_completes_every_step_none_early(taught, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ins, _ = taught
    sc = default_scenario(ins, seed=7, camera_size=CAM)
    with EventStore(str(tmp_path / "log.sqlite"), "t") as store:
        station, bench = sim_station(sc, ins, store)
        assert station.perception.taught is not None  # found beside the instruction file
        station.start()
        result = station.run(stop_when=lambda: bench.finished)
    verdicts = step_verdicts(result.events, bench.ground_truth())
    assert [v.uid for v in verdicts] == ["box", "screw", "lid", "unload"]
    assert all(v.verdict == "correct" for v in verdicts), verdicts
