"""Frame sources on OpenCV: a live camera (index, device or URL), a video file, an image folder.

``open_source(spec)`` turns what a user writes (``0``, ``/dev/video0``, ``rtsp://...``, ``run.mp4``,
``shots/``) into the right source. A live camera is read as fast as it delivers and only the newest
frame is kept; a recording is read offline by default (every frame, in order, timed by its frame rate,
so replays are repeatable) or, with ``realtime=True``, paced like a camera.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from oss.camera.base import CameraError, FrameSource
from oss.camera.threaded import Grab, ThreadedSource

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv", ".mjpeg"}
)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
LIST_CAMERAS = "list cameras with `v4l2-ctl --list-devices` or `ls /dev/video*`"


def _bgr(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img


def safe_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for names and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


class OpenCVCameraSource(ThreadedSource):
    """A live camera through ``cv2.VideoCapture``: an index (``0``), a device path or a stream URL.

    ``exposure`` fixes the exposure in the driver's units (V4L2: 100 µs steps, see ``v4l2-ctl -L``;
    DirectShow: log2 seconds) and turns auto exposure off, since it fights the projector;
    ``white_balance`` fixes the white balance temperature in kelvin and turns auto white balance off.
    Settings the driver refuses are reported once by ``status_events`` (ok=True, with what to do).
    A camera that is missing or stops delivering is reported lost and reopened every ``retry_s``.
    """

    def __init__(
        self,
        index_or_url: int | str,
        size: tuple[int, int] = (1280, 720),
        fps: float = 30.0,
        exposure: float | None = None,
        white_balance: float | None = None,
        *,
        retry_s: float = 2.0,
        lost_after_s: float | None = None,
        api: int = cv2.CAP_ANY,
    ) -> None:
        self.target = index_or_url
        name = (
            f"camera {index_or_url}" if isinstance(index_or_url, int) else f"camera {safe_url(index_or_url)}"
        )
        super().__init__(
            name,
            drop_stale=True,
            retry_s=retry_s,
            lost_after_s=lost_after_s if lost_after_s is not None else max(2.0, 5.0 / fps),
        )
        self.requested_size = size
        self.requested_fps = fps
        self.exposure = exposure
        self.white_balance = white_balance
        self.api = api
        self._size = size
        self._fps = fps
        self._cap: cv2.VideoCapture | None = None
        self._settings_checked = False

    def _not_found(self) -> str:
        t = self.target
        if isinstance(t, int):
            return f"camera {t} not found: is it plugged in and not in use by another program? {LIST_CAMERAS}"
        if t.startswith("/dev/"):
            if not os.path.exists(t):
                return f"camera {t} not found: is it plugged in? {LIST_CAMERAS}"
            return (
                f"camera {t} exists but cannot be opened: is another program using it, or is this user "
                f"missing from the 'video' group? (ls -l {t})"
            )
        if "://" in t:
            return (
                f"cannot connect to {self.name}: check the address, the network and the credentials "
                "(try the URL in VLC)"
            )
        return f"cannot open {self.name}: check that it exists and that OpenCV can read it"

    def _connect(self) -> None:
        cap = cv2.VideoCapture(self.target, self.api)
        if not cap.isOpened():
            cap.release()
            raise CameraError(self._not_found())
        w, h = self.requested_size
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, w)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, h)
        cap.set(cv2.CAP_PROP_FPS, self.requested_fps)
        problems = self._apply_settings(cap)
        got_fps = cap.get(cv2.CAP_PROP_FPS)
        if got_fps > 0:
            self._fps = float(got_fps)
        if not self._settings_checked:
            self._settings_checked = True
            got = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
            if got != (0, 0) and got != self.requested_size:
                problems.append(
                    f"delivers {got[0]}x{got[1]} instead of {w}x{h} "
                    "(see the modes it offers: v4l2-ctl --list-formats-ext)"
                )
            with self._cond:
                for p in problems:
                    self._report(True, f"{self.name} {p}")
        self._cap = cap

    def _apply_settings(self, cap: cv2.VideoCapture) -> list[str]:
        problems = []
        v4l2 = cap.getBackendName() == "V4L2"
        if self.exposure is not None:
            manual = 1 if v4l2 else 0.25  # V4L2_EXPOSURE_MANUAL; DirectShow's "manual" value
            if not (
                cap.set(cv2.CAP_PROP_AUTO_EXPOSURE, manual) and cap.set(cv2.CAP_PROP_EXPOSURE, self.exposure)
            ):
                problems.append(
                    f"refused a fixed exposure of {self.exposure:g}: auto exposure may fight the projector; "
                    "fix it with the camera's own tool "
                    "(v4l2-ctl -c auto_exposure=1 -c exposure_time_absolute=N)"
                )
        if self.white_balance is not None and not (
            cap.set(cv2.CAP_PROP_AUTO_WB, 0) and cap.set(cv2.CAP_PROP_WB_TEMPERATURE, self.white_balance)
        ):
            problems.append(
                f"refused a fixed white balance of {self.white_balance:g} K: "
                "fix it with the camera's own tool "
                "(v4l2-ctl -c white_balance_automatic=0 -c white_balance_temperature=N)"
            )
        return problems

    def _grab(self) -> Grab:
        cap = self._cap
        if cap is None:
            return None
        ok, img = cap.read()
        if not ok or img is None:
            return None
        return _bgr(img), time.monotonic()

    def _disconnect(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()


class _Recording(ThreadedSource):
    """Timing shared by files and folders: offline (video time) or realtime (paced, stale dropped)."""

    reconnects = False

    def __init__(self, name: str, fps: float, loop: bool, realtime: bool) -> None:
        super().__init__(name, drop_stale=realtime, lost_after_s=float("inf"))
        self.loop = loop
        self.realtime = realtime
        self._fps = fps
        self._count = 0
        self._t0 = 0.0

    def _start_clock(self) -> None:
        self._count = 0
        self._t0 = time.monotonic()

    def _stamp(self, img: np.ndarray) -> Grab:
        """Time the frame: offline at t0 + n/fps; realtime waits until then and uses the clock."""
        due = self._t0 + self._count / self._fps
        self._count += 1
        if not self.realtime:
            return img, due
        wait = due - time.monotonic()
        if wait > 0 and self._stop.wait(wait):
            return None
        return img, time.monotonic()


class FileSource(_Recording):
    """A video file. ``fps`` overrides the file's own frame rate (needed when the file has none)."""

    def __init__(
        self, path: str | Path, loop: bool = False, realtime: bool = False, fps: float | None = None
    ):
        self.path = Path(path)
        super().__init__(f"video {self.path}", fps or 0.0, loop, realtime)
        self._fps_override = fps
        self._cap: cv2.VideoCapture | None = None
        self._first: np.ndarray | None = None

    def _connect(self) -> None:
        if not self.path.is_file():
            raise CameraError(f"video file {self.path} not found: check the path")
        cap = cv2.VideoCapture(str(self.path))
        ok, first = cap.read() if cap.isOpened() else (False, None)
        if not ok or first is None:
            cap.release()
            raise CameraError(
                f"cannot read video {self.path}: not a video this OpenCV can decode. Convert it "
                f"(ffmpeg -i {self.path} -c:v libx264 out.mp4) or give a folder of images"
            )
        file_fps = cap.get(cv2.CAP_PROP_FPS)
        self._fps = float(self._fps_override or (file_fps if file_fps and file_fps > 0 else 30.0))
        self._size = (int(first.shape[1]), int(first.shape[0]))
        self._cap, self._first = cap, _bgr(first)
        self._start_clock()

    def _grab(self) -> Grab:
        cap = self._cap
        if cap is None:
            return None
        if self._first is not None:
            img, self._first = self._first, None
            return self._stamp(img)
        ok, img = cap.read()
        if (not ok or img is None) and self.loop and self._count > 0:
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, img = cap.read()
        if not ok or img is None:
            return None
        return self._stamp(_bgr(img))

    def _disconnect(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()


def _natural_key(p: Path) -> list[object]:
    return [int(s) if s.isdigit() else s.lower() for s in re.split(r"(\d+)", p.name)]


class FolderSource(_Recording):
    """The images of a folder in name order (``img2`` before ``img10``), ``fps`` images per second.

    Images that cannot be read, or whose size differs from the first one, are skipped and reported by
    ``status_events`` (ok=True)."""

    def __init__(self, path: str | Path, fps: float = 10.0, loop: bool = False, realtime: bool = False):
        self.path = Path(path)
        super().__init__(f"folder {self.path}", fps, loop, realtime)
        self.files: tuple[Path, ...] = ()
        self._next = 0

    def _connect(self) -> None:
        if not self.path.is_dir():
            raise CameraError(f"image folder {self.path} not found: check the path")
        self.files = tuple(
            sorted((p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)
        )
        if not self.files:
            kinds = ", ".join(sorted(IMAGE_SUFFIXES))
            raise CameraError(f"image folder {self.path} holds no images (looked for {kinds})")
        first = cv2.imread(str(self.files[0]), cv2.IMREAD_COLOR)
        if first is None:
            raise CameraError(f"cannot read {self.files[0]}: not an image OpenCV can decode")
        self._size = (int(first.shape[1]), int(first.shape[0]))
        self._next = 0
        self._start_clock()

    def _grab(self) -> Grab:
        while not self._stop.is_set():
            if self._next >= len(self.files):
                if not self.loop:
                    return None
                self._next = 0
            path = self.files[self._next]
            self._next += 1
            img = cv2.imread(str(path), cv2.IMREAD_COLOR)
            problem = "not an image OpenCV can read" if img is None else ""
            if img is not None and (img.shape[1], img.shape[0]) != self._size:
                w, h = self._size
                problem = f"{img.shape[1]}x{img.shape[0]}, the folder's first image is {w}x{h}"
            if not problem and img is not None:
                return self._stamp(img)
            with self._cond:
                self._report(True, f"{self.name}: skipped {path.name}: {problem}")
        return None

    def _disconnect(self) -> None:
        pass


def open_source(
    spec: str,
    *,
    size: tuple[int, int] | None = None,
    fps: float | None = None,
    exposure: float | None = None,
    white_balance: float | None = None,
    loop: bool = False,
    realtime: bool = False,
    retry_s: float = 2.0,
) -> FrameSource:
    """The source ``spec`` names: ``0`` (camera index), ``/dev/video0``, ``rtsp://…`` (any URL), a video
    file, or a folder of images. Camera settings apply to live cameras, ``loop``/``realtime`` to
    recordings, ``fps`` to both (a folder's image rate; a file's override). Not opened yet."""
    spec = spec.strip()
    if spec.startswith("sim:"):
        raise CameraError(
            f"{spec!r} is the virtual bench: the station wires simulated sources itself "
            "(oss run --camera sim:SCENARIO), open_source only opens cameras, videos and folders"
        )
    if spec.startswith("file://"):
        spec = urlsplit(spec).path
    if re.fullmatch(r"\d+", spec) or spec.startswith("/dev/") or "://" in spec:
        target: int | str = int(spec) if spec.isdigit() else spec
        return OpenCVCameraSource(
            target, size or (1280, 720), fps or 30.0, exposure, white_balance, retry_s=retry_s
        )
    path = Path(spec)
    if spec.endswith(("/", os.sep)) or path.is_dir():
        return FolderSource(path, fps or 10.0, loop=loop, realtime=realtime)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise CameraError(
            f"{spec} is a single image: put it in a folder and give the folder ({path.parent}/)"
        )
    if path.suffix.lower() in VIDEO_SUFFIXES or path.is_file():
        return FileSource(path, loop=loop, realtime=realtime, fps=fps)
    raise CameraError(
        f"not a frame source: {spec!r}. Give a camera index (0), a device (/dev/video0), a stream URL "
        "(rtsp://host/stream), a video file (.mp4, .avi, ...) or a folder of images (shots/)"
    )
