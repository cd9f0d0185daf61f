"""Live reload: an edited instruction file takes effect at the next unit boundary, never inside a unit.

:class:`InstructionWatcher` notices a changed file (modification time and size, then the content hash)
and loads it; :class:`LiveReload` runs a station and, right after a tick that ended a unit
(``cycle_end``), swaps in the new version:

- valid edit: a ``reload`` event (old and new version and hash) closes the old session; a new session
  opens with the new instruction (its ``session_start`` carries the new ``content_hash``) and continues
  the unit count (``resumed`` = true), at the first step of the next unit. The unit's short "Done!"
  display is replaced by the new version's first step;
- invalid edit: the running version stays; a ``reload`` event with ``ok`` = false and the problems is
  logged, each problem goes to the log as FILE:LINE:COL, and the projection's status line says so until
  the file is fixed (the watcher is a status source of the station).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from oss.instructions.loader import parse_instruction
from oss.instructions.model import Instruction
from oss.instructions.yamlnodes import Problem
from oss.log.store import utc_now
from oss.records import LogEvent
from oss.station.loop import RunResult, Station

log = logging.getLogger("oss.reload")


@dataclass(frozen=True)
class ReloadResult:
    status: str  # "unchanged" | "reloaded" | "invalid"
    instruction: Instruction | None = None  # the new version when reloaded
    problems: tuple[Problem, ...] = ()
    message: str = ""
    content_hash: str = ""  # of the file as read


@dataclass(frozen=True)
class ReloadStatus:
    """A status report in the shape the station shows on its status line (``StatusReport``)."""

    ok: bool
    message: str

    def log_data(self) -> tuple[tuple[str, str | int | float | bool | None], ...]:
        return (("ok", self.ok), ("message", self.message), ("device", "instruction file"))


class InstructionWatcher:
    """Watches one instruction file; ``poll()`` is cheap while the file is unchanged."""

    def __init__(self, path: str | Path, current: Instruction, variant: str | None = None) -> None:
        self.path = Path(path)
        self.current = current
        self.variant = variant
        self._stamp = self._stat()
        self._seen_hash = current.content_hash
        self._reports: list[ReloadStatus] = []
        self.error = ""  # what is wrong with the file on disk now ('' when it is fine)

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def poll(self) -> ReloadResult:
        stamp = self._stat()
        if stamp == self._stamp:
            return ReloadResult("unchanged", content_hash=self._seen_hash)
        self._stamp = stamp
        try:
            digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]
        except OSError as e:
            return self._invalid((), f"cannot read {self.path}: {e.strerror}", "")
        if digest == self._seen_hash:
            return ReloadResult("unchanged", content_hash=digest)
        self._seen_hash = digest
        parsed = parse_instruction(self.path)
        errors = tuple(p for p in parsed.problems if p.severity == "error")
        ins = parsed.instruction
        if ins is None or errors:
            n = len(errors)
            return self._invalid(
                errors,
                f"{self.path.name}: {n} error{'s' * (n != 1)}; still running version {self.current.version}",
                digest,
            )
        if self.variant is not None and ins.variants and self.variant not in ins.variants:
            return self._invalid(
                (),
                f"{self.path.name}: variant '{self.variant}' is gone; still running version {self.current.version}",
                digest,
            )
        old = self.current
        self.current = ins
        if self.error:
            self._reports.append(ReloadStatus(True, ""))
        self.error = ""
        msg = f"{self.path.name}: version {old.version} ({old.content_hash}) → {ins.version} ({ins.content_hash})"
        return ReloadResult("reloaded", ins, (), msg, digest)

    def _invalid(self, problems: tuple[Problem, ...], message: str, digest: str) -> ReloadResult:
        self.error = message
        self._reports.append(ReloadStatus(False, message))
        return ReloadResult("invalid", None, problems, message, digest)

    # --- StatusSource: the station shows the message on its status line and logs it ---------------
    def status_events(self) -> list[ReloadStatus]:
        out, self._reports = self._reports, []
        return out


StationFactory = Callable[[Instruction, InstructionWatcher], Station]


class LiveReload:
    """Runs stations made by ``make_station(instruction, watcher)`` (pass ``watcher`` as a status source),
    checking ``watcher`` at each unit boundary. ``station`` is the running one; ``results`` one per version."""

    def __init__(self, make_station: StationFactory, watcher: InstructionWatcher) -> None:
        self.make_station = make_station
        self.watcher = watcher
        self.station = make_station(watcher.current, watcher)
        self.results: list[RunResult] = []
        self.reloads: list[ReloadResult] = []

    def _log(self, kind: str, t: float, **data: str | int | float | bool | None) -> None:
        st = self.station
        ev = LogEvent(kind, t, utc_now(), "", st.engine.state.cycle, tuple(sorted(data.items())))
        st.p.store.append_many(st.session_id, [ev])
        st.result.events.append(ev)

    def at_unit_boundary(self, t: float) -> ReloadResult:
        """Check the file; swap in a valid new version now (call only between units)."""
        res = self.watcher.poll()
        if res.status == "invalid":
            for p in res.problems:
                log.error("%s", p)
            log.error("instruction not reloaded: %s", res.message)
            self._log(
                "reload",
                t,
                ok=False,
                content_hash=res.content_hash,
                message=res.message,
                problems="\n".join(str(p) for p in res.problems),
            )
        elif res.status == "reloaded" and res.instruction is not None:
            old = self.station
            units = old.engine.state.cycle
            new = res.instruction
            log.info("instruction reloaded: %s", res.message)
            self._log(
                "reload",
                t,
                ok=True,
                old_version=old.p.instruction.version,
                old_hash=old.p.instruction.content_hash,
                version=new.version,
                content_hash=new.content_hash,
            )
            self.results.append(old.stop())
            self.station = self.make_station(new, self.watcher)
            self.station.start(resume=(units + 1, 0))
        if res.status != "unchanged":
            self.reloads.append(res)
        return res

    def run(
        self,
        max_frames: int | None = None,
        stop_when: Callable[[], bool | str] | None = None,
        resume: tuple[int, int] | None = None,
    ) -> list[RunResult]:
        """Like ``Station.run`` across versions; returns the results of every session, in order."""
        self.station.start(resume)
        frames = 0
        seen = 0
        try:
            while True:
                st = self.station
                going = st.tick()
                frames = sum(r.frames for r in self.results) + st.result.frames
                why = stop_when() if stop_when is not None else ""
                if going and why:
                    st.result.stopped_by = why if isinstance(why, str) else "stopped"
                    break
                if going and max_frames is not None and frames >= max_frames:
                    st.result.stopped_by = "frame limit"
                    break
                if not going:
                    break
                ends = [e for e in st.result.events[seen:] if e.kind == "cycle_end"]
                seen = len(st.result.events)
                if ends:
                    self.at_unit_boundary(ends[-1].t)
                    if self.station is not st:
                        seen = 0
        finally:
            self.results.append(self.station.stop())
        return self.results
