"""Handlers that spend CPU, or do not, for the CPU-seconds figure of an invocation."""

from __future__ import annotations

import time
from typing import Any


def burn(event: dict[str, Any], context: Any) -> dict[str, float]:
    """Spin until this thread has used ``event["cpu_s"]`` CPU seconds (not wall seconds)."""
    start = time.thread_time()
    while time.thread_time() - start < event["cpu_s"]:
        pass
    return {"used": time.thread_time() - start}


def nap(event: dict[str, Any], context: Any) -> dict[str, float]:
    time.sleep(event["s"])
    return {}
