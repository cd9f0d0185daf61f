"""The reader thread shared by the OpenCV-based sources: hand-over, lost/back reports, retries.

A subclass says how to connect, grab one image and disconnect; this class runs that on a thread::

    live camera (reconnects=True)            recorded file/folder (reconnects=False)
    ┌────────────┐  connect fails            open() connects at once (CameraError if it cannot)
    │ connecting │──────────▶ lost ─┐        grab → frame … grab → None: the end (or loop)
    └─────┬──────┘  ◀── wait retry_s ┘        every frame is queued in order unless drop_stale
          │ ok          (report once per message)
          ▼
    ┌────────────┐  grab → None / error / no frame for lost_after_s
    │  reading   │──────────▶ lost ── disconnect, reconnect after retry_s ─▶ back on the next frame
    └────────────┘
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from abc import abstractmethod

import numpy as np

from oss.camera.base import CameraError, FrameSource
from oss.records import CameraStatus, Frame

log = logging.getLogger(__name__)

Grab = tuple[np.ndarray, float] | None
_END = None


class ThreadedSource(FrameSource):
    """Base for sources read on their own thread. Subclasses implement ``_connect``, ``_grab`` and
    ``_disconnect`` (called on the reader thread only, except ``_connect`` of a recorded source, which
    ``open`` calls so that a missing file fails at once)."""

    reconnects = True  # a live device: failures are losses to retry, not the end

    def __init__(
        self,
        name: str,
        *,
        drop_stale: bool,
        retry_s: float = 2.0,
        lost_after_s: float = 2.0,
        queue_size: int = 4,
    ) -> None:
        self.name = name
        self.drop_stale = drop_stale
        self.retry_s = retry_s
        self.lost_after_s = lost_after_s
        self._size: tuple[int, int] = (0, 0)
        self._fps = 0.0
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._queue: queue.Queue[Frame | None] = queue.Queue(maxsize=queue_size)
        self._statuses: list[CameraStatus] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reset()

    def _reset(self) -> None:
        self._latest = None
        self._handed = -1
        self._next_index = 0
        self._dropped = 0
        self._ended = False
        self._exhausted = False
        self._error: CameraError | None = None
        self._lost = False
        self._lost_message = ""
        self._lost_since = 0.0
        self._last_frame_t = time.monotonic()

    # -- subclass hooks -----------------------------------------------------------------------------

    @abstractmethod
    def _connect(self) -> None:
        """Open the device or file; raise CameraError with what to do when it is not there."""

    @abstractmethod
    def _grab(self) -> Grab:
        """One image (BGR uint8) and its time, or None: the read failed (live) or the data ended."""

    @abstractmethod
    def _disconnect(self) -> None:
        """Release the device or file (may be called when not connected)."""

    # -- FrameSource --------------------------------------------------------------------------------

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def dropped(self) -> int:
        """Frames a live source replaced before anyone read them."""
        return self._dropped

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def open(self) -> None:
        if self._thread is not None:
            return
        self._reset()
        self._stop.clear()
        self._queue = queue.Queue(maxsize=self._queue.maxsize)
        if not self.reconnects:
            self._connect()
        self._thread = threading.Thread(target=self._run, name=f"frames:{self.name}", daemon=True)
        self._thread.start()

    def close(self, join_s: float = 5.0) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        thread.join(join_s)
        if thread.is_alive():
            log.warning(
                "%s: reader thread still blocked in the driver after %.0f s; left behind", self.name, join_s
            )

    def read_latest(self, timeout: float = 0.0) -> Frame | None:
        if self._thread is None and not self._exhausted and self._error is None:
            raise CameraError(f"{self.name} is not open: call open() or use it in a with-block")
        frame = self._take_latest(timeout) if self.drop_stale else self._take_next(timeout)
        if frame is None and self._error is not None and self._ended:
            err, self._error = self._error, None
            raise err
        return frame

    def _take_latest(self, timeout: float) -> Frame | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                f = self._latest
                if f is not None and f.index != self._handed:
                    self._handed = f.index
                    return f
                if self._ended:
                    self._exhausted = True
                    return None
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    return None
                self._cond.wait(left)

    def _take_next(self, timeout: float) -> Frame | None:
        if self._exhausted:
            return None
        try:
            f = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
        except queue.Empty:
            return None
        if f is _END:
            self._exhausted = True
        return f

    def status_events(self) -> list[CameraStatus]:
        if self.reconnects and self.running:
            now = time.monotonic()
            with self._cond:
                silent = now - self._last_frame_t
                if not self._lost and silent > self.lost_after_s:
                    self._mark_lost(f"{self.name} delivered no frame for {silent:.1f} s; waiting for it")
        with self._cond:
            out, self._statuses = self._statuses, []
        return out

    # -- the reader thread --------------------------------------------------------------------------

    def _report(self, ok: bool, message: str) -> None:
        (log.info if ok else log.warning)("%s", message)
        self._statuses.append(CameraStatus(ok, message, time.monotonic()))

    def _mark_lost(self, message: str) -> None:
        """Report a loss once per distinct message (call with ``_cond`` held)."""
        if not self._lost:
            self._lost, self._lost_since = True, time.monotonic()
        if message != self._lost_message:
            self._lost_message = message
            self._report(False, message)

    def _deliver(self, image: np.ndarray, t: float) -> bool:
        frame = Frame(image, t, self._next_index, self.name)
        self._next_index += 1
        with self._cond:
            self._last_frame_t = time.monotonic()
            self._size = (int(image.shape[1]), int(image.shape[0]))
            if self._lost:
                gone = time.monotonic() - self._lost_since
                self._lost, self._lost_message = False, ""
                self._report(True, f"{self.name} is back after {gone:.1f} s")
            if self.drop_stale:
                if self._latest is not None and self._latest.index != self._handed:
                    self._dropped += 1
                self._latest = frame
                self._cond.notify_all()
                return True
        return self._put(frame)

    def _put(self, item: Frame | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _end(self, error: CameraError | None = None) -> None:
        with self._cond:
            self._error = error
            self._ended = True
            self._cond.notify_all()
        if not self.drop_stale:
            self._put(_END)

    def _run(self) -> None:
        connected = not self.reconnects
        try:
            while not self._stop.is_set():
                if not connected:
                    try:
                        self._connect()
                        connected = True
                        with self._cond:
                            self._last_frame_t = time.monotonic()
                    except CameraError as e:
                        with self._cond:
                            self._mark_lost(str(e))
                        self._stop.wait(self.retry_s)
                        continue
                try:
                    got = self._grab()
                except Exception as e:  # a driver or decoder failure must not kill the thread silently
                    if not self.reconnects:
                        self._end(CameraError(f"{self.name}: reading failed: {e}"))
                        return
                    log.exception("%s: read failed", self.name)
                    got = None
                if got is not None:
                    if not self._deliver(*got):
                        return
                    continue
                if not self.reconnects:
                    self._end()
                    return
                self._disconnect()
                connected = False
                with self._cond:
                    self._mark_lost(
                        f"{self.name} stopped delivering frames; retrying every {self.retry_s:g} s"
                    )
                self._stop.wait(min(self.retry_s, 0.2))
        finally:
            self._disconnect()
