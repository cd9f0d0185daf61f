"""Appends events to an event log and prints each id once ``append`` has returned (used by tests)."""

from __future__ import annotations

import sys
import time

from oss.log.store import EventStore, utc_now
from oss.records import LogEvent
from tests.log.builders import tiny_instruction


def main(db: str, count: int) -> None:
    with EventStore(db, "station-w") as store:
        sid = store.open_session("writer", tiny_instruction(), None)
        print(f"session {sid}", flush=True)
        i = 0
        while count == 0 or i < count:
            kind = ("step_start", "step_end", "pick")[i % 3]
            event = LogEvent(kind, time.monotonic(), utc_now(), f"s{i % 3}", i // 3, (("n", i),))
            eid = store.append(sid, event)
            print(eid, flush=True)
            i += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
