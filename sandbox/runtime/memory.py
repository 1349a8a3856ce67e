"""Peak resident memory (RSS) of one invocation: what Lambda prints as "Max Memory Used".

On Linux the kernel keeps the high-water mark of the process's RSS (``VmHWM`` in
``/proc/self/status``), and writing ``5`` to ``/proc/self/clear_refs`` resets it to the
current RSS. So: reset before the invocation, read after it, and the peak is exact, however
short the spike. Where ``clear_refs`` cannot be written, a sampler thread reads the current
RSS (``/proc/self/statm``) every millisecond; without ``/proc`` at all (macOS), the process
lifetime peak from ``getrusage`` is the only figure there is, and it is labelled as such.

The figure is the RSS of the whole runner process (Python, the harness, the handler), as on
Lambda where it is the RSS of the runtime process (Python, the runtime client, the handler).
"""

from __future__ import annotations

import os
import resource
import sys
import threading
from typing import Protocol

__all__ = ["ClearRefsPeak", "PeakRss", "RusagePeak", "SampledPeak", "best_peak_rss"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class PeakRss(Protocol):
    """Reset before an invocation, read after it. ``method`` says how it is measured."""

    method: str

    def reset(self) -> None: ...

    def peak_bytes(self) -> int: ...

    def close(self) -> None: ...


class ClearRefsPeak:
    """Exact peak via the kernel's RSS high-water mark (Linux)."""

    method = "VmHWM after /proc/self/clear_refs"

    def __init__(self) -> None:
        # Both files stay open: a reset + read costs two syscalls, not four opens.
        self._clear = os.open("/proc/self/clear_refs", os.O_WRONLY)
        try:
            self._status = os.open("/proc/self/status", os.O_RDONLY)
        except OSError:
            os.close(self._clear)
            raise

    def reset(self) -> None:
        os.write(self._clear, b"5")

    def peak_bytes(self) -> int:
        text = os.pread(self._status, 16384, 0)
        start = text.index(b"VmHWM:") + 6
        return int(text[start : text.index(b"kB", start)]) * 1024

    def close(self) -> None:
        os.close(self._clear)
        os.close(self._status)


class SampledPeak:
    """Current RSS sampled every ``interval`` seconds on a thread (short spikes can be missed)."""

    method = "sampled /proc/self/statm"

    def __init__(self, interval: float = 0.001) -> None:
        self._interval = interval
        self._fd = os.open("/proc/self/statm", os.O_RDONLY)
        self._peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _rss(self) -> int:
        return int(os.pread(self._fd, 256, 0).split()[1]) * _PAGE

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._peak = max(self._peak, self._rss())

    def reset(self) -> None:
        self._stop_thread()
        self._peak = self._rss()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def peak_bytes(self) -> int:
        self._peak = max(self._peak, self._rss())
        return self._peak

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def close(self) -> None:
        self._stop_thread()
        os.close(self._fd)


class RusagePeak:
    """No /proc: the process's lifetime peak (it cannot be reset, so it never goes down)."""

    method = "getrusage ru_maxrss (process lifetime peak, cannot be reset)"

    def reset(self) -> None:
        pass

    def peak_bytes(self) -> int:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, kB elsewhere

    def close(self) -> None:
        pass


def best_peak_rss() -> PeakRss:
    """The most exact method this machine allows."""
    try:
        probe = ClearRefsPeak()
    except OSError:
        pass
    else:
        try:
            probe.reset()
            probe.peak_bytes()
            return probe
        except (OSError, ValueError):
            probe.close()
    try:
        return SampledPeak()
    except OSError:
        return RusagePeak()
