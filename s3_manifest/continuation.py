"""Deadline continuation: stop before the timeout, hand back ``next``, resume from it.

A run that cannot list everything before Lambda's deadline stops taking new pages, finishes
the manifest part it has written, and returns ``done: false`` with a ``next`` object. Passing
``next`` back as the event (what the Step Functions loop in ``statemachine/manifest.asl.json``
does, or any direct caller) continues the listing after the last key it listed. The parts of a
run are ``manifests/<run>/part-00001.jsonl``, ``part-00002.jsonl``, ... and the round that
reaches the end writes ``manifests/<run>/index.json`` listing them.

**The margin rule.** After each page, the round stops if the time left
(``context.get_remaining_time_in_millis()``) is under::

    SAFETY_MARGIN_MS + FINISH_RESERVE_MS + PAGES_IN_MARGIN x (slowest page so far)

A page's time is measured from one page's end to the next (listing it, and waiting for the
consumers to presign and write it, since the bounded queue holds the producer back). The
slowest page is used, not the mean, because the queue can hold about two pages of work that
still have to drain, and a slow page (a retry, a throttled part upload) is the one that
overruns. ``FINISH_RESERVE_MS`` covers uploading the last part and completing it. At 128 MB's
CPU share a 1000-key page takes ~1.6 s here, so a round stops ~6.3 s before its timeout.

**Progress is guaranteed or refused.** A round always takes its first page. If even that
cannot fit (less than ``SAFETY_MARGIN_MS + FINISH_RESERVE_MS`` left at the start, or the hard
stop cancels the first page), the run raises ``RunAborted`` instead of returning a ``next``
that would loop for ever.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FINISH_RESERVE_MS",
    "PAGES_IN_MARGIN",
    "SAFETY_MARGIN_MS",
    "DeadlineRule",
    "Resume",
    "index_document",
    "index_key",
    "next_event",
    "parse_resume",
    "part_key",
]

# Stop this long before Lambda's deadline, so the part file is removed and the multipart
# upload aborted: a run Lambda kills mid-way cannot clean up after itself.
SAFETY_MARGIN_MS = 500
FINISH_RESERVE_MS = 1000
PAGES_IN_MARGIN = 3

_RUN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_PART = 99_999  # part-NNNNN
_RESUME_FIELDS = ("start_after", "run", "part")


@dataclass(frozen=True)
class Resume:
    """Where a continuation round starts: after ``start_after``, writing part ``part``."""

    run: str
    part: int
    start_after: str
    count_so_far: int = 0  # PDFs in the parts before this one


def parse_resume(params: Mapping[str, Any], prefix: str) -> Resume | None:
    """The continuation fields of a direct / Step Functions event, or None for a fresh run.

    Raises ``ValueError`` saying what is wrong; the caller turns it into ``BadRequest``.
    """
    given = [name for name in _RESUME_FIELDS if params.get(name) is not None]
    if not given:
        return None
    missing = [name for name in _RESUME_FIELDS if name not in given]
    if missing:
        raise ValueError(
            f"a continuation event needs {', '.join(_RESUME_FIELDS)}; {', '.join(missing)} "
            "missing. Pass the previous response's 'next' object back unchanged"
        )
    run, part, start_after = params["run"], params["part"], params["start_after"]
    count = params.get("count_so_far", 0)
    if not isinstance(run, str) or not _RUN_RE.match(run):
        raise ValueError(f"'run' must be a run id (letters, digits, '-', '_'), got {run!r}")
    if isinstance(part, bool) or not isinstance(part, int) or not 2 <= part <= MAX_PART:
        raise ValueError(f"'part' must be a whole number from 2 to {MAX_PART}, got {part!r}")
    if not isinstance(start_after, str) or not start_after.startswith(prefix):
        raise ValueError(
            f"'start_after' must be a key under the prefix {prefix!r}, got {start_after!r}: "
            "was 'next' passed back with a different prefix?"
        )
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"'count_so_far' must be a whole number >= 0, got {count!r}")
    return Resume(run=run, part=part, start_after=start_after, count_so_far=count)


def part_key(manifest_prefix: str, run: str, part: int) -> str:
    return f"{manifest_prefix}{run}/part-{part:05d}.jsonl"


def index_key(manifest_prefix: str, run: str) -> str:
    return f"{manifest_prefix}{run}/index.json"


def next_event(
    bucket: str, prefix: str, start_after: str, run: str, part: int, count_so_far: int
) -> dict[str, Any]:
    """The ``next`` object: passed back as the event, it continues the run exactly."""
    return {
        "bucket": bucket,
        "prefix": prefix,
        "start_after": start_after,
        "run": run,
        "part": part,
        "count_so_far": count_so_far,
    }


def index_document(bucket: str, prefix: str, run: str, count: int, parts: list[str]) -> bytes:
    """``index.json``: the run's part keys in order, and the PDFs they hold together."""
    doc = {
        "run": run,
        "bucket": bucket,
        "prefix": prefix,
        "count": count,
        "content_type": "application/x-ndjson",
        "parts": parts,
    }
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode()


class DeadlineRule:
    """Decides, after each page, whether the round must stop taking pages (see module doc).

    ``remaining_ms`` is the Lambda context's ``get_remaining_time_in_millis``; ``clock`` times
    the pages (injectable, like the context's own clock, so tests never sleep).
    """

    def __init__(
        self,
        remaining_ms: Callable[[], int],
        *,
        clock: Callable[[], float] = time.monotonic,
        safety_ms: int = SAFETY_MARGIN_MS,
        finish_ms: int = FINISH_RESERVE_MS,
        pages_in_margin: int = PAGES_IN_MARGIN,
    ) -> None:
        self._remaining_ms = remaining_ms
        self._clock = clock
        self.safety_ms, self.finish_ms, self.pages_in_margin = safety_ms, finish_ms, pages_in_margin
        self.slowest_page_ms = 0.0
        self.pages = 0
        self.stopped_with_ms: int | None = None
        self._last = clock()

    @property
    def minimum_ms(self) -> int:
        """Less than this left at the start, and not even one page can be finished."""
        return self.safety_ms + self.finish_ms

    def margin_ms(self) -> float:
        return self.minimum_ms + self.pages_in_margin * self.slowest_page_ms

    def start_timing(self) -> None:
        """The first page is timed from now (call just before the listing starts)."""
        self._last = self._clock()

    def check_start(self) -> None:
        """Raise ``ValueError`` if the round cannot make progress at all."""
        left = self._remaining_ms()
        if left < self.minimum_ms:
            raise ValueError(
                f"only {left} ms left at the start of the round; taking one page and "
                f"finishing its part needs at least {self.minimum_ms} ms. Raise the timeout"
            )

    def should_stop(self) -> bool:
        """Called after each page; True means take no more pages this round."""
        now = self._clock()
        self.slowest_page_ms = max(self.slowest_page_ms, (now - self._last) * 1000)
        self._last = now
        self.pages += 1
        left = self._remaining_ms()
        if left < self.margin_ms():
            self.stopped_with_ms = left
            return True
        return False
