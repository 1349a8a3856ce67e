"""Peak of a quantity (the temp dir's usage) over an invocation, sampled on a thread.

The first sample is taken ``interval`` after `start`, so an invocation shorter than that costs
the handler nothing; `stop` takes a last sample itself. A write-then-delete shorter than the
interval can be missed (tmpfs keeps no high-water mark).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

__all__ = ["PeakSampler"]


class PeakSampler:
    def __init__(self, probe: Callable[[], int], interval: float = 0.005) -> None:
        self._probe = probe
        self._interval = interval
        self._active = threading.Event()
        self._closed = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._loop, name="tmp-sampler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._closed.is_set():
            if not self._active.wait(0.5):
                continue
            if self._closed.wait(self._interval) or not self._active.is_set():
                continue  # closed, or the invocation ended before the first sample
            try:
                value = self._probe()
            except OSError:
                continue
            if value > self.peak:
                self.peak = value

    def start(self) -> None:
        self.peak = self._probe()
        self._active.set()

    def stop(self) -> int:
        self._active.clear()
        with contextlib.suppress(OSError):
            self.peak = max(self.peak, self._probe())
        return self.peak

    def close(self) -> None:
        self._closed.set()
        self._active.set()  # wake the loop so that it sees `_closed`
        self._thread.join(timeout=2)
