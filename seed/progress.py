"""Progress: a rich bar with rate and ETA on a terminal, plain periodic lines otherwise (CI logs).

The interface the uploader calls is `Progress` (``start(total, label)``, ``advance(n)``,
``finish()``); `make_progress` picks the kind for a stream. `activity` is the same idea for a
long step of unknown length (building MinIO): a spinner with the elapsed time and a status on a
terminal, a line every ``interval`` seconds otherwise.

The clock is injected so tests drive it without sleeping; the bar redraws itself only when
told (no refresh thread), at most ten times a second of that clock.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

__all__ = [
    "LineProgress",
    "NullProgress",
    "Progress",
    "TerminalProgress",
    "activity",
    "is_terminal",
    "make_progress",
]


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


def _rate_and_eta(done: float, total: float, elapsed: float) -> tuple[float, str]:
    rate = done / max(elapsed, 1e-9)
    left = total - done
    return rate, (_eta(left / rate) if rate > 0 else "?")


def is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(callable(isatty) and isatty())


class TerminalProgress:
    """``seed  ━━━━━━━━━━╺━━━━━━━━━  2500/5000   50%  1,234 obj/s  ETA 0:02``, drawn by rich
    in place on a terminal."""

    def __init__(
        self,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        width: int = 30,
        interval: float = 0.1,
    ) -> None:
        self.clock = clock
        self.interval = interval
        self.redraws = 0
        self._last = float("-inf")
        self._task: Any = None

        self._bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=width),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            _RateColumn(),
            console=Console(file=stream, force_terminal=True, soft_wrap=True),
            auto_refresh=False,
            get_time=clock,
            transient=False,
        )

    def start(self, total: int, label: str) -> None:
        self._task = self._bar.add_task(label, total=total)
        self._bar.start()
        self._draw()

    def advance(self, n: int = 1) -> None:
        self._bar.advance(self._task, n)
        if self.clock() - self._last >= self.interval:
            self._draw()

    def _draw(self) -> None:
        self._last = self.clock()
        self.redraws += 1
        self._bar.refresh()

    def finish(self) -> None:
        self._draw()
        self._bar.stop()


class _RateColumn(ProgressColumn):
    """``1,234 obj/s  ETA 0:02`` from the count and the elapsed time of the injected clock."""

    def render(self, task: Task) -> Text:
        rate, eta = _rate_and_eta(task.completed, task.total or 0, task.elapsed or 0.0)
        return Text(f"{rate:,.0f} obj/s  ETA {eta}")


class LineProgress:
    """One plain line every ``interval`` seconds and at the end (no control characters)."""

    def __init__(
        self,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 5.0,
    ) -> None:
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

    def _draw(self, now: float) -> None:
        self.last, self.drawn = now, self.done
        rate, eta = _rate_and_eta(self.done, self.total, now - self.t0)
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
    if is_terminal(stream):
        return TerminalProgress(stream)
    return LineProgress(stream)


@contextmanager
def activity(
    label: str,
    stream: TextIO | None = None,
    *,
    interval: float = 15.0,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Callable[[str], None]]:
    """A long step of unknown length. Yields ``update(status)``: on a terminal a rich spinner
    shows ``label``, the elapsed time and the latest status; otherwise a plain
    ``label: status (Ns)`` line comes at most every ``interval`` seconds."""
    out = stream if stream is not None else sys.stderr
    if not is_terminal(out):
        t0, last = clock(), [clock()]

        def line(status: str) -> None:
            now = clock()
            if now - last[0] >= interval:
                last[0] = now
                out.write(f"{label}: {status} ({now - t0:.0f}s)\n")
                out.flush()

        yield line
        return

    spinner = RichProgress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=Console(file=out, force_terminal=True),
        transient=True,
    )
    task = spinner.add_task(label, total=None, status="")
    with spinner:
        yield lambda status: spinner.update(task, status=status)
