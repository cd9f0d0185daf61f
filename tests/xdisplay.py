"""An X display for window tests: the one in $DISPLAY, else a private Xvfb started for the session.

Import ``x_display`` into a conftest.py to use it."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from collections.abc import Iterator

import pytest

SCREEN = (1280, 800)


@pytest.fixture(scope="session")
def x_display() -> Iterator[str]:
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    exe = shutil.which("Xvfb")
    if exe is None:
        msg = "no DISPLAY and Xvfb is not installed (Debian: apt-get install xvfb)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    r, w = os.pipe()
    proc = subprocess.Popen(
        [exe, "-displayfd", str(w), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    try:
        ready, _, _ = select.select([r], [], [], 20.0)
        number = os.read(r, 64).decode().strip() if ready else ""
        if not number:
            proc.kill()
            pytest.fail("Xvfb did not start within 20 s")
        os.environ["DISPLAY"] = f":{number}"
        yield os.environ["DISPLAY"]
    finally:
        os.close(r)
        os.environ.pop("DISPLAY", None)
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
