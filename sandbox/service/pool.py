"""The execution environments of every function: worker processes, reused while warm.

Lambda's rules, as this pool applies them:

* An environment serves one request at a time. A request that finds an idle (warm)
  environment of its function uses it; otherwise a new environment starts (a cold start).
* Reserved concurrency caps a function's environments; past the cap a synchronous request is
  throttled (``TooManyRequestsException``, reason
  ``ReservedFunctionConcurrentInvocationLimitExceeded``). The service-wide cap
  (``max_environments``, the account's concurrency locally) first evicts idle environments of
  other functions, then throttles with ``ConcurrentInvocationLimitExceeded``.
* Asynchronous invocations wait for capacity instead (Lambda's async poller retries throttles
  for hours; locally it just waits).
* Idle environments are reaped after ``idle_timeout`` seconds. An environment that timed out,
  failed INIT, went over its memory or whose process died is discarded, never reused.

Each environment is a `sandbox.service.worker` process started from the event loop's (main)
thread with ``PR_SET_PDEATHSIG``, so the kernel kills it if the service dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sandbox.project import FunctionSpec
from sandbox.runtime import FunctionConfig, Invocation
from sandbox.runtime.environment import INIT_TIMEOUT_S
from sandbox.runtime.logformat import log_settings
from sandbox.service._spawn import WorkerFailed, WorkerProcess
from sandbox.service._wire import WireError
from sandbox.service.logs import FunctionLogs, invocation_block

__all__ = ["Counters", "Outcome", "Pools", "Throttled", "WorkerFailed"]

#: Past the function's own timeout (and INIT's), how long the service waits for a worker
#: before it declares it hung and kills it.
_HANG_MARGIN_S = 10.0


class Throttled(Exception):
    """No environment may start now. ``reason`` is Lambda's ``ThrottleReason``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class Counters:
    """What ``status`` reports for one function."""

    invocations: int = 0
    errors: int = 0
    throttles: int = 0
    cold_starts: int = 0
    warm_starts: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    """One invocation as the service saw it: the runtime's figures and its log block."""

    invocation: Invocation
    log: str
    cold: bool
    pid: int


@dataclass
class _Function:
    spec: FunctionSpec
    config: FunctionConfig
    idle: list[WorkerProcess] = field(default_factory=list)
    busy: set[WorkerProcess] = field(default_factory=set)
    starting: int = 0
    counters: Counters = field(default_factory=Counters)

    def count(self) -> int:
        return len(self.idle) + len(self.busy) + self.starting

    @property
    def json_logs(self) -> bool:
        """Lambda's JSON log format (the function's ``AWS_LAMBDA_LOG_FORMAT``): platform
        records instead of START/END/REPORT."""
        return log_settings(self.config.env)[0] == "JSON"


