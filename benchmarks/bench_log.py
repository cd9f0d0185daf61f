"""Event log figures: latency of one durable append (one fsync'd transaction each) and throughput.

    .venv/bin/python benchmarks/bench_log.py [--n 2000] [--dir PATH]

Prints JSON. ``--dir`` chooses the drive to measure (default: a temporary folder under ./out, i.e. the
drive the station's log would normally live on, not a RAM disk).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from oss.instructions.model import Bench, Instruction, Press, Step, Text
from oss.log.store import EventStore, utc_now
from oss.records import LogEvent


def _instruction() -> Instruction:
    return Instruction(
        product_id="bench",
        product_name=Text.of(en="Benchmark"),
        version="1",
        languages=("en",),
        default_language="en",
        bench=Bench(1000, 600),
        fixtures={},
        parts={},
        zones={},
        steps=(Step("s0", Text.of(en="s0"), Press()),),
        content_hash="0000000000000000",
    )


def _event(i: int) -> LogEvent:
    data = (("bin", "bin_screw"), ("dwell_s", 0.42), ("n", i), ("ok", True))
    return LogEvent("pick", time.monotonic(), utc_now(), f"screw#{i % 4 + 1}", i // 20, data)


def run(n: int, folder: Path) -> dict[str, object]:
    tmp = tempfile.mkdtemp(dir=folder)
    with EventStore(Path(tmp) / "events.db", "bench") as store:
        sid = store.open_session("bench", _instruction(), None)
        lat = []
        t0 = time.perf_counter()
        for i in range(n):
            t = time.perf_counter()
            store.append(sid, _event(i))
            lat.append(time.perf_counter() - t)
        single_s = time.perf_counter() - t0
        batch = 50
        t0 = time.perf_counter()
        for k in range(0, n, batch):
            store.append_many(sid, [_event(i) for i in range(k, min(n, k + batch))])
        batch_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        rows = len(store.events())
        read_s = time.perf_counter() - t0
        size = (Path(tmp) / "events.db").stat().st_size
    shutil.rmtree(tmp)
    lat.sort()
    return {
        "events": n,
        "folder": str(folder.resolve()),
        "append_latency_ms": {
            "median": round(statistics.median(lat) * 1e3, 3),
            "p95": round(lat[int(0.95 * (len(lat) - 1))] * 1e3, 3),
            "max": round(lat[-1] * 1e3, 3),
        },
        "append_events_per_s": round(n / single_s, 1),
        "append_many_50_events_per_s": round(n / batch_s, 1),
        "read_all_events_per_s": round(rows / read_s, 1),
        "bytes_per_event": round(size / rows, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--dir", type=Path, default=Path("out"))
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(json.dumps(run(args.n, args.dir), indent=2))


if __name__ == "__main__":
    main()
