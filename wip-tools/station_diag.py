import sys, tempfile
from pathlib import Path
from oss.log.store import EventStore
from oss.operator.profile import OperatorProfile
from oss.sim.scenario import load_scenario
from oss.station.sim_link import sim_station
name, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
sc = load_scenario(name); ins = sc.load_instruction()
tmp = Path(tempfile.mkdtemp())
with EventStore(tmp / "x.sqlite", "b") as store:
    station, bench = sim_station(sc, ins, store, operator="bench", profile=OperatorProfile("bench", level="auto", sound=False))
    station.start()
    seen = [None]
    def stop():
        o = getattr(station, "_obs", None)
        if o is not None and t0 <= bench.t <= t1 and o is not seen[0]:
            seen[0] = o
            st = station.engine.state; step = station.engine.current_step
            tip = bench.operator.timeline.state(o.t)[0]
            pres = [(z, str(p)[:60]) for z, p in o.presence if z == "gland_place"]
            print(f"{o.t:7.2f} {st.cycle} {getattr(step,'uid',None)} true=({tip[0]:.0f},{tip[1]:.0f},{tip[2]:.0f}) " + "; ".join(f"({h.tip_mm[0]:.0f},{h.tip_mm[1]:.0f}) z={','.join(h.zones)}" for h in o.hands) + f" | {pres}", flush=True)
        return bench.finished or bench.t > t1
    station.run(stop_when=stop)
