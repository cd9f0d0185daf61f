import sys
sys.path.insert(0, "/work/main/tests/perception"); sys.path.insert(0, "/work/main/tests")
import numpy as np
from simloop import run_station
from oss.perception import foreground as F
name, T = sys.argv[1], float(sys.argv[2])
ST = {"take": 0, "rest": 0, "off": 0, "n": 0, "dimmed": 0}
_ub = F.ForegroundModel.update_background
def ub(self, result, hand_mask, t):
    before = self._dimmed.sum()
    _ub(self, result, hand_mask, t)
    ST["take"] += max(0, int(self._dimmed.sum()) - int(before)); ST["n"] += 1
    ST["rest"] += 0 if result.restored is None else int(result.restored.sum())
    ST["off"] += int(result.off.sum()); ST["dimmed"] = int(self._dimmed.sum())
    if ST["n"] % 150 == 0:
        print(f"t={t:.1f} per frame: new dimmed {ST['take']/150:.1f} restored {ST['rest']/150:.1f} off {ST['off']/150:.0f}; dimmed now {ST['dimmed']}", flush=True)
        for k in ("take", "rest", "off"): ST[k] = 0
F.ForegroundModel.update_background = ub
def on_frame(run, i):
    if run.observations[-1].t > T: raise SystemExit
run_station(name, seconds=T + 1, on_frame=on_frame)
