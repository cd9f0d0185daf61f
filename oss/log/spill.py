"""Writes the event log could not take (disk full, size limit, failing drive), kept in a journal file.

When a write to the SQLite log fails, :class:`oss.log.store.EventStore` keeps it in memory and retries it
with the next write; it also appends it at once to a spill journal (JSON lines, synced to disk), so it
outlives the process: a stop, a crash or a power cut while the disk is still full loses nothing. The
journal goes to the first place that takes it:

1. the log's own folder (it works when the log reached its size limit, or when a little space is left);
2. ``$XDG_STATE_HOME/oss/spill/`` (default ``~/.local/state/oss/spill/``), then
   ``/var/tmp/oss-spill-<uid>/``, then ``oss-spill-<uid>/`` in the temporary folder: often another drive.
   Only journals of this user are merged from there.

A journal is named ``<log file name>.<log id>.<writer>.spill.jsonl``; its first line names the log (its
path, station and log id). It is merged back into the log with that log id, exactly once because every
event keeps its id: by the writer itself once its writes succeed again, whenever the log is opened for
writing (the next start of the station), and by ``oss sync LOG``.

    journal = SpillJournal(Path("out/station.sqlite"), log_id, "line1-st3")
    where = journal.save([("event", values), ...])    # raises OSError when no place takes it
    for path in find_journals(Path("out/station.sqlite"), log_id): ...
    entries, problems = read_journal(path)
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import stat
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

FORMAT = 1
MAX_LINE = 1 << 20  # one write is a few hundred bytes; a longer line is not one of ours
Entry = tuple[str, tuple[Any, ...]]  # (operation, values); operations are the store's ("event", ...)


def fallback_dirs() -> tuple[Path, ...]:
    """Where a journal goes when the log's own folder does not take it (see the module docstring)."""
    dirs: list[Path] = []
    state = os.environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(state):  # unset or relative: the XDG default
        try:
            state = str(Path.home() / ".local" / "state")
        except (RuntimeError, KeyError):  # no home folder for this user
            state = ""
    if state:
        dirs.append(Path(state) / "oss" / "spill")
    me = os.getuid()  # shared folders: one private folder per user
    return (*dirs, Path(f"/var/tmp/oss-spill-{me}"), Path(tempfile.gettempdir()) / f"oss-spill-{me}")


def _dirs(log_path: Path, extra: Sequence[Path] | None) -> list[Path]:
    out: list[Path] = []
    for d in (log_path.resolve().parent, *(fallback_dirs() if extra is None else extra)):
        if d not in out:
            out.append(d)
    return out


def find_journals(log_path: Path, log_id: str, dirs: Sequence[Path] | None = None) -> list[Path]:
    """The journals of the log with ``log_id``, in the log's folder and the fallback folders."""
    if not log_id:
        return []
    found: list[Path] = []
    for d in _dirs(log_path, dirs):
        try:
            found += sorted(p for p in d.glob(f"*.{log_id}.*.spill.jsonl") if _ours(p))
        except OSError:
            continue
    return found


def _ours(path: Path) -> bool:
    """A journal file this user wrote (in a shared folder, another user's file is not merged)."""
    try:
        st = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid()


@contextmanager
def locked(path: Path, mode: str) -> Iterator[IO[Any]]:
    """``path`` opened with an exclusive lock: a writer and a merger never see each other's halves.

    A file removed while this waited for the lock (merged by another process) is not used: reading
    raises FileNotFoundError, appending starts a new file at ``path``."""
    while True:
        with path.open(mode, encoding=None if "b" in mode else "utf-8") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                if os.fstat(f.fileno()).st_nlink == 0:
                    if "r" in mode:
                        raise FileNotFoundError(f"{path} was removed")
                    continue
                yield f
                return
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)


