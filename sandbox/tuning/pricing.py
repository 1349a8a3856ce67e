"""Lambda prices, memory settings and the memory recommendation (pure functions, no I/O).

The one place for prices and setting names: ``invoke.py --tune`` (`sandbox.tuning`) and the
benchmark report (``bench/report.py``) both read them from here.

Prices: us-east-1, on-demand, as published by AWS (GB-second by architecture, requests).
Lambda bills duration in 1 ms steps, and since August 2025 the INIT phase of on-demand
functions is billed too: a cold invocation costs (Init Duration + Duration) x memory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "ARCHES",
    "ARCH_PRICES",
    "BENCH_SETTINGS",
    "HEADROOM",
    "MEMORY_SETTINGS",
    "REQUEST_PRICE",
    "TUNE_SETTINGS",
    "billed_ms",
    "invocation_cost",
    "recommend_memory",
]

ARCH_PRICES = {"x86_64": 0.0000166667, "arm64": 0.0000133334}  # USD per GB-second
REQUEST_PRICE = 0.20 / 1_000_000  # USD per request
# Settings in the cost table (Lambda accepts any whole MB from 128 to 10240).
MEMORY_SETTINGS: tuple[int, ...] = (128, 256, 512, 1024, 1769, 2048, 3008, 4096, 10240)
# What `invoke.py --tune` suggests, and what the benchmarks measure with the CPU share.
TUNE_SETTINGS: tuple[int, ...] = (128, 256, 512, 1024, 1769, 3008)
BENCH_SETTINGS: tuple[int, ...] = (128, 512, 1769, 3008)
ARCHES: tuple[str, ...] = tuple(ARCH_PRICES)
HEADROOM = 1.2  # recommend >= Max Memory Used x 1.2
_MIB = 1024 * 1024


def billed_ms(duration_ms: float, init_ms: float = 0.0) -> int:
    """Billed Duration: Duration (plus Init Duration on a cold start), rounded up to 1 ms."""
    if duration_ms < 0 or init_ms < 0:
        raise ValueError(f"durations must be >= 0, got {duration_ms} ms and {init_ms} ms")
    return max(1, math.ceil(duration_ms + init_ms))


def invocation_cost(
    memory_mb: int, duration_ms: float, *, arch: str = "x86_64", init_ms: float = 0.0
) -> float:
    """USD for one invocation: GB-seconds at the architecture's price, plus the request."""
    if arch not in ARCH_PRICES:
        raise ValueError(f"architecture {arch!r} is not one of {sorted(ARCH_PRICES)}")
    gb_seconds = memory_mb / 1024 * billed_ms(duration_ms, init_ms) / 1000
    return gb_seconds * ARCH_PRICES[arch] + REQUEST_PRICE


def recommend_memory(
    max_memory_used_bytes: int,
    *,
    headroom: float = HEADROOM,
    settings: Sequence[int] = MEMORY_SETTINGS,
) -> int:
    """The smallest setting (MB) >= Max Memory Used x ``headroom``."""
    needed_mb = max_memory_used_bytes / _MIB * headroom
    for setting in sorted(settings):
        if setting >= needed_mb:
            return setting
    raise ValueError(
        f"Max Memory Used {max_memory_used_bytes / _MIB:.0f} MB x {headroom} = {needed_mb:.0f} MB "
        f"does not fit the largest setting ({max(settings)} MB): process fewer objects per "
        "invocation or lower QUEUE_MAXSIZE"
    )
