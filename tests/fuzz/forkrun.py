"""Run many ``oss`` commands, each in its own process, from one warm interpreter (the corpus test).

    python -m tests.fuzz.forkrun < jobs.json > results.json

``jobs.json``: a list of ``{"argv": [...], "cwd": "..."}``. Each job runs ``oss.cli.main(argv)`` - what the
``oss`` command runs - in a child forked from this interpreter after it has imported OSS, numpy, OpenCV
and PyYAML once, so a job costs milliseconds instead of the interpreter's start. Per job, as for a
command started by hand: its own stdout and stderr, the exit code (an uncaught exception prints its
traceback and exits 1, as Python does), a signal if one kills it, a time limit (``TIME_S``, the child is
killed after it) and an address-space limit (``RLIMIT_AS`` of ``tests.fuzz.limits.MEMORY_BYTES``; this
interpreter maps about 300 MB before a job starts, see ``tests.fuzz.limits``).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import tempfile
import time
import traceback

from tests.fuzz.limits import MEMORY_BYTES, TIME_S


def _warm_up() -> None:
    import cv2  # noqa: F401  - everything a job may need, imported once before the children are forked
    import numpy  # noqa: F401
    import yaml  # noqa: F401

    import oss.authoring.lint
    import oss.calibration.model
    import oss.cli
    import oss.config
    import oss.instructions.loader
    import oss.operator.profile
    import oss.perception.taught
    import oss.sim.scenario_reader
    import oss.station.build
    import oss.station.command

    oss.cli.build_parser()


def _child(argv: list[str], cwd: str, out_fd: int, err_fd: int) -> None:
    """In the forked child: become the command, never return."""
    code = 1
    try:
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - the child's own stdout until _exit
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.chdir(cwd)
        from oss.cli import main

        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()  # as the interpreter does for an uncaught exception
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code if isinstance(code, int) else 1)


def run_job(argv: list[str], cwd: str) -> dict[str, object]:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(argv, cwd, out.fileno(), err.fileno())
        deadline = t0 + TIME_S
        status = None
        while status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
            elif time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
            else:
                time.sleep(0.005)
        seconds = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        result: dict[str, object] = {
            "argv": argv,
            "stdout": out.read().decode(errors="replace"),
            "stderr": err.read().decode(errors="replace"),
            "seconds": round(seconds, 3),
        }
    if status is None:
        result.update(returncode=None, signal=None, timed_out=True)
    elif os.WIFSIGNALED(status):
        result.update(returncode=-os.WTERMSIG(status), signal=signal.Signals(os.WTERMSIG(status)).name)
    else:
        result.update(returncode=os.WEXITSTATUS(status), signal=None)
    result.setdefault("timed_out", False)
    return result


def main() -> int:
    jobs = json.load(sys.stdin)
    _warm_up()
    results = [run_job(list(j["argv"]), str(j["cwd"])) for j in jobs]
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
