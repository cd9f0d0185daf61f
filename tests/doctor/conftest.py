"""``oss doctor`` runs as a technician runs it: the command in a process of its own, against real parts
(the virtual bench, emulated devices on pseudo-terminals, an MJPEG stream, Xvfb, PostgreSQL)."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml

from tests.conftest import ROOT
from tests.fleet.conftest import pg_dsn
from tests.hardware.conftest import emulators
from tests.xdisplay import x_display

__all__ = ["emulators", "pg_dsn", "x_display"]

# what the environment of the machine must not decide in these tests
_UNSET = ("DISPLAY", "WAYLAND_DISPLAY", "OSS_FLEET_DSN", "PGHOST", "PGHOSTADDR", "PGDATABASE", "PGSERVICE",
          "PGSERVICEFILE", "PGPASSWORD", "PGPASSFILE")  # fmt: skip


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _UNSET}
    env.update(extra)
    return env


@dataclass(frozen=True)
class Doctor:
    """One finished ``oss doctor`` run."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.stdout)
        return doc

    @property
    def checks(self) -> dict[str, dict[str, Any]]:
        return {c["check"]: c for c in self.report["checks"]}

    def status(self, check: str) -> str:
        return str(self.checks[check]["status"])


def run_doctor(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    module: str = "oss.cli",
    prefix: tuple[str, ...] = (),
) -> Doctor:
    """``python -m oss.cli doctor ARGS`` (or ``python -m oss.doctor ARGS``) in a process of its own."""
    sub = ("doctor",) if module == "oss.cli" else ()
    p = subprocess.run(
        [*prefix, sys.executable, "-m", module, *sub, *args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert "Traceback" not in p.stderr, p.stderr
    return Doctor(p.returncode, p.stdout, p.stderr)


StationWriter = Callable[..., Path]


@pytest.fixture
def frames_dir(tmp_path: Path) -> Callable[[tuple[int, int]], Path]:
    """A folder of three grey images of a size (a recorded camera: quick, for checks not about it)."""

    def make(size: tuple[int, int] = (160, 120)) -> Path:
        folder = tmp_path / f"frames_{size[0]}x{size[1]}"
        folder.mkdir(exist_ok=True)
        for i in range(3):
            cv2.imwrite(str(folder / f"f{i}.png"), np.full((size[1], size[0], 3), 100 + i, np.uint8))
        return folder

    return make


@pytest.fixture
def station(tmp_path: Path, frames_dir: Callable[[tuple[int, int]], Path]) -> StationWriter:
    """Writes a station file; by default a recorded 160x120 camera, no projector window and a log in
    tmp_path. Keyword arguments replace whole top-level sections."""

    def write(name: str = "station.yaml", **sections: object) -> Path:
        doc: dict[str, object] = {
            "station": {"id": "bench-7"},
            "camera": {"source": str(frames_dir((160, 120))) + "/", "width": 160, "height": 120, "fps": 10},
            "projector": {"display": "none"},
            "log": str(tmp_path / "log" / "station.sqlite"),
        }
        doc.update(sections)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path

    return write


class MjpegStream:
    """A live camera on the network: an MJPEG stream over HTTP (as IP cameras send), ``fps`` frames a
    second of a grey image, read by OpenCV like any stream URL."""

    def __init__(self, fps: float, size: tuple[int, int] = (160, 120)) -> None:
        ok, jpg = cv2.imencode(".jpg", np.full((size[1], size[0], 3), 128, np.uint8))
        assert ok
        frame = jpg.tobytes()
        stop = threading.Event()
        self._stop = stop

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                part = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(frame)
                try:
                    while not stop.is_set():
                        self.wfile.write(part + frame + b"\r\n")
                        time.sleep(1.0 / fps)
                except (BrokenPipeError, ConnectionResetError):
                    return

            def log_message(self, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stream.mjpg"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mjpeg() -> Iterator[Callable[[float], MjpegStream]]:
    made: list[MjpegStream] = []

    def make(fps: float) -> MjpegStream:
        made.append(MjpegStream(fps))
        return made[-1]

    yield make
    for s in made:
        s.close()


def _mount_tmpfs(folder: Path, options: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        msg = f"cannot mount a tmpfs here: {done.stderr.decode().strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)


@contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A real file system of ``size`` at ``folder`` (a tmpfs; needs root, as in the CI container)."""
    _mount_tmpfs(folder, f"size={size}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@contextmanager
def unwritable(folder: Path) -> Iterator[Path]:
    """A folder this user cannot write in: a read-only file system for root (whom mode bits do not
    stop), else a folder without write permission."""
    if os.geteuid() == 0:
        _mount_tmpfs(folder, "ro,size=1m")
        try:
            yield folder
        finally:
            subprocess.run(["umount", "-l", str(folder)], check=True)
        return
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)
