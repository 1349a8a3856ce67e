"""One worker process, seen from the service: spawn it, talk to it, stop it.

Spawned from the event loop's thread (the service's main thread) with ``PR_SET_PDEATHSIG``:
the kernel sends SIGKILL to the worker when that thread's process dies, so even a SIGKILLed
service leaves no worker behind (the signal follows the thread that forked, hence the main
thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import signal
import sys
import time
from dataclasses import fields
from typing import Any

from sandbox.runtime import FunctionConfig
from sandbox.service._wire import WireError, encode, read_async

__all__ = ["WorkerFailed", "WorkerProcess"]

_PR_SET_PDEATHSIG = 1
_STOP_GRACE_S = 2.0


class WorkerFailed(Exception):
    """An environment's process could not be started."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class WorkerProcess:
    """One worker process hosting one execution environment."""

    def __init__(self, process: asyncio.subprocess.Process, config: FunctionConfig) -> None:
        self.process = process
        self.config = config
        self.pid = process.pid
        self.last_used = time.monotonic()
        self.invocations = 0

    @classmethod
    async def spawn(cls, config: FunctionConfig, *, tmp_parent: str) -> WorkerProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "sandbox.service.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=config.task_root,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        worker = cls(process, config)
        settings = {f.name: getattr(config, f.name) for f in fields(config)}
        settings["env"] = dict(config.env)
        hello = {"config": settings, "tmp_parent": tmp_parent}
        try:
            worker._send(hello)
            ready = await asyncio.wait_for(worker._receive(), timeout=60)
        except (WireError, TimeoutError, OSError) as e:
            code = await worker.kill()
            raise WorkerFailed(
                f"the execution environment for {config.function_name} did not start "
                f"(exit status {code}: {e}); see the service log"
            ) from e
        if not ready.get("ready"):
            await worker.kill()
            raise WorkerFailed(f"the worker answered {ready!r} instead of ready")
        return worker

    def _send(self, message: dict[str, Any]) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(encode(message))

    async def _receive(self) -> dict[str, Any]:
        stdout = self.process.stdout
        assert stdout is not None
        return await read_async(stdout)

    async def call(self, message: dict[str, Any]) -> dict[str, Any]:
        self._send(message)
        stdin = self.process.stdin
        assert stdin is not None
        await stdin.drain()
        return await self._receive()

    async def stop(self, grace: float = _STOP_GRACE_S) -> None:
        """Close the pipe (the worker ends its environment and exits); kill it if it lingers."""
        if self.process.returncode is None and self.process.stdin is not None:
            with contextlib.suppress(OSError, RuntimeError):
                self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                await self.kill()

    async def kill(self) -> int | None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(self.process.wait(), 5)
        return None
