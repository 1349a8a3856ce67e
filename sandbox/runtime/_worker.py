"""The thread a handler runs on, and how a timeout stops it.

Lambda's runtime calls the handler on its main thread and, at the deadline, kills the whole
execution environment. In-process we cannot kill a thread, so: the handler runs on a worker
thread (one per execution environment, reused while warm, so thread-locals survive between
warm invocations as they do on Lambda); the caller waits until the deadline; at the deadline
``PyThreadState_SetAsyncExc`` raises `Interrupted` (a BaseException, so ``except Exception``
cannot swallow it) in the worker. Pure-Python code stops within a few milliseconds; a thread
blocked in C (``time.sleep``, a socket read, ``epoll``) only sees it when control returns to
Python. Either way the worker is abandoned (a daemon thread) and its environment discarded.

``on_start`` runs first on the new thread, before any job: the environment uses it to move the
thread into its CPU cgroup (`sandbox.runtime.cpu`), so INIT and every invocation are throttled
and the caller's thread is not. The constructor returns once it has run.
"""

from __future__ import annotations

import ctypes
import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Interrupted", "Job", "Worker"]

_GRACE = 0.25  # seconds to wait for an interrupted handler to unwind


class Interrupted(BaseException):
    """Raised inside a handler still running at its deadline."""


class Job:
    __slots__ = ("done", "error", "fn", "result", "timed_out")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.timed_out = False


class Worker:
    """One long-lived thread that runs jobs, one at a time."""

    def __init__(self, name: str, on_start: Callable[[], None] | None = None) -> None:
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._on_start = on_start
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()
        self._started.wait()
        self.abandoned = False

    def _loop(self) -> None:
        try:
            if self._on_start is not None:
                self._on_start()
        finally:
            self._started.set()
        try:
            while (job := self._jobs.get()) is not None:
                try:
                    job.result = job.fn()
                except BaseException as e:  # the handler's error is the job's result
                    job.error = e
                finally:
                    job.done.set()
        except Interrupted:  # delivered late, after the job had ended: just stop
            pass

    def run(self, fn: Callable[[], Any], timeout: float) -> Job:
        """Run ``fn`` on the worker; give up after ``timeout`` seconds (``job.timed_out``)."""
        if self.abandoned:
            raise RuntimeError("this worker was abandoned after a timeout; start a new one")
        job = Job(fn)
        self._jobs.put(job)
        try:
            finished = job.done.wait(timeout)
        except BaseException:  # Ctrl-C in the caller: stop the handler too, then re-raise
            self.abandoned = True
            self._interrupt()
            raise
        if not finished:
            job.timed_out = True
            self.abandoned = True
            self._interrupt()
            job.done.wait(_GRACE)
        return job

    def _interrupt(self) -> None:
        ident = self._thread.ident
        if ident is not None and self._thread.is_alive():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(ident), ctypes.py_object(Interrupted)
            )

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """End the thread (an abandoned one is left to finish on its own)."""
        if not self.abandoned and self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout=5)
