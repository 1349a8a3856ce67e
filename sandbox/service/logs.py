"""Per-invocation logs: START, the function's output, END, REPORT, as Lambda writes them.

Each function has one log file, ``<run dir>/logs/<function>.log`` (CloudWatch's log group,
locally). The service appends one invocation's block at a time, whole, so concurrent
environments never interleave lines. ``X-Amz-Log-Type: Tail`` returns the last 4 KB of the
same block, base64-encoded, exactly as the Invoke API does.

The worker captures the raw output (the function's logging lines already in Lambda's text or
JSON format, from `sandbox.runtime.logformat`); the platform's lines are added here: START, END
and REPORT in the text format, ``platform.start`` / ``platform.runtimeDone`` /
``platform.report`` records when the function's ``AWS_LAMBDA_LOG_FORMAT`` is ``JSON``, as
Lambda writes them (and as aws-lambda-power-tuning reads either from ``LogResult``).
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sandbox.runtime import Invocation
from sandbox.runtime.logformat import (
    error_line,
    platform_report,
    platform_runtime_done,
    platform_start,
)

__all__ = ["TAIL_BYTES", "FunctionLogs", "follow", "invocation_block", "log_result"]

#: The Invoke API's LogResult holds the last 4 KB of the execution log.
TAIL_BYTES = 4096


def invocation_block(
    inv: Invocation, *, output: str = "", init_output: str = "", json_format: bool = False
) -> str:
    """One invocation's log as Lambda writes it: INIT output, START, output, END, REPORT
    (their JSON platform records with ``json_format``)."""
    lines: list[str] = []
    if init_output:
        lines.append(init_output.rstrip("\n"))
    if json_format:
        lines.append(platform_start(inv.request_id, inv.function_version))
        if output:
            lines.append(output.rstrip("\n"))
        if inv.error is not None:
            lines.append(error_line(inv))
        lines.append(platform_runtime_done(inv))
        lines.append(platform_report(inv))
        return "\n".join(lines) + "\n"
    lines.append(inv.start_line())
    if output:
        lines.append(output.rstrip("\n"))
    if inv.status == "timeout":
        lines.append(f"{_timestamp()} {inv.timeout_line()}")
    elif inv.error is not None and not inv.error.get("errorType", "").startswith("Runtime."):
        # Lambda's Python runtime logs an unhandled exception like this before END.
        message = f"[ERROR] {inv.error.get('errorType')}: {inv.error.get('errorMessage')}"
        lines.append(message + ("\n" + inv.traceback.rstrip("\n") if inv.traceback else ""))
    elif inv.error is not None:
        lines.append(f"[ERROR] {inv.error.get('errorType')}: {inv.error.get('errorMessage')}")
    lines.append(inv.end_line())
    lines.append(inv.report_line() + "\t")  # Lambda ends REPORT with a tab
    return "\n".join(lines) + "\n"


def _timestamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def log_result(block: str) -> str:
    """``X-Amz-Log-Result``: base64 of the last 4 KB of the invocation's log."""
    data = block.encode("utf-8")[-TAIL_BYTES:]
    return base64.b64encode(data).decode("ascii")


class FunctionLogs:
    """The log files of every function, under ``directory`` (created 0700)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        self._lock = threading.Lock()

    def path(self, function: str) -> Path:
        return self.directory / f"{function}.log"

    def append(self, function: str, text: str) -> None:
        """Append ``text`` whole (one write, so readers never see half a block)."""
        data = text.encode("utf-8")
        with self._lock:
            fd = os.open(self.path(function), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)


def follow(path: Path, *, from_start: bool = True, interval: float = 0.2) -> Iterator[str]:
    """The file's text, then what is appended to it, as ``tail -f`` does (waits for the file)."""
    while not path.exists():
        time.sleep(interval)
    with path.open("r", encoding="utf-8", errors="replace") as f:
        if not from_start:
            f.seek(0, os.SEEK_END)
        while True:
            chunk = f.read()
            if chunk:
                yield chunk
            else:
                time.sleep(interval)
