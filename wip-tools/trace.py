import sys, hashlib
sys.path.insert(0, "/work/main/tests/perception"); sys.path.insert(0, "/work/main/tests")
from simloop import run_station
name, T, out = sys.argv[1], float(sys.argv[2]), open(sys.argv[3], "w")
def on_frame(run, i):
    o = run.observations[-1]; seg = run.perception.last_segmentation
    out.write(f"{o.t:.3f} {[tuple(round(v, 3) for v in h.tip_mm) for h in o.hands]} {hashlib.md5(seg.mask.tobytes()).hexdigest()[:10]} {hashlib.md5(run.perception.foreground.background.tobytes()).hexdigest()[:10]}\n")
    if o.t > T: out.close(); raise SystemExit
run_station(name, seconds=T + 1, on_frame=on_frame)