class Pools:
    """Every function's environments, the service-wide cap, the idle reaper and the logs."""

    def __init__(
        self,
        functions: Mapping[str, FunctionSpec],
        configure: Callable[[FunctionSpec], FunctionConfig],
        *,
        logs: FunctionLogs,
        tmp_parent: str,
        max_environments: int = 16,
        idle_timeout: float = 300.0,
        config_version: Callable[[], object] | None = None,
    ) -> None:
        self.functions = {
            name: _Function(spec, configure(spec)) for name, spec in functions.items()
        }
        # ``config_version()`` changes when ``configure`` may answer differently (the fault
        # layer switched on or off): new environments get the new configuration and the warm
        # ones with the old one are retired, as Lambda does after a configuration update.
        self._configure = configure
        self._config_version = config_version
        self._seen_version = config_version() if config_version is not None else None
        self.logs = logs
        self.max_environments = max_environments
        self.idle_timeout = idle_timeout
        self._tmp_parent = tmp_parent
        self._waiters: list[asyncio.Future[None]] = []
        self._stopping: set[asyncio.Task[None]] = set()  # workers being stopped, awaited by close
        self._reaper: asyncio.Task[None] | None = None
        self._closed = False

    # -- capacity ---------------------------------------------------------------------------
    def total(self) -> int:
        return sum(f.count() for f in self.functions.values())

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _refresh(self) -> None:
        if self._config_version is None:
            return
        version = self._config_version()
        if version == self._seen_version:
            return
        self._seen_version = version
        for fn in self.functions.values():
            config = self._configure(fn.spec)
            if config != fn.config:
                fn.config = config
                retired, fn.idle = fn.idle, []
                for worker in retired:
                    self._stop_later(worker)
        self._wake()

    def _stop_later(self, worker: WorkerProcess) -> None:
        task = asyncio.get_running_loop().create_task(worker.stop())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def _acquire(self, fn: _Function, *, wait: bool) -> tuple[WorkerProcess, bool]:
        self._refresh()
        while True:
            if self._closed:
                raise WorkerFailed("the service is shutting down")
            if fn.idle:
                worker = fn.idle.pop()  # the most recently used: the warmest
                fn.busy.add(worker)
                return worker, False
            reserved = fn.spec.reserved_concurrency
            if reserved is not None and fn.count() >= reserved:
                reason = "ReservedFunctionConcurrentInvocationLimitExceeded"
            elif self.total() >= self.max_environments:
                victim = self._oldest_idle()
                if victim is not None:
                    await self._discard(victim)
                    continue
                reason = "ConcurrentInvocationLimitExceeded"
            else:
                return await self._start(fn), True
            if not wait:
                fn.counters.throttles += 1
                raise Throttled(reason, "Rate Exceeded.")
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    async def _start(self, fn: _Function) -> WorkerProcess:
        fn.starting += 1
        try:
            worker = await WorkerProcess.spawn(fn.config, tmp_parent=self._tmp_parent)
        finally:
            fn.starting -= 1
            self._wake()
        fn.busy.add(worker)
        return worker

    def _oldest_idle(self) -> tuple[_Function, WorkerProcess] | None:
        candidates = [(w.last_used, id(w), f, w) for f in self.functions.values() for w in f.idle]
        if not candidates:
            return None
        _, _, fn, worker = min(candidates)
        return fn, worker

    async def _discard(self, victim: tuple[_Function, WorkerProcess]) -> None:
        fn, worker = victim
        if worker in fn.idle:
            fn.idle.remove(worker)
        fn.busy.discard(worker)
        self._wake()
        await worker.stop()

    def _release(self, fn: _Function, worker: WorkerProcess, *, discard: bool) -> None:
        fn.busy.discard(worker)
        worker.last_used = time.monotonic()
        stale = worker.config != fn.config  # configured before the last refresh
        if discard or stale or self._closed or worker.process.returncode is not None:
            self._stop_later(worker)
        else:
            fn.idle.append(worker)
        self._wake()

    # -- invoking ---------------------------------------------------------------------------
    async def invoke(
        self,
        name: str,
        payload: bytes,
        *,
        request_id: str,
        invocation_type: str = "RequestResponse",
        client_context: Mapping[str, Any] | None = None,
        wait: bool = False,
    ) -> Outcome:
        """Run one invocation of ``name`` (a configured function) and log it.

        Raises `Throttled` when no environment may start and ``wait`` is false.
        """
        fn = self.functions[name]
        worker, cold = await self._acquire(fn, wait=wait)
        fn.counters.cold_starts += cold
        fn.counters.warm_starts += not cold
        message = {
            "op": "invoke",
            "payload": payload.decode("utf-8"),
            "request_id": request_id,
            "invocation_type": invocation_type,
            "client_context": dict(client_context) if client_context else None,
        }
        started = time.perf_counter()
        discard = True
        try:
            limit = fn.config.timeout + INIT_TIMEOUT_S + _HANG_MARGIN_S
            reply = await asyncio.wait_for(worker.call(message), limit)
            inv = _invocation(reply["invocation"])
            discard = bool(reply.get("discard"))
            block = invocation_block(
                inv,
                output=reply.get("output", ""),
                init_output=reply.get("init_output", ""),
                json_format=fn.json_logs,
            )
        except (WireError, TimeoutError, OSError, RuntimeError) as e:
            code = await worker.kill()
            inv = _exit_error(fn.config, request_id, invocation_type, started, code)
            block = invocation_block(
                inv, output=f"(the environment's process ended: {e})", json_format=fn.json_logs
            )
        finally:
            self._release(fn, worker, discard=discard)
        worker.invocations += 1
        fn.counters.invocations += 1
        fn.counters.errors += inv.error is not None
        self.logs.append(name, block)
        return Outcome(inv, block, cold, worker.pid)

    # -- lifecycle --------------------------------------------------------------------------
    def start_reaper(self) -> None:
        self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    async def _reap_forever(self) -> None:
        interval = max(0.05, min(self.idle_timeout / 4, 5.0))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.reap()
            except Exception:  # one failed stop must not end reaping for good
                logging.getLogger("sandbox.service").exception("reaping idle environments")

    async def reap(self) -> int:
        """Stop the environments idle for longer than ``idle_timeout``; return how many."""
        now = time.monotonic()
        stale = [
            (fn, w)
            for fn in self.functions.values()
            for w in fn.idle
            if now - w.last_used > self.idle_timeout
        ]
        for victim in stale:
            await self._discard(victim)
        return len(stale)

    async def close(self) -> None:
        """Stop every environment, idle or busy (busy ones are killed after a grace period)."""
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        workers = [w for fn in self.functions.values() for w in (*fn.idle, *fn.busy)]
        for fn in self.functions.values():
            fn.idle.clear()
        self._wake()
        await asyncio.gather(*(w.stop() for w in workers), *self._stopping, return_exceptions=True)

    def status(self) -> dict[str, Any]:
        per_function = {}
        for name, fn in self.functions.items():
            per_function[name] = {
                "warm": len(fn.idle),
                "busy": len(fn.busy),
                "starting": fn.starting,
                "reserved_concurrency": fn.spec.reserved_concurrency,
                "pids": sorted(w.pid for w in (*fn.idle, *fn.busy)),
                **fn.counters.as_dict(),
            }
        return per_function


def _invocation(data: dict[str, Any]) -> Invocation:
    known = {f.name for f in fields(Invocation)}
    return Invocation(**{k: v for k, v in data.items() if k in known})


def _exit_error(
    config: FunctionConfig, request_id: str, invocation_type: str, started: float, code: int | None
) -> Invocation:
    """What Lambda reports when the runtime process dies mid-invocation (Runtime.ExitError)."""
    how = (
        f"exit status {code}"
        if code is None or code >= 0
        else f"signal: {signal.Signals(-code).name}"
    )
    return Invocation(
        request_id=request_id,
        status="error",
        response=None,
        error={
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {how}",
        },
        duration_ms=(time.perf_counter() - started) * 1000,
        init_duration_ms=None,
        memory_size_mb=config.memory_mb,
        max_memory_used_bytes=0,  # the process is gone: its peak cannot be read any more
        timeout_s=config.timeout,
        tmp_size_mb=config.tmp_size_mb,
        tmp_peak_bytes=0,
        response_bytes=0,
        invocation_type="Event" if invocation_type == "Event" else "RequestResponse",
        function_version=config.version,
    )
