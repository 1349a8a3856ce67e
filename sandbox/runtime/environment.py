"""One Lambda execution environment, in this process.

``Environment`` is what Lambda calls an execution environment: a configured function (handler,
memory, timeout, /tmp size, env vars), a /tmp of its own, and, after the first invocation,
the imported handler module. The first `invoke` is the cold start (INIT: import the module,
timed as Init Duration); later ones are warm and reuse the module. A timeout, an init failure
or memory over the configured size discards the execution environment, exactly as Lambda
would: the next invoke is cold again, with an empty /tmp. `reset` does that on demand
(``invoke.py --cold``).

The handler sees its own process-wide state (``os.environ``, ``sys.path``, the cwd, the temp
dir, ``TZ``) only while it runs; ``sandbox.runtime._process`` sets and restores it. How the
function is configured, and which settings Lambda accepts, is ``sandbox.runtime._config``.

CPU: each execution environment (each `_start`) gets its own `CpuShare` (``sandbox.runtime.cpu``):
the worker thread that runs INIT and the handler joins a cgroup limited to ``memory_mb / 1769``
vCPU; INIT runs with the on-demand boost unless ``init_cpu="share"``. `cpu_mode` says what was
applied; the cgroup is removed whenever the environment is discarded or closed.
"""

from __future__ import annotations

import json
import secrets
import time
import traceback
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

from sandbox.runtime._config import ConfigError, FunctionConfig
from sandbox.runtime._modules import HandlerError, ModuleLedger, load_handler, split_handler
from sandbox.runtime._process import RUNTIME_DIR, ProcessState, lambda_environ
from sandbox.runtime._sampler import PeakSampler
from sandbox.runtime._worker import Worker
from sandbox.runtime.context import LambdaContext, log_stream_name, new_request_id
from sandbox.runtime.cpu import CpuShare, init_vcpus
from sandbox.runtime.invocation import Invocation, Status
from sandbox.runtime.limits import (
    SYNC_RESPONSE_LIMIT,
    InvocationType,
    check_request,
    encode_payload,
    response_too_large,
    timeout_error,
)
from sandbox.runtime.logformat import FunctionLogs
from sandbox.runtime.memory import PeakRss, best_peak_rss
from sandbox.runtime.tmpdir import TmpDir

__all__ = ["ConfigError", "Environment", "FunctionConfig", "lambda_environ"]

# Lambda gives the INIT phase 10 s on on-demand functions.
INIT_TIMEOUT_S = 10.0
# With timeouts off (a debugger attached, `invoke.py --debug`): wait this long, i.e. forever.
_NO_DEADLINE_S = 7 * 24 * 3600.0


def _trace_id() -> str:
    """An X-Ray trace header like the one Lambda sets in ``_X_AMZN_TRACE_ID``."""
    return (
        f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};"
        f"Parent={secrets.token_hex(8)};Sampled=0"
    )


def _user_frames(e: BaseException) -> traceback.StackSummary:
    """The traceback without the runner's and the import machinery's frames."""
    return traceback.StackSummary.from_list(
        [
            f
            for f in traceback.extract_tb(e.__traceback__)
            if not f.filename.startswith(RUNTIME_DIR) and "importlib" not in f.filename
        ]
    )


