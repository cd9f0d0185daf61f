"""Full station: per frame the jig pose (zones), zone version, raw marker poses, held poses, alignment."""
import sys, tempfile
from pathlib import Path
from oss.log.store import EventStore
from oss.operator.profile import OperatorProfile
from oss.sim.scenario import load_scenario
from oss.station.sim_link import sim_station
name, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
sc = load_scenario(name); ins = sc.load_instruction()
with EventStore(Path(tempfile.mkdtemp()) / "x.sqlite", "b") as store:
    station, bench = sim_station(sc, ins, store, operator="bench", profile=OperatorProfile("bench", level="auto", sound=False))
    station.start()
    seen = [None]
    def stop():
        o = getattr(station, "_obs", None)
        if o is not None and t0 <= bench.t <= t1 and o is not seen[0]:
            seen[0] = o
            p = station.perception
            z = p.zones
            st = p.presence._z.get("gland_place")
            fx = " ".join(f"{f.fixture}=({f.x_mm:.2f},{f.y_mm:.2f},{f.angle_deg:.2f})" for f in o.fixtures)
            al = p.aligner
            print(f"{o.t:7.2f} step={getattr(station.engine.current_step,'uid',None)} zpose={tuple(round(v,2) for v in z.poses['jig'])} ver={z.version} obs={fx} "
                  f"gland={st.state.name if st else None} ref_t={st.ref_t if st else None:} pending={getattr(al,'pending',None)} true_jig={getattr(bench,'jig_pose',None)}", flush=True)
        return bench.finished or bench.t > t1
    station.run(stop_when=stop)
