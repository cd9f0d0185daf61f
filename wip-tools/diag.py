import sys, math
sys.path.insert(0, "/work/main/tests/perception"); sys.path.insert(0, "/work/main/tests")
import numpy as np
from simloop import run_station
name, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def on_frame(run, i):
    o = run.observations[-1]
    if o.t >= t0:
        st = run.engine.state
        tip = run.bench.operator.timeline.state(o.t)[0]
        seg = run.perception.last_segmentation
        hs = "; ".join(f"({h.tip_mm[0]:.0f},{h.tip_mm[1]:.0f}) z={','.join(h.zones)} v={h.speed_mm_s or 0:.0f}" for h in o.hands)
        print(f"{o.t:7.2f} {st.step_uid} {st.cycle} true=({tip[0]:.0f},{tip[1]:.0f},{tip[2] if len(tip)>2 else 0:.0f}) armpx={int(np.count_nonzero(seg.mask))} {hs}", flush=True)
run_station(name, seconds=t1, on_frame=on_frame)
