"""Test handlers that probe the runtime: memory, /tmp, time, env vars, errors."""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

# Module-level state: counts invocations in one execution environment (warm reuse).
CALLS = 0
INIT_AT = time.monotonic()


def count(event: Any, context: Any) -> dict[str, Any]:
    global CALLS
    CALLS += 1
    return {"calls": CALLS, "init_at": INIT_AT}


def echo(event: Any, context: Any) -> Any:
    return event


def environ(event: Any, context: Any) -> dict[str, Any]:
    names = event.get("names", []) if isinstance(event, dict) else []
    return {
        "env": {n: os.environ.get(n) for n in names},
        "cwd": os.getcwd(),
        "tempdir": tempfile.gettempdir(),
    }


def context_attrs(event: Any, context: Any) -> dict[str, Any]:
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": vars(context.identity),
        "client_context": None if context.client_context is None else "set",
        "remaining": context.get_remaining_time_in_millis(),
    }


def allocate(event: Any, context: Any) -> dict[str, Any]:
    """Allocate and touch ``event["mb"]`` MB, then free it before returning."""
    block = bytearray(event["mb"] * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    size = len(block)
    del block
    return {"allocated": size}


def write_tmp(event: Any, context: Any) -> dict[str, Any]:
    """Write ``event["mb"]`` MB to a file in the temp dir in 1 MB chunks, then delete it."""
    path = os.path.join(tempfile.gettempdir(), "blob.bin")
    chunk = b"x" * (1024 * 1024)
    try:
        with open(path, "wb") as f:
            for _ in range(event["mb"]):
                f.write(chunk)
                f.flush()
    finally:
        if event.get("delete", True) and os.path.exists(path):
            os.unlink(path)
    return {"written_mb": event["mb"]}


def spin(event: Any, context: Any) -> None:
    """Busy-loop until the runtime stops it."""
    while True:
        pass


def spin_if(event: Any, context: Any) -> dict[str, int]:
    """Busy-loop when asked to; otherwise report how many calls this module has seen."""
    global CALLS
    CALLS += 1
    while event.get("spin"):
        pass
    return {"calls": CALLS}


def boom(event: Any, context: Any) -> None:
    raise ValueError("boom: " + str(event.get("why", "")))


def set_env(event: Any, context: Any) -> None:
    os.environ["LEAKED_BY_HANDLER"] = "yes"


def unserialisable(event: Any, context: Any) -> Any:
    return {"when": object()}


def big_response(event: Any, context: Any) -> str:
    return "A" * event["bytes"]
