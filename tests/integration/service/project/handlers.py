"""Handlers for the local Lambda service's tests (run inside the service's worker processes)."""

from __future__ import annotations

import base64
import logging
import os
import sys
import time
from typing import Any

CALLS = 0
log = logging.getLogger("handlers")


def echo(event: Any, context: Any) -> Any:
    """Return the event; print to stdout and stderr and log a warning, for the log tests."""
    print(f"echo got {event!r}")
    print("to stderr", file=sys.stderr)
    log.warning("a warning from the handler")
    return {"event": event, "request_id": context.aws_request_id, "pid": os.getpid()}


def boom(event: Any, context: Any) -> Any:
    raise ValueError("boom: the handler failed on purpose")


def sleepy(event: Any, context: Any) -> Any:
    time.sleep(float(event.get("seconds", 5)) if isinstance(event, dict) else 5)
    return "woke up"


def hold(event: Any, context: Any) -> Any:
    """Sleep a little so concurrent calls overlap; say which process served the call."""
    global CALLS
    CALLS += 1
    time.sleep(float(event.get("seconds", 0.5)) if isinstance(event, dict) else 0.5)
    return {"pid": os.getpid(), "calls": CALLS}


def flaky(event: Any, context: Any) -> Any:
    """Fail until the marker file ``event["marker"]`` has ``event["fail"]`` lines, then pass."""
    marker = event["marker"]
    with open(marker, "a") as f:
        f.write(context.aws_request_id + "\n")
    with open(marker) as f:
        attempts = len(f.read().splitlines())
    if attempts <= int(event.get("fail", 99)):
        raise RuntimeError(f"attempt {attempts} fails")
    return {"attempts": attempts}


def web(event: Any, context: Any) -> Any:
    """An API Gateway proxy handler: echoes the body (binary kept) and the query."""
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    return {
        "statusCode": 200,
        "headers": {
            "Content-Type": "application/octet-stream",
            "X-Query": event.get("rawQueryString", ""),
        },
        "body": base64.b64encode(raw).decode(),
        "isBase64Encoded": True,
    }
