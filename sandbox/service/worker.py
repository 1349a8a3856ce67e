"""``python -m sandbox.service.worker``: one Lambda execution environment in its own process.

The service starts one of these per execution environment. It hosts exactly one
`sandbox.runtime.Environment` and runs the handler in-process the way ``invoke.py`` does (same
INIT, context, REPORT figures, memory measurement and size-limited /tmp), so ``os.environ``,
the cwd, ``sys.modules`` (and the CPU share, where the runtime sets one) belong to one
environment, as a microVM's do on Lambda.

Process plumbing, decided here:

* The protocol (`sandbox.service._wire`) runs on copies of fds 0 and 1 taken at start; fd 0
  then reads /dev/null and fds 1/2 go to the service's log. During an invocation fds 1 and 2
  point at an in-memory file, so everything the handler writes (print, logging, C libraries,
  subprocesses) is captured for that invocation only and sent back with the result.
* SIGINT is ignored: Ctrl-C reaches the service, which stops its workers. SIGTERM ends the
  worker cleanly (its /tmp unmounted). The service also sets ``PR_SET_PDEATHSIG``, so a worker
  whose service died is killed by the kernel.
* As root the worker first moves into a private mount namespace: the tmpfs it mounts for /tmp
  then exists only inside it and vanishes with the process, even after a SIGKILL.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import signal
import sys
import tempfile
from dataclasses import asdict
from types import FrameType, TracebackType
from typing import Any

from sandbox.runtime import Environment, FunctionConfig
from sandbox.service._wire import WireError, read_sync, write_sync

__all__ = ["OutputCapture", "main"]

_CLONE_NEWNS = 0x00020000
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
#: Output past this is cut from the middle of one invocation's log (Lambda keeps all of it;
#: a local log file that grows by gigabytes helps nobody).
MAX_OUTPUT = 4 * 1024 * 1024


class OutputCapture:
    """Points fds 1 and 2 at an in-memory file inside ``with``; ``text`` is what was written."""

    def __init__(self) -> None:
        if hasattr(os, "memfd_create"):
            self._fd = os.memfd_create("lambda-invocation-log")
        else:  # pragma: no cover - not Linux
            with tempfile.TemporaryFile() as f:
                self._fd = os.dup(f.fileno())
        self._saved = (os.dup(1), os.dup(2))
        self.text = ""

    def __enter__(self) -> OutputCapture:
        _flush()
        os.dup2(self._fd, 1)
        os.dup2(self._fd, 2)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _flush()
        os.dup2(self._saved[0], 1)
        os.dup2(self._saved[1], 2)
        size = os.lseek(self._fd, 0, os.SEEK_END)
        if size > MAX_OUTPUT:
            half = MAX_OUTPUT // 2
            head = os.pread(self._fd, half, 0)
            tail = os.pread(self._fd, half, size - half)
            note = f"\n[... {size - 2 * half} bytes of output cut by the local service ...]\n"
            data = head + note.encode() + tail
        else:
            data = os.pread(self._fd, size, 0)
        os.ftruncate(self._fd, 0)
        os.lseek(self._fd, 0, os.SEEK_SET)
        self.text = data.decode("utf-8", errors="replace")


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _private_mounts() -> None:
    """As root: a mount namespace of our own, so /tmp's tmpfs cannot outlive this process."""
    if sys.platform != "linux" or os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWNS) != 0:
        return
    libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None)


def _on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _invoke(env: Environment, message: dict[str, Any], capture: OutputCapture) -> dict[str, Any]:
    # The function's logging lines (Lambda's text or JSON format, with the request id) come
    # from the environment's own root-logger handler (`sandbox.runtime.logformat`), as they do
    # in invoke.py; the worker adds none of its own.
    init_output = ""
    if env.needs_init:
        with capture:
            env.init()
        init_output = capture.text
    with capture:
        inv = env.invoke(
            json.loads(message["payload"]),
            invocation_type=message.get("invocation_type", "RequestResponse"),
            request_id=message["request_id"],
            client_context=message.get("client_context"),
        )
    # Lambda ends the environment after a timeout, a failed INIT or memory over the size.
    discard = inv.status == "timeout" or env.needs_init or inv.would_be_killed
    return {
        "invocation": asdict(inv),
        "init_output": init_output,
        "output": capture.text,
        "discard": discard,
    }


def serve(proto_in: int, proto_out: int) -> int:
    hello = read_sync(proto_in)
    settings = hello["config"]
    settings["fresh_modules"] = tuple(settings.get("fresh_modules", ()))
    config = FunctionConfig(**settings)
    if hello.get("tmp_parent"):
        tempfile.tempdir = hello["tmp_parent"]  # where the environment's /tmp dir is made
    capture = OutputCapture()
    with Environment(config) as env:
        write_sync(proto_out, {"ready": True, "pid": os.getpid(), "tmp_mode": env.tmp_mode})
        while True:
            try:
                message = read_sync(proto_in)
            except WireError:
                return 0  # the service went away or closed us: end the environment
            if message.get("op") == "stop":
                return 0
            write_sync(proto_out, _invoke(env, message, capture))


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    proto_in, proto_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)  # between invocations, anything printed goes to the service's log
    sys.stdout = io.TextIOWrapper(
        os.fdopen(1, "wb", closefd=False), encoding="utf-8", line_buffering=True
    )
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    _private_mounts()
    return serve(proto_in, proto_out)


if __name__ == "__main__":
    sys.exit(main())
