import sys
sys.path.insert(0, "/work/main/tests/perception"); sys.path.insert(0, "/work/main/tests")
import numpy as np, cv2
from simloop import run_station
from oss.perception import foreground as F
name, ts, box, out = sys.argv[1], [float(x) for x in sys.argv[2].split(",")], [int(v) for v in sys.argv[3].split(",")], sys.argv[4]
x0, y0, x1, y1 = box
LAST = [None]
_os = F.ForegroundModel.segment
def _seg(self, *a, **k):
    r = _os(self, *a, **k); LAST[0] = r; return r
F.ForegroundModel.segment = _seg
rows = []
def on_frame(run, i):
    o = run.observations[-1]
    if any(abs(o.t - t) < 0.016 for t in ts):
        per = run.perception; v = per.last_view; seg = per.last_segmentation; fg = LAST[0]
        g = lambda m: cv2.cvtColor(np.ascontiguousarray(m[y0:y1, x0:x1]), cv2.COLOR_GRAY2BGR)
        bgv = np.clip(per.foreground.background[y0:y1, x0:x1] * 128, 0, 255).astype(np.uint8)
        ims = [v.image[y0:y1, x0:x1].copy(), g(fg.mask), g(seg.mask), g(fg.changed), bgv]
        s = v.mm_per_px
        for h in o.hands:
            p = (int(h.tip_mm[0] / s) - x0, int(h.tip_mm[1] / s) - y0)
            for im in ims: cv2.circle(im, p, 2, (0, 0, 255), -1)
        tip = run.bench.operator.timeline.state(o.t)[0]
        p = (int(tip[0] / s) - x0, int(tip[1] / s) - y0)
        for im in ims: cv2.circle(im, p, 3, (0, 255, 0), 1)
        row = np.hstack(ims); cv2.putText(row, f"{o.t:.2f}", (2, 10), 0, 0.35, (0, 255, 255), 1)
        rows.append(row)
    if o.t > max(ts) + 0.05:
        cv2.imwrite(out, cv2.resize(np.vstack(rows), None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)); raise SystemExit
run_station(name, seconds=max(ts) + 1, on_frame=on_frame)