class SpillJournal:
    """The spill journal of one writer of the log at ``log_path`` (see the module docstring)."""

    def __init__(self, log_path: Path, log_id: str, station: str, dirs: Sequence[Path] | None = None):
        self.log_path = log_path
        self.log_id = log_id
        self.station = station
        self._dirs = _dirs(log_path, dirs)
        self._name = f"{log_path.name}.{log_id}.{uuid.uuid4().hex[:8]}.spill.jsonl"
        self.written: list[Path] = []  # every file this writer put entries in (until discarded)

    @property
    def path(self) -> Path | None:
        """The file the last entries went to (None before any)."""
        return self.written[-1] if self.written else None

    def save(self, entries: Sequence[Entry]) -> Path:
        """Append ``entries`` to the first place that takes them, synced; returns the file.

        Raises OSError (naming every place tried) when none does."""
        lines = "".join(
            json.dumps({"op": op, "values": list(v)}, allow_nan=False) + "\n" for op, v in entries
        )
        tried: list[str] = []
        for d in ([self.path.parent] if self.path else []) + self._dirs:
            path = d / self._name
            try:
                self._append(path, lines)
            except OSError as e:
                tried.append(f"{d}: {e.strerror or e}")
                continue
            if path not in self.written:
                self.written.append(path)
                log.warning("event log %s: writes it cannot take are saved in %s", self.log_path, path)
            return path
        raise OSError(f"no place takes the spill journal ({'; '.join(tried)})")

    def _append(self, path: Path, lines: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with locked(path, "ab") as f:
            fd = f.fileno()
            start = os.fstat(fd).st_size
            data = lines.encode()
            if start == 0:
                header = {
                    "oss_spill": FORMAT,
                    "log_id": self.log_id,
                    "station": self.station,
                    "log": str(self.log_path.resolve()),
                }
                data = (json.dumps(header) + "\n").encode() + data
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, start)  # no half entry for a later append to follow
                if start == 0:
                    path.unlink(missing_ok=True)
                raise
        _sync_dir(path.parent)

    def discard(self) -> None:
        """Delete this writer's journals: everything in them is in the log now."""
        for p in self.written:
            try:
                with locked(p, "a"):
                    p.unlink()
            except FileNotFoundError:
                pass  # merged and removed by another process (oss sync)
            except OSError as e:
                log.warning(
                    "event log %s: cannot remove the merged spill journal %s: %s", self.log_path, p, e
                )
        self.written = []


def _sync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the file itself is synced
    finally:
        os.close(fd)


def read_journal(f: IO[str], ops: dict[str, int]) -> tuple[str, list[Entry], list[str]]:
    """The log id of the journal open in ``f``, its entries, and the problems of lines that are not
    entries. ``ops`` gives each known operation's number of values. A last line cut short (the writer
    died in the middle of it) is not a problem: it was never reported as saved."""
    entries: list[Entry] = []
    problems: list[str] = []
    log_id = ""
    for n, line in enumerate(iter(lambda: f.readline(MAX_LINE), ""), 1):
        if not line.endswith("\n"):
            if len(line) >= MAX_LINE:
                problems.append(f"line {n}: longer than {MAX_LINE} characters")
                while (rest := f.readline(MAX_LINE)) and not rest.endswith("\n"):
                    pass
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            problems.append(f"line {n}: not JSON ({e})")
            continue
        if n == 1:
            if (
                isinstance(obj, dict)
                and obj.get("oss_spill") == FORMAT
                and isinstance(obj.get("log_id"), str)
            ):
                log_id = obj["log_id"]
                continue
            problems.append("line 1: not the header of an OSS spill journal")
            return "", [], problems
        op = obj.get("op") if isinstance(obj, dict) else None
        values = obj.get("values") if isinstance(obj, dict) else None
        if (
            not isinstance(op, str)
            or op not in ops
            or not isinstance(values, list)
            or len(values) != ops[op]
            or not all(v is None or isinstance(v, str | int | float) for v in values)
        ):
            problems.append(f"line {n}: not an entry this OSS knows")
            continue
        entries.append((op, tuple(values)))
    return log_id, entries, problems