def _error_body(e: BaseException, request_id: str) -> dict[str, Any]:
    frames = _user_frames(e)
    return {
        "errorMessage": str(e),
        "errorType": getattr(e, "error_type", type(e).__name__),
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


class _MarshalError(Exception):
    error_type = "Runtime.MarshalError"


class Environment:
    """One execution environment. Use as a context manager; `invoke` as often as you like."""

    def __init__(
        self,
        config: FunctionConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        timeouts: bool = True,
    ) -> None:
        self.config = config or FunctionConfig()
        # False while a debugger may hold the handler at a breakpoint: no INIT or invoke
        # deadline then (SAM does the same in debug mode); Duration still counts wall time.
        self.timeouts = timeouts
        self._clock = clock
        self._peak: PeakRss | None = None
        self._tmp: TmpDir | None = None
        self._handler: Callable[..., Any] | None = None
        # INIT run ahead of the first event by `init`: reported with the next invocation.
        self._pending_init: tuple[float, dict[str, Any] | None] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Environment:
        self._peak = best_peak_rss()
        try:
            self._start()
        except BaseException:
            self._peak.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self) -> None:
        cfg = self.config
        tmp = TmpDir(cfg.tmp_size_mb, mode=cfg.tmp_mode).__enter__()
        self._tmp = tmp
        cpu: CpuShare | None = None
        try:
            cpu = CpuShare.create(cfg.memory_mb, cfg.cpu)
            self._worker = Worker(f"lambda:{cfg.function_name}", on_start=cpu.join)
        except BaseException:
            if cpu is not None:
                cpu.close()
            tmp.__exit__(None, None, None)
            self._tmp = None
            raise
        self._cpu = cpu
        self._sampler = PeakSampler(tmp.usage, interval=0.001)
        self._ledger = ModuleLedger(cfg.task_root)
        self.log_stream = log_stream_name(cfg.version)
        self._process = ProcessState(cfg, self.log_stream, tmp)
        self._logs = FunctionLogs()  # Lambda's log format and level, per environment
        self._handler = None
        self._pending_init = None

    def _stop(self) -> None:
        if self._tmp is None:
            return
        self._worker.stop()
        self._cpu.close()
        self._sampler.close()
        self._ledger.release()
        self._tmp.__exit__(None, None, None)
        self._tmp = None
        self._handler = None

    def reset(self) -> None:
        """Discard this execution environment: the next invoke is a cold start, empty /tmp."""
        self._require_open()
        self._stop()
        self._start()

    def close(self) -> None:
        """End the environment: unmount /tmp, forget the function's modules."""
        self._stop()
        if self._peak is not None:
            self._peak.close()
            self._peak = None

    def _require_open(self) -> TmpDir:
        if self._tmp is None:
            raise RuntimeError("Environment is not open: use `with Environment(config) as env:`")
        return self._tmp

    @property
    def cold(self) -> bool:
        """True when the next invoke is a cold start (INIT not run yet, or run by `init`)."""
        return self._handler is None or self._pending_init is not None

    @property
    def needs_init(self) -> bool:
        """True when INIT has not run in this execution environment yet."""
        return self._handler is None and self._pending_init is None

    @property
    def tmp_path(self) -> str:
        return self._require_open().path

    @property
    def tmp_mode(self) -> str:
        return self._require_open().mode or ""

    @property
    def cpu_mode(self) -> str:
        """How the handler's CPU is limited: "cgroup v1", "full (--cpu full)" or
        "not limited: <reason>" (its figures then are not Lambda's)."""
        self._require_open()
        return self._cpu.mode

    @property
    def cpu_vcpus(self) -> float | None:
        """The vCPUs an invocation gets (None when not limited)."""
        self._require_open()
        return self._cpu.vcpus

    def cpu_line(self) -> str:
        """The CPU mode as one line (``invoke.py`` prints it before START)."""
        self._require_open()
        boosted = self.config.init_cpu == "boost" and self._cpu.vcpus is not None
        return self._cpu.describe(
            self.config.memory_mb, init_vcpus(self.config.memory_mb) if boosted else None
        )

    @property
    def cpu_share(self) -> CpuShare:
        """This execution environment's CPU limit (its cgroup, `stat`), for tests and reports."""
        self._require_open()
        return self._cpu

    @property
    def memory_method(self) -> str:
        return self._peak.method if self._peak else ""

    # -- the scoped process state ----------------------------------------------------------

    def _scope(self, trace_id: str | None) -> AbstractContextManager[None]:
        self._require_open()
        return self._process.scope(self.config.task_root, trace_id)

    # -- invoke ----------------------------------------------------------------------------

    def init(self) -> tuple[float, dict[str, Any] | None]:
        """Run INIT now, before the first event (as Lambda does); otherwise the cold `invoke`
        runs it. Its duration (or error) is reported with the next invocation.
        Returns (Init Duration in ms, error body or None)."""
        self._require_open()
        if self._handler is not None or self._pending_init is not None:
            raise RuntimeError("INIT already ran in this execution environment")
        with self._scope(None), self._logs.scope():
            self._pending_init = self._init()
        return self._pending_init

    def _init(self) -> tuple[float, dict[str, Any] | None]:
        module, _ = split_handler(self.config.handler)
        self._ledger.evict([module, *self.config.fresh_modules])
        self._ledger.own(module)
        spec = self.config.handler
        boost = self.config.init_cpu == "boost" and self._cpu.vcpus is not None
        if boost:
            self._cpu.set_vcpus(init_vcpus(self.config.memory_mb))
        try:
            t0 = time.perf_counter()
            limit = INIT_TIMEOUT_S if self.timeouts else _NO_DEADLINE_S
            job = self._worker.run(lambda: load_handler(spec), limit)
            init_ms = (time.perf_counter() - t0) * 1000
        finally:
            if boost and self._cpu.vcpus is not None:
                self._cpu.set_vcpus(self._cpu.vcpus)
        self._ledger.note()
        if job.timed_out:
            return init_ms, timeout_error("", INIT_TIMEOUT_S)
        if job.error is not None:
            if isinstance(job.error, HandlerError):
                err = {"errorMessage": str(job.error), "errorType": job.error.error_type}
                return init_ms, {**err, "requestId": "", "stackTrace": []}
            return init_ms, _error_body(job.error, "")
        self._handler = job.result
        return init_ms, None

    def invoke(
        self,
        event: Any,
        *,
        invocation_type: InvocationType = "RequestResponse",
        request_id: str | None = None,
        client_context: Mapping[str, Any] | None = None,
        identity: Mapping[str, Any] | None = None,
    ) -> Invocation:
        """Invoke the handler with ``event`` (any JSON value) and report like Lambda.

        Raises `PayloadTooLarge` when the Invoke API would refuse the event (the handler does
        not run) and `TypeError` when the event is not JSON-serialisable.
        """
        self._require_open()
        payload = encode_payload(event)
        check_request(payload, invocation_type)
        peak = self._peak
        assert peak is not None
        cfg = self.config
        rid = request_id or new_request_id()
        init_ms: float | None = None
        error: dict[str, Any] | None = None
        response: Any = None
        out = b""
        status: Status = "ok"
        duration_ms = 0.0
        cpu_s = 0.0
        tb_text = ""
        with self._scope(_trace_id()), self._logs.scope(rid):
            peak.reset()
            self._sampler.start()
            try:
                if self._pending_init is not None:
                    (init_ms, error), self._pending_init = self._pending_init, None
                elif self._handler is None:
                    with self._logs.init_phase():
                        init_ms, error = self._init()
                if error is None:
                    handler = self._handler
                    assert handler is not None
                    ctx = LambdaContext.create(
                        function_name=cfg.function_name,
                        function_version=cfg.version,
                        memory_mb=cfg.memory_mb,
                        timeout=cfg.timeout,
                        region=cfg.region,
                        request_id=rid,
                        stream=self.log_stream,
                        clock=self._clock,
                        identity=identity,
                        client_context=client_context,
                    )

                    def call() -> bytes:
                        result = handler(json.loads(payload), ctx)
                        try:
                            return encode_payload(result)
                        except (TypeError, ValueError) as e:
                            raise _MarshalError(f"Unable to marshal response: {e}") from None

                    t0, cpu0 = time.perf_counter(), time.process_time()
                    job = self._worker.run(call, cfg.timeout if self.timeouts else _NO_DEADLINE_S)
                    duration_ms = (time.perf_counter() - t0) * 1000
                    cpu_s = time.process_time() - cpu0
                    self._ledger.note()
                    if job.timed_out:
                        status, error = "timeout", timeout_error(rid, cfg.timeout)
                        duration_ms = min(duration_ms, cfg.timeout * 1000)
                    elif job.error is not None:
                        error = _error_body(job.error, rid)
                        tb_text = "".join(
                            [
                                "Traceback (most recent call last):\n",
                                *_user_frames(job.error).format(),
                                *traceback.format_exception_only(job.error),
                            ]
                        )
                    else:
                        out = job.result
                        if invocation_type == "RequestResponse" and len(out) > SYNC_RESPONSE_LIMIT:
                            error = response_too_large()
                        else:
                            response = json.loads(out)
            finally:
                tmp_peak = self._sampler.stop()
                mem = peak.peak_bytes()
        if error is not None and status == "ok":
            status = "error"
        inv = Invocation(
            request_id=rid,
            status=status,
            response=response,
            error=error,
            duration_ms=duration_ms,
            init_duration_ms=init_ms,
            memory_size_mb=cfg.memory_mb,
            max_memory_used_bytes=mem,
            timeout_s=cfg.timeout,
            tmp_size_mb=cfg.tmp_size_mb,
            tmp_peak_bytes=tmp_peak,
            response_bytes=len(out),
            invocation_type=invocation_type,
            function_version=cfg.version,
            memory_method=peak.method,
            tmp_mode=self.tmp_mode,
            cpu_mode=self._cpu.mode,
            traceback=tb_text,
            cpu_s=cpu_s,
        )
        # Lambda ends the environment after a timeout, a failed INIT or running out of memory.
        if status == "timeout" or self._handler is None or inv.would_be_killed:
            self.reset()
        return inv
