"""The monitor image: zones where the camera sees them, the recent events, the supervisor-call banner."""

from __future__ import annotations

import time

import cv2
import numpy as np

from oss.monitor import SupervisorConsole, SupervisorMonitor
from oss.monitor import view as V
from oss.monitor.model import event_line
from oss.monitor.panel import BANNER, HEADER
from oss.monitor.view import HEADER_H
from oss.records import Hand, Observation, Phase, PickSeen, Presence

from .conftest import PIN, ev, snapshot


def near(img: np.ndarray, p: np.ndarray, color: tuple[int, int, int], r: int = 2, tol: int = 40) -> bool:
    """Some pixel within ``r`` of ``p`` has ``color`` (anti-aliased lines: a tolerance)."""
    x, y = round(float(p[0])), round(float(p[1]))
    patch = img[y - r : y + r + 1, x - r : x + r + 1].astype(int)
    return bool((np.abs(patch - np.array(color)).max(axis=2) <= tol).any())


def edge_midpoints(points: tuple[tuple[float, float], ...]) -> np.ndarray:
    pts = np.asarray(points, float)
    return (pts + np.roll(pts, -1, axis=0)) / 2


def test_zones_are_drawn_where_the_distorted_camera_sees_them(monitor, calibration, instruction) -> None:
    monitor.feed(snapshot())
    img = monitor.redraw()
    view = monitor.view
    x0, y0, w, h = view.camera_rect
    assert (x0, y0) == (0, HEADER_H) and abs(w / h - 1280 / 720) < 0.01 and w <= 0.7 * 1280 + 1
    scale = w / calibration.camera_size[0]
    checked_shift = 0.0
    for zid, color in (("bin_a", V.LIT), ("bin_b", V.BIN), ("pad", V.ZONE)):
        mids = edge_midpoints(instruction.zones[zid].points)
        raw = calibration.bench_to_camera(mids)  # lens distortion included
        px = raw * scale + (x0, y0)
        for p in px[[0, 1, 3]]:  # bottom, right, left edges (the label strip sits at the top left)
            assert near(img, p, color), (zid, p)
        # where a plain homography (no lens) would put them: off the line when the lens bends it enough
        flat = cv2.perspectiveTransform(mids.reshape(-1, 1, 2), calibration.cam_from_bench).reshape(-1, 2)
        flat = flat * scale + (x0, y0)
        for p, q in zip(px, flat, strict=True):
            if np.hypot(*(p - q)) > 8:
                checked_shift = max(checked_shift, float(np.hypot(*(p - q))))
                assert not near(img, q, color, r=1, tol=20)
    assert checked_shift > 8  # the distortion did move some edge far enough to tell


def test_a_wrong_bin_is_red_and_hands_tips_and_picks_are_drawn(monitor, calibration) -> None:
    obs = Observation(
        t=5.0,
        frame_index=150,
        hands=(Hand(tip_mm=(600.0, 340.0), zones=("pad",)),),
        picks=(PickSeen("bin_b", 4.5, 5.0),),
        presence=(("pad", Presence.PRESENT),),
    )
    snap = snapshot(phase=Phase.ERROR, error_bin="bin_b", obs=obs)
    monitor.feed(snap)
    img = monitor.redraw()
    view = monitor.view
    mids = view.bench_to_view(edge_midpoints(monitor.view.instruction.zones["bin_b"].points))
    assert near(img, mids[1], V.WRONG)
    tip = view.bench_to_view([(600.0, 340.0)])[0]
    ring = tip + np.array([8.0, 0.0])
    assert near(img, ring, V.TIP)
    c = view.bench_to_view([(660.0, 340.0)])[0]  # the pad's centre: present, green dot
    assert near(img, c, V.PRESENCE[Presence.PRESENT], r=1, tol=10)
    assert [p.bin for p in monitor.model.recent_picks(5.5)] == ["bin_b"]
    assert monitor.model.recent_picks(7.0) == []  # shown for 1.5 s


