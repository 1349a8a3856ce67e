"""Progress: a bar with rate and ETA on a terminal, plain periodic lines otherwise (CI logs).

The clock is injected so tests drive it without sleeping.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Protocol, TextIO

__all__ = ["LineProgress", "NullProgress", "Progress", "TerminalProgress", "make_progress"]


class Progress(Protocol):
    def start(self, total: int, label: str) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def finish(self) -> None: ...


class NullProgress:
    """Says nothing."""

    def start(self, total: int, label: str) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


def _eta(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class _Counter:
    def __init__(self, stream: TextIO, clock: Callable[[], float], interval: float) -> None:
        self.stream = stream
        self.clock = clock
        self.interval = interval
        self.total = 0
        self.done = 0
        self.label = ""
        self.t0 = 0.0
        self.last = float("-inf")
        self.drawn = -1  # self.done when last drawn

    def start(self, total: int, label: str) -> None:
        self.total, self.done, self.label = total, 0, label
        self.t0 = self.clock()
        self.last = float("-inf")
        self._draw(self.t0)

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if now - self.last >= self.interval:
            self._draw(now)

    def stats(self, now: float) -> tuple[float, str]:
        elapsed = max(now - self.t0, 1e-9)
        rate = self.done / elapsed
        left = self.total - self.done
        eta = _eta(left / rate) if rate > 0 else "?"
        return rate, eta

    def _draw(self, now: float) -> None:
        raise NotImplementedError


class TerminalProgress(_Counter):
    """``seed  [######----]  2500/5000  50%  1234 obj/s  ETA 0:02``, redrawn in place."""

    def __init__(
        self,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        width: int = 30,
    ) -> None:
        super().__init__(stream, clock, interval=0.1)
        self.width = width

    def _line(self, now: float) -> str:
        rate, eta = self.stats(now)
        frac = self.done / self.total if self.total else 1.0
        filled = int(frac * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        return (
            f"{self.label}  [{bar}]  {self.done}/{self.total}  {frac:4.0%}"
            f"  {rate:,.0f} obj/s  ETA {eta}"
        )

    def _draw(self, now: float) -> None:
        self.last = now
        self.stream.write("\r\x1b[K" + self._line(now))
        self.stream.flush()

    def finish(self) -> None:
        self._draw(self.clock())
        self.stream.write("\n")
        self.stream.flush()


class LineProgress(_Counter):
    """One plain line every ``interval`` seconds and at the end (no control characters)."""

    def __init__(
        self,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 5.0,
    ) -> None:
        super().__init__(stream, clock, interval)

    def _draw(self, now: float) -> None:
        self.last, self.drawn = now, self.done
        rate, eta = self.stats(now)
        pct = f"{self.done / self.total:.0%}" if self.total else "100%"
        self.stream.write(
            f"{self.label}: {self.done}/{self.total} objects ({pct}), "
            f"{rate:,.0f} obj/s, eta {eta}\n"
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.drawn != self.done:
            self._draw(self.clock())


def make_progress(stream: TextIO | None = None, enabled: bool = True) -> Progress:
    """A bar when ``stream`` (default stderr) is a terminal, lines when it is not."""
    if not enabled:
        return NullProgress()
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    if callable(isatty) and isatty():
        return TerminalProgress(stream)
    return LineProgress(stream)
