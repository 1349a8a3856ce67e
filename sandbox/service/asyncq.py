"""Asynchronous (``Event``) invocations: a queue, Lambda's retry policy, and the give-ups.

Lambda answers an ``Event`` invoke with 202 at once and runs the event later. When the
function returns an error, it retries twice (by default about one and then two minutes
later); an event still failing after that is given up on (sent to a dead-letter queue or
on-failure destination, if one is configured). Locally:

* the delays are `retry_delays` (default ``(60, 120)`` as on Lambda; tests pass a few ms);
* a given-up event is recorded: kept in memory for ``GET /_sandbox/async-failures`` and
  appended to ``<run dir>/async-failures.jsonl`` (0600) with its payload, so it can be replayed;
* retries keep the request id, as Lambda's do;
* at most ``concurrency`` events run at once, and they wait for an environment rather than
  being throttled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sandbox.service.pool import Outcome

__all__ = ["DEFAULT_RETRY_DELAYS", "AsyncEvent", "AsyncInvoker"]

DEFAULT_RETRY_DELAYS = (60.0, 120.0)


@dataclass
class AsyncEvent:
    """One queued event: which function, what payload, and how it has fared so far."""

    function: str
    payload: bytes
    request_id: str
    source: str = "Invoke"  # or "s3" for a bucket notification
    attempts: int = 0
    queued_at: float = field(default_factory=time.time)
    errors: list[dict[str, Any]] = field(default_factory=list)


Runner = Callable[[AsyncEvent], Awaitable[Outcome]]


class AsyncInvoker:
    """Runs queued events with ``run``, retrying failures after ``retry_delays``."""

    def __init__(
        self,
        run: Runner,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        concurrency: int = 4,
        failures_path: Path | None = None,
    ) -> None:
        self._run = run
        self.retry_delays = tuple(retry_delays)
        self.concurrency = concurrency
        self.failures_path = failures_path
        self.failures: list[dict[str, Any]] = []
        self.succeeded = 0
        self.retried = 0
        self._queue: asyncio.Queue[AsyncEvent] = asyncio.Queue()
        self._delayed: dict[asyncio.TimerHandle, AsyncEvent] = {}
        self._running_events: dict[int, AsyncEvent] = {}
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def depth(self) -> int:
        """Events waiting: queued now, or waiting for their retry delay (not those running)."""
        return self._queue.qsize() + len(self._delayed)

    def submit(self, event: AsyncEvent) -> None:
        self._queue.put_nowait(event)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._consume()) for _ in range(self.concurrency)]

    @property
    def _running(self) -> int:
        return len(self._running_events)

    async def stop(self) -> None:
        """Stop. Events queued, waiting for a retry or running are not dropped silently: each
        is recorded with the failures ("the service stopped"), payload included, to replay."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        unfinished = list(self._running_events.values())
        self._running_events.clear()
        for handle, event in list(self._delayed.items()):
            handle.cancel()
            unfinished.append(event)
        self._delayed.clear()
        while not self._queue.empty():
            unfinished.append(self._queue.get_nowait())
        for event in unfinished:
            event.errors.append(
                {
                    "attempt": event.attempts,
                    "at": time.time(),
                    "errorType": "Service.Stopped",
                    "errorMessage": "the local Lambda service stopped before this event ran "
                    "to completion",
                }
            )
            self._give_up(event)

    def status(self) -> dict[str, Any]:
        return {
            "queue_depth": self.depth,
            "running": self._running,
            "succeeded": self.succeeded,
            "retried": self.retried,
            "failed": len(self.failures),
            "retry_delays": list(self.retry_delays),
        }

    async def _consume(self) -> None:
        while True:
            event = await self._queue.get()
            self._running_events[id(event)] = event
            await self._attempt(event)
            self._running_events.pop(id(event), None)

    async def _attempt(self, event: AsyncEvent) -> None:
        event.attempts += 1
        try:
            outcome = await self._run(event)
            error = outcome.invocation.error
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the service itself failed to run it: retried the same way
            error = {"errorType": type(e).__name__, "errorMessage": str(e)}
        if error is None:
            self.succeeded += 1
            return
        event.errors.append({"attempt": event.attempts, "at": time.time(), **error})
        if event.attempts <= len(self.retry_delays):
            self.retried += 1
            delay = self.retry_delays[event.attempts - 1]
            loop = asyncio.get_running_loop()
            handle: asyncio.TimerHandle

            def requeue() -> None:
                self._delayed.pop(handle, None)
                self._queue.put_nowait(event)

            handle = loop.call_later(delay, requeue)
            self._delayed[handle] = event
            return
        self._give_up(event)

    def _give_up(self, event: AsyncEvent) -> None:
        record = asdict(event)
        record["payload"] = event.payload.decode("utf-8", errors="replace")
        record["gave_up_at"] = time.time()
        self.failures.append(record)
        if self.failures_path is not None:
            fd = os.open(self.failures_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