def test_the_ten_newest_events_are_listed_newest_first(monitor) -> None:
    monitor.feed(snapshot())
    before = monitor.redraw().copy()
    events = tuple(ev("pick", 5.0 + i, "place", bin="bin_a", correct=True, counted=True) for i in range(11))
    events += (ev("error", 17.0, "place", bin="bin_b", cleared=False),)
    monitor.feed(snapshot(17.5, events=events))
    after = monitor.redraw()
    assert [e.t for e in monitor.model.events] == [7.0 + i for i in range(9)] + [17.0]
    x = monitor.view.panel_x
    diff = np.abs(after[:, x:].astype(int) - before[:, x:].astype(int)).max(axis=2) > 60
    rows = np.flatnonzero(diff[300:].any(axis=1)) + 300  # below the status block
    lines = np.split(rows, np.flatnonzero(np.diff(rows) > 3) + 1)
    assert len(lines) == 10
    first = after[lines[0][0] : lines[0][-1] + 1, x:]
    reddish = (first[..., 2].astype(int) > 200) & (first[..., 0] < 120)
    assert reddish.sum() > 30  # the newest, the error, is on top in red
    assert event_line(events[-1]) == "10:00:17  error      place  wrong pick bin_b"
    assert event_line(ev("skip", 3.0, "s2", refused=True, reason="paused")).endswith("refused: paused")
    assert event_line(ev("supervisor", 3.0, "s2", action="level", level="minimal", accepted=True)).endswith(
        "level minimal ok"
    )


def test_a_supervisor_call_shows_a_red_banner_until_it_is_answered(monitor) -> None:
    monitor.feed(snapshot())
    calm = monitor.redraw()
    assert (calm[5, 640] == HEADER).all() and monitor.model.call is None
    stage4 = ev("hesitation", 6.0, "place", stage=4, name="supervisor")
    on = ev("help", 6.0, "place", on=True, source="hesitation")
    monitor.feed(snapshot(6.0, phase=Phase.HELP, events=(stage4, on), stage=4))
    img = monitor.redraw()
    call = monitor.model.call
    assert call is not None and call.stuck and call.step_uid == "place"
    header = img[:HEADER_H].reshape(-1, 3)
    is_banner = (header == BANNER[0]).all(axis=1) | (header == BANNER[1]).all(axis=1)
    assert is_banner.mean() > 0.8  # red, with white text
    assert (img[HEADER_H + 100, 2] == BANNER[0]).all() and (img[-3, 640] == BANNER[0]).all()  # a red frame
    off = ev("help", 20.0, "place", on=False, source="monitor")
    monitor.feed(snapshot(20.0, events=(off,)))
    assert monitor.model.call is None
    assert (monitor.redraw()[5, 640] == HEADER).all()


def test_a_help_press_is_a_call_too_and_a_sign_in_screen_help_without_events(monitor) -> None:
    on = ev("help", 6.0, "place", on=True, source="buttonbox")
    monitor.feed(snapshot(6.0, phase=Phase.HELP, events=(on,)))
    call = monitor.model.call
    assert call is not None and not call.stuck and call.source == "buttonbox"
    monitor.feed(snapshot(7.0, phase=Phase.WAITING, events=(ev("session_end", 7.0),), signed_in=False))
    assert monitor.model.call is None
    monitor.feed(snapshot(8.0, phase=Phase.HELP, signed_in=False, operator=""))
    assert monitor.model.call is not None and monitor.model.call.source == ""


def test_the_monitor_redraws_at_most_ten_times_a_second(instruction, calibration, clock) -> None:
    mon = SupervisorMonitor(SupervisorConsole(PIN, clock=clock), clock=clock, max_share=1.0)
    mon.attach(instruction, None, calibration, "st-7")
    for i in range(30):  # 30 ticks in one second of the monitor's clock
        mon.feed(snapshot(5.0 + i / 30))
        clock.advance(1 / 30)
    assert mon.draws == 10
    for i in range(100):  # a faster loop: still 10 a second
        mon.feed(snapshot(6.0 + i / 100))
        clock.advance(1 / 100)
    assert mon.draws == 20
    assert len(mon.model.events) == 0 and mon.model.fps.fps > 0


class SlowScreen(SupervisorMonitor):
    def present(self, image) -> None:
        time.sleep(0.03)  # a slow window: 30 ms to show each image


def test_a_slow_monitor_draws_less_often_to_keep_its_share_of_the_time(
    instruction, calibration, clock
) -> None:
    mon = SlowScreen(SupervisorConsole(PIN, clock=clock), clock=clock, max_share=0.15)
    mon.attach(instruction, None, calibration, "st-7")
    for i in range(100):
        mon.feed(snapshot(5.0 + i / 100))
        clock.advance(1 / 100)
    assert 2 <= mon.draws <= 5  # each draw of >= 30 ms is followed by >= 170 ms without one
    assert min(mon.draw_ms) >= 30
