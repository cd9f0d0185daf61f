import sys
sys.path.insert(0, "/work/main/tests/perception"); sys.path.insert(0, "/work/main/tests")
import numpy as np, cv2
from simloop import run_station
from oss.perception import foreground as F
name, T, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
LAST = [None]
_os = F.ForegroundModel.segment
def _seg(self, *a, **k):
    r = _os(self, *a, **k); LAST[0] = r; return r
F.ForegroundModel.segment = _seg
def on_frame(run, i):
    o = run.observations[-1]
    if abs(o.t - T) < 0.016:
        per = run.perception; v = per.last_view; seg = per.last_segmentation; fg = LAST[0]
        g = lambda m: cv2.cvtColor(m, cv2.COLOR_GRAY2BGR)
        top = np.hstack([v.image, g(fg.mask)]); bot = np.hstack([g(seg.mask), g(fg.changed if fg.changed is not None else fg.mask)])
        cv2.imwrite(out, np.vstack([top, bot]))
        print(fg.gains[:, 6], v.image.shape, v.mm_per_px)
        raise SystemExit
run_station(name, seconds=T + 1, on_frame=on_frame)
