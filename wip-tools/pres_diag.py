import sys, tempfile
from pathlib import Path
import numpy as np
from oss.log.store import EventStore
from oss.operator.profile import OperatorProfile
from oss.sim.scenario import load_scenario
from oss.station.sim_link import sim_station
name, zone, t0, t1 = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
sc = load_scenario(name); ins = sc.load_instruction()
with EventStore(Path(tempfile.mkdtemp()) / "x.sqlite", "b") as store:
    station, bench = sim_station(sc, ins, store, operator="bench", profile=OperatorProfile("bench", level="auto", sound=False))
    station.start()
    seen = [None]
    def stop():
        o = getattr(station, "_obs", None)
        if o is not None and t0 <= bench.t <= t1 and o is not seen[0]:
            seen[0] = o
            pd = station.perception.presence; st = pd._z.get(zone)
            if st is not None and st.ref is not None and st.last_clear is not None:
                smp = pd.zones.sampler(zone); m = smp.mask
                a, b = st.last_clear, st.ref
                q = a[m] / np.maximum(b[m], 0.05)
                frac = pd._changed(a, b, m)
                print(f"{o.t:7.2f} state={st.state.name} ref_t={getattr(st,'ref_t',None)} clear_t={st.last_clear_t:.2f} look/ref mean={q.mean(axis=0).round(3)} p10={np.percentile(q.mean(axis=1),10):.3f} p90={np.percentile(q.mean(axis=1),90):.3f} changed_frac={frac:.3f}", flush=True)
        return bench.finished or bench.t > t1
    station.run(stop_when=stop)
