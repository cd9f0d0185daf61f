"""The whole perception stage on the synthetic station: projection, a pick, a placed part, the jig."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import numpy as np
import pytest

from oss.perception.pipeline import Perception
from oss.records import Frame, OssError, Presence
from tests.perception import builders as b

FPS = 30.0


def test_pick_then_place_then_presence() -> None:
    ins = b.instruction()
    per = Perception(ins, b.calibration(), mm_per_px=2.0)
    bench = b.SyntheticBench(seed=1)
    bench.place_marker(7, 600.0, 250.0, 40.0)
    runs = ins.run_steps()
    blink = [
        b.projector_image([(30, 540, 200, 140), (640, 240, 200, 120)]),
        b.projector_image([(30, 540, 200, 140)]),
    ]
    # the operator's tip: approach bin_a, grasp, bring the part to the seat, put it down, leave
    path: list[tuple[float, float] | None] = [None] * 6
    path += [(600 + (130 - 600) * u, 60 + (610 - 60) * u) for u in np.linspace(0, 1, 12)]
    path += [(130.0, 610.0)] * 12
    path += [(130 + (740 - 130) * u, 610 + (300 - 610) * u) for u in np.linspace(0, 1, 12)]
    path += [(740.0, 300.0)] * 8
    path += [(740 + (600 - 740) * u, 300 + (30 - 300) * u) for u in np.linspace(0, 1, 8)]
    path += [None] * 6
    obs_all = []
    placed = False
    for i, tip in enumerate(path):
        if i == 0:
            per.begin_unit()
            per.begin_run_step(runs[0])
        if i == 44 and not placed:
            bench.place([(680, 260), (800, 260), (800, 340), (680, 340)], (0.45, 0.5, 0.6))
            placed = True
        pj = blink[(i // 8) % 2]
        arms = [] if tip is None else [b.arm(600.0, tip)]
        img = bench.camera_image(pj, arms=arms)
        obs_all.append(per.process(Frame(img, i / FPS, i, "synthetic"), pj))
    picks = [p for o in obs_all for p in o.picks]
    assert [p.bin for p in picks] == ["bin_a"]
    assert all(o.hands == () for o, tip in zip(obs_all, path, strict=True) if tip is None)
    hands_seen = [o for o, tip in zip(obs_all, path, strict=True) if tip is not None]
    assert all(len(o.hands) == 1 and o.hand_mask_mm for o in hands_seen)
    assert obs_all[20].hands[0].zones == ("bin_a",)
    seat = [o.presence_of("seat") for o in obs_all]
    assert seat[5] is Presence.EMPTY and seat[-1] is Presence.PRESENT
    assert Presence.UNKNOWN in seat[44:55]  # hand over the seat while putting the part down
    first_present = seat.index(Presence.PRESENT)
    last_cover = max(i for i, o in enumerate(obs_all) if o.hands and o.hands[0].tip_mm[1] > 150)
    assert first_present - last_cover <= 4  # decided within a few frames of the hand leaving
    fx = obs_all[-1].fixtures[0]
    assert abs(fx.x_mm - 600) < 1.5 and abs(fx.y_mm - 250) < 1.5


def test_plain_mode_gives_the_same_kind_of_answer() -> None:
    ins = b.instruction()
    cal = b.calibration()
    per, plain = Perception(ins, cal), Perception(ins, cal, plain=True)
    bench = b.SyntheticBench(seed=2)
    pj = b.projector_image([(30, 540, 200, 140)])
    img = bench.camera_image(pj, arms=[b.arm(600.0, (300.0, 400.0))])
    o1 = per.process(Frame(img, 0.0, 0), pj)
    o2 = plain.process(Frame(img, 0.0, 0), pj)
    assert len(o1.hands) == len(o2.hands) == 1
    assert np.hypot(*np.subtract(o1.hands[0].tip_mm, o2.hands[0].tip_mm)) < 4.0


def test_wrong_frame_size_is_an_actionable_error() -> None:
    per = Perception(b.instruction(), b.calibration())
    with pytest.raises(OssError, match="calibrated resolution"):
        per.process(Frame(np.zeros((480, 640, 3), np.uint8), 0.0, 0), None)


def test_the_work_beside_on_the_worker_thread_gives_the_same_observations() -> None:
    """The projection's warp and the marker search run on a worker thread beside the rest of the frame:
    they do run there, and every observation equals that of the same work done one after the other."""
    ins = b.instruction()
    cal = b.calibration()
    beside, inline = Perception(ins, cal), Perception(ins, cal)
    threads: set[str] = set()
    update = beside.markers.update

    def marker_search(img: np.ndarray):  # type: ignore[no-untyped-def]
        threads.add(threading.current_thread().name)
        return update(img)

    beside.markers.update = marker_search  # type: ignore[method-assign,assignment]

    def at_once(fn, arg):  # type: ignore[no-untyped-def]
        done: Future = Future()
        done.set_result(fn(arg))
        return done

    inline._beside = at_once  # type: ignore[method-assign,assignment]
    bench = b.SyntheticBench(seed=4)
    runs = ins.run_steps()
    for per in (beside, inline):
        per.begin_unit()
        per.begin_run_step(runs[0])
    for i in range(40):
        bench.place_marker(7, 600.0 + 3.0 * min(i, 20), 250.0, 40.0)  # the jig pushed along
        pj = b.projector_image([(30, 540, 200, 140), (400 + 10 * i, 240, 120, 80)])
        tip = (600 + (130 - 600) * i / 39, 60 + (610 - 60) * i / 39)
        img = bench.camera_image(pj, arms=[b.arm(600.0, tip)])
        frame = Frame(img, i / FPS, i, "synthetic")
        seen = beside.process(frame, pj)
        assert seen == inline.process(frame, pj), i
    assert abs(seen.fixtures[0].x_mm - 660.0) < 1.5 and len(seen.hands) == 1
    assert threads and threading.current_thread().name not in threads
    worker = beside._worker
    assert worker is not None
    beside.close()  # the worker stops; the next frames are worked out on this thread, the same
    assert worker._shutdown and all(not t.is_alive() for t in worker._threads)
    threads.clear()
    frame = Frame(img, 40 / FPS, 40, "synthetic")
    assert beside.process(frame, pj) == inline.process(frame, pj)
    assert threads == {threading.current_thread().name}
