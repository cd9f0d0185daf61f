import sys
sys.path.insert(0, "/work/main/tests/perception"); sys.path.insert(0, "/work/main/tests")
from simloop import run_station
seen = [0]
def on_frame(run, i):
    while seen[0] < len(run.step_starts):
        t, uid, c = run.step_starts[seen[0]]; seen[0] += 1
        print(f"{t:7.2f} {c} {uid}", flush=True)
    if run.step_starts and run.bench.t - run.step_starts[-1][0] > 40:
        print("STUCK", run.bench.t, flush=True); raise SystemExit
r = run_station(sys.argv[1], on_frame=on_frame)
print("end t", r.bench.t)
