"""A CPU-bound handler for the CPU-share tests: SHA-256 over and over, at INIT and per call.

``CPU_INIT_ROUNDS`` (env) rounds run at import (INIT); ``event["rounds"]`` per invocation;
``event["threads"]`` splits them over that many threads the handler starts (they must be
throttled with it). Each answer carries the CPU seconds the work took (``cpu_s``) and the INIT's
(``init_cpu_s``): the time it would take on one whole, uncontended vCPU.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from typing import Any


def burn(rounds: int) -> str:
    digest = b"lambda"
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()


_t0 = time.thread_time()
burn(int(os.environ.get("CPU_INIT_ROUNDS", "0")))
INIT_CPU_S = time.thread_time() - _t0


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    rounds, threads = int(event.get("rounds", 0)), int(event.get("threads", 0))
    if threads:
        spent: list[float] = []

        def timed() -> None:
            t0 = time.thread_time()
            burn(rounds // threads)
            spent.append(time.thread_time() - t0)

        workers = [threading.Thread(target=timed) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return {"cpu_s": sum(spent), "init_cpu_s": INIT_CPU_S}
    t0 = time.thread_time()
    burn(rounds)
    return {"cpu_s": time.thread_time() - t0, "init_cpu_s": INIT_CPU_S}
