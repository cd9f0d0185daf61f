import sys
sys.path.insert(0, "/work/main/tests/perception"); sys.path.insert(0, "/work/main/tests")
import numpy as np, cv2
from simloop import run_station
from oss.perception import foreground as F
name, T, x0, y0, x1, y1 = sys.argv[1], float(sys.argv[2]), *[int(v) for v in sys.argv[3].split(",")]
LAST = [None]
_os = F.ForegroundModel.segment
def _seg(self, *a, **k):
    r = _os(self, *a, **k); LAST[0] = r; return r
F.ForegroundModel.segment = _seg
np.set_printoptions(linewidth=250)
def on_frame(run, i):
    o = run.observations[-1]
    if abs(o.t - T) < 0.016:
        per = run.perception; fg = LAST[0]
        q = fg.ratio[y0:y1, x0:x1] / np.maximum(per.foreground.background[y0:y1, x0:x1], 1e-3)
        m = q.mean(axis=2)
        print("fg mask"); print((fg.mask[y0:y1, x0:x1] > 0).astype(int))
        print("mean ratio obs/expect x100"); print((m * 100).round().astype(int))
        print("chroma spread x100"); print(((q.max(axis=2) - q.min(axis=2)) / np.maximum(m, 1e-3) * 100).round().astype(int))
        print("bg model x100 (mean)"); print((per.foreground.background[y0:y1, x0:x1].mean(axis=2) * 100).round().astype(int))
        raise SystemExit
run_station(name, seconds=T + 1, on_frame=on_frame)
