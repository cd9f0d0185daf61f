"""Live reload: edits take effect at the unit boundary; an invalid edit keeps the running version."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from oss.authoring.reload import InstructionWatcher, LiveReload
from oss.authoring.scenario import default_scenario
from oss.display.base import NullDisplay
from oss.instructions.loader import load_instruction
from oss.instructions.model import Instruction
from oss.log.store import EventStore
from oss.sim.bench import VirtualBench
from oss.station.loop import Station, StationParts
from oss.station.sim_link import SimCamera, calibrate_sim

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.slow


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a visible change on coarse clocks


def test_watcher(tmp_path: Path) -> None:
    f = tmp_path / "mini.yaml"
    shutil.copy(DATA / "mini.yaml", f)
    ins = load_instruction(f)
    w = InstructionWatcher(f, ins)
    assert w.poll().status == "unchanged"
    _edit(f, 'version: "1.0"', 'version: "1.1"')
    r = w.poll()
    assert r.status == "reloaded" and r.instruction is not None and r.instruction.version == "1.1"
    assert r.instruction.content_hash != ins.content_hash
    _edit(f, "format: 1", "format: [1")
    r = w.poll()
    assert r.status == "invalid" and r.problems and str(r.problems[0]).startswith(f"{f}:")
    assert w.current.version == "1.1"
    assert [s.ok for s in w.status_events()] == [False]
    assert w.poll().status == "unchanged"  # reported once


def test_live_reload_at_unit_boundary(tmp_path: Path) -> None:
    """Unit 1: an invalid edit (kept, reported); unit 2: a valid edit, taken at the end of unit 2."""
    f = tmp_path / "mini.yaml"
    shutil.copy(DATA / "mini.yaml", f)
    shutil.copytree(DATA / "media", tmp_path / "media")
    ins = load_instruction(f)
    sc = default_scenario(ins, cycles=2, camera_size=(960, 540))
    bench = VirtualBench(sc, ins)
    cal = calibrate_sim(bench)
    store = EventStore(str(tmp_path / "log.sqlite"), "t")
    live: list[LiveReload] = []
    camera = SimCamera(bench, lambda: live[0].station.projector_image if live else None)

    def make(instruction: Instruction, watcher: InstructionWatcher) -> Station:
        return Station(
            StationParts(
                instruction=instruction,
                variant=None,
                calibration=cal,
                camera=camera,
                display=NullDisplay(),
                store=store,
                inputs=(camera,),
                status_sources=(watcher,),
                sim_time=True,
                on_step=camera.show,
            )
        )

    lr = LiveReload(make, InstructionWatcher(f, ins))
    live.append(lr)
    edits: list[tuple[int, str, int]] = []  # (unit, step shown, session) at each edit

    def edit_during_units() -> bool:
        st = lr.station.engine.state
        if st.step_uid == "screw" and st.cycle == 0 and not edits:
            _edit(f, "format: 1", "format: [1")  # broken YAML
            edits.append((st.cycle, st.step_uid, len(lr.results)))
        if st.step_uid == "screw" and st.cycle == 1 and len(edits) == 1:
            f.write_text((DATA / "mini.yaml").read_text().replace('version: "1.0"', 'version: "1.1"'))
            os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 2_000_000))
            edits.append((st.cycle, st.step_uid, len(lr.results)))
        return bench.finished

    results = lr.run(stop_when=edit_during_units)
    store.close()
    assert len(edits) == 2 and len(results) == 2  # two sessions: before and after the reload
    old, new = results
    kinds = [e.kind for e in old.events]
    reloads = [e for e in old.events if e.kind == "reload"]
    assert [e.get("ok") for e in reloads] == [False, True]
    bad, good = reloads
    assert "mini.yaml" in str(bad.get("problems")) and kinds.index("reload") > kinds.index("cycle_end")
    # the invalid edit did not interrupt unit 2 on the old version; the valid one came after unit 2 ended
    ends = [i for i, e in enumerate(old.events) if e.kind == "cycle_end"]
    assert len(ends) == 2 and old.events.index(good) > ends[1]
    assert all(e.kind != "step_start" for e in old.events[ends[1] + 1 :])
    new_hash = load_instruction(f).content_hash
    assert good.get("content_hash") == new_hash and good.get("old_hash") == ins.content_hash
    start = next(e for e in new.events if e.kind == "session_start")
    assert start.get("content_hash") == new_hash and start.get("version") == "1.1"
    # the monitor/status line: the station showed and logged the reload problem
    assert any(
        e.kind == "device" and "still running version 1.0" in str(e.get("message")) for e in old.events
    )
    with EventStore(str(tmp_path / "log.sqlite"), "t") as again:
        hashes = [s.instruction_hash for s in again.sessions()]
    assert hashes == [ins.content_hash, new_hash]
