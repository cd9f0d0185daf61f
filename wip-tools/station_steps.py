import sys, tempfile
from pathlib import Path
from oss.log.store import EventStore
from oss.operator.profile import OperatorProfile
from oss.sim.scenario import load_scenario
from oss.station.sim_link import sim_station
name = sys.argv[1]
sc = load_scenario(name); ins = sc.load_instruction()
tmp = Path(tempfile.mkdtemp())
with EventStore(tmp / "x.sqlite", "b") as store:
    station, bench = sim_station(sc, ins, store, operator="bench", profile=OperatorProfile("bench", level="auto", sound=False))
    station.start()
    last = [None]
    def stop():
        st = station.engine.state
        step = station.engine.current_step
        key = (st.cycle, getattr(step, "uid", None))
        if key != last[0]:
            last[0] = key; print(f"{bench.t:7.2f} {key}", flush=True)
        return bench.finished
    station.run(stop_when=stop)
