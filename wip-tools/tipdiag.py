import sys
sys.path.insert(0, "/work/main/tests/perception"); sys.path.insert(0, "/work/main/tests")
import numpy as np, cv2
from simloop import run_station
import oss.perception.hands as H
name, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
NOW = [0.0]
orig = H._fingertips
def fin(crop, pts, reach, entry, hand_px, band, others=()):
    r = orig(crop, pts, reach, entry, hand_px, band, others)
    if t0 <= NOW[0] <= t1:
        dmax = float(reach.max()); h, w = crop.shape
        ys, xs = np.mgrid[0:h, 0:w]
        from_entry = np.hypot(xs - entry[0], ys - entry[1])
        distal = (from_entry >= dmax - hand_px) & (crop > 0)
        dt = cv2.distanceTransform(crop, cv2.DIST_L2, 3); dt[~distal] = 0
        cy, cx = np.unravel_index(int(np.argmax(dt)), dt.shape)
        palm = np.array([cx, cy], float); r_palm = float(dt[cy, cx])
        fy, fx = np.nonzero(distal)
        rel = np.column_stack([fx - palm[0], fy - palm[1]]).astype(float)
        palm_reach = float(np.hypot(palm[0] - entry[0], palm[1] - entry[1]))
        fingers = (np.hypot(rel[:, 0], rel[:, 1]) > 1.2 * r_palm) & (from_entry[fy, fx] > palm_reach)
        axis = rel[fingers].mean(axis=0)
        ang = np.degrees(np.arctan2(axis[1], axis[0]))
        hand = pts[reach >= dmax - hand_px] - palm
        u = axis / np.hypot(*axis); along = hand @ u
        print(f"  t={NOW[0]:.2f} entry=({entry[0]:.0f},{entry[1]:.0f}) dmax={dmax:.0f} crop={crop.shape} palm={palm} r={r_palm:.1f} nfing={fingers.sum()} ang={ang:.1f} alongmax={along.max():.1f} tip={r}")
    return r
H._fingertips = fin
def on_frame(run, i):
    o = run.observations[-1]
    NOW[0] = o.t + 1/30
    if t0 <= o.t <= t1:
        tip = run.bench.operator.timeline.state(o.t)[0]
        print(f"{o.t:.2f} true=({tip[0]:.0f},{tip[1]:.0f}) " + "; ".join(f"({h.tip_mm[0]:.0f},{h.tip_mm[1]:.0f}) v={h.speed_mm_s or 0:.0f}" for h in o.hands), flush=True)
    if o.t > t1: raise SystemExit
run_station(name, seconds=t1 + 1, on_frame=on_frame)
