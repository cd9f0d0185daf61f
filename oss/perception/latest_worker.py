"""A worker thread that runs a function on the latest item submitted and never queues up.

``submit`` hands the worker an item; an item still waiting when the next one arrives is dropped (the
worker always starts on the newest). Finished results are collected with ``take``. The MediaPipe hand
tracker runs its landmarker this way so that the station loop only cuts a crop and reads the newest
landmarks; MediaPipe's ``detect_for_video`` releases the GIL while it runs, so the thread really runs
beside the loop.

An exception raised by the function is re-raised by the next ``take`` (in the caller's thread), so a
broken worker is not silently ignored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar, cast

In = TypeVar("In")
Out = TypeVar("Out")


class LatestWorker(Generic[In, Out]):
    """Runs ``fn`` on a thread of its own, always on the most recently submitted item."""

    def __init__(self, fn: Callable[[In], Out], name: str = "latest-worker") -> None:
        self._fn = fn
        self._cond = threading.Condition()
        self._pending: In | None = None
        self._has_pending = False
        self._busy = False
        self._closing = False
        self._results: list[Out] = []
        self._error: BaseException | None = None
        self.submitted = 0
        self.dropped = 0  # items replaced by a newer one before the worker took them
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    # --- caller's side --------------------------------------------------------------------------------
    def submit(self, item: In) -> In | None:
        """Give the worker ``item`` (not None); returns the item it replaced, still waiting and now dropped
        (None if there was none)."""
        with self._cond:
            if self._closing:
                raise RuntimeError("the worker is closed")
            dropped = self._pending if self._has_pending else None
            if self._has_pending:
                self.dropped += 1
            self._pending, self._has_pending = item, True
            self.submitted += 1
            self._cond.notify_all()
            return dropped

    def take(self) -> list[Out]:
        """The results finished since the last call, oldest first."""
        with self._cond:
            if self._error is not None:
                err, self._error = self._error, None
                raise RuntimeError("the worker thread failed") from err
            out, self._results = self._results, []
            return out

    @property
    def idle(self) -> bool:
        """Nothing waiting and nothing running."""
        with self._cond:
            return not self._has_pending and not self._busy

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until the worker has finished everything submitted (False on timeout)."""
        with self._cond:
            return self._cond.wait_for(
                lambda: (not self._has_pending and not self._busy) or self._error is not None, timeout
            )

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout: float | None = 10.0) -> None:
        """Stop the thread: an item still waiting is dropped, one running is finished first."""
        with self._cond:
            self._closing = True
            if self._has_pending:
                self._pending, self._has_pending = None, False
                self.dropped += 1
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise RuntimeError(f"worker thread {self._thread.name} did not stop within {timeout} s")

    # --- worker's side --------------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._has_pending or self._closing)
                if self._closing:
                    return
                item = self._pending
                self._pending, self._has_pending, self._busy = None, False, True
            try:
                out = self._fn(cast(In, item))
            except BaseException as e:  # handed to the caller by take()
                with self._cond:
                    self._error, self._busy = e, False
                    self._cond.notify_all()
                continue
            with self._cond:
                self._results.append(out)
                self._busy = False
                self._cond.notify_all()
