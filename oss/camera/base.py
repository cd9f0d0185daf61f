"""The frame source interface: a camera, a video file, an image folder or the virtual bench.

    with open_source("0", size=(1280, 720), exposure=150) as cam:
        while running:
            frame = cam.read_latest()          # never blocks by default; None: no new frame this tick
            for status in cam.status_events():  # camera lost / back, to show and to log
                ...

Reading runs on the source's own thread. ``read_latest`` hands each frame over once: a live source
keeps only the newest (stale frames are dropped and counted), a recorded one in offline mode delivers
every frame in order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from oss.records import CameraStatus, Frame, OssError


class CameraError(OssError):
    """A frame source cannot be opened or used; the message says which one and what to do."""


class FrameSource(ABC):
    """One source of frames, usable as a context manager (``open`` on enter, ``close`` on exit)."""

    name: str = ""

    @abstractmethod
    def open(self) -> None:
        """Start delivering frames. Raises CameraError when the source can never work (a missing file);
        a live camera that is not there yet is reported by ``status_events`` and retried instead."""

    @abstractmethod
    def close(self) -> None:
        """Stop the reader thread and release the device; a second call does nothing."""

    @abstractmethod
    def read_latest(self, timeout: float = 0.0) -> Frame | None:
        """The next frame not handed out yet (newest for live sources), waiting up to ``timeout`` s."""

    @abstractmethod
    def status_events(self) -> list[CameraStatus]:
        """Lost/back reports (and setting warnings) since the last call, oldest first."""

    @property
    @abstractmethod
    def size(self) -> tuple[int, int]:
        """Frame size (width, height) in camera px: the real one once known, else the requested one."""

    @property
    @abstractmethod
    def fps(self) -> float:
        """Frames per second the source delivers (nominal)."""

    @property
    def exhausted(self) -> bool:
        """True once a recorded source has handed out its last frame (never for a live camera)."""
        return False

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
