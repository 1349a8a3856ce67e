"""The queue sweep: queue maxsize x object count x consumers, one execution environment each.

Each point runs `bench._handlers.pipeline_handler` (the function's list -> queue -> presign ->
/tmp pipeline, without the upload) in a `sandbox.runtime.Environment`, so every point records
what Lambda would report (Duration, Max Memory Used, /tmp peak) plus the pipeline's own peak
queue depth. Max Memory Used here is the RSS of this pytest process (pytest, the harness and
everything that ran before); ``mem_delta_bytes`` is the peak over a no-op invocation made in the
same environment just before. The memory-vs-N claims come from ``test_handler_bench.py``,
which measures in a fresh process per point.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bench._common import COUNTS, function_env, rounds_for
from bench._datasets import Dataset
from sandbox.runtime import Environment, FunctionConfig
from sandbox.runtime.invocation import Invocation

QUEUE_SIZES = (1, 10, 100, 2000, 10000, 0)  # 0 = unbounded
CONSUMERS = (1, 4, 16)


@pytest.mark.benchmark(group="queue-sweep")
@pytest.mark.parametrize("consumers", CONSUMERS, ids=lambda c: f"c{c}")
@pytest.mark.parametrize("queue_maxsize", QUEUE_SIZES, ids=lambda q: f"q{q or 'inf'}")
@pytest.mark.parametrize("count", COUNTS)
def test_queue_sweep(
    benchmark: Any,
    bench_sandbox: Any,
    dataset: Callable[[int], Dataset],
    count: int,
    queue_maxsize: int,
    consumers: int,
) -> None:
    ds = dataset(count)
    config = FunctionConfig(
        handler="bench._handlers.pipeline_handler",
        memory_mb=3008,
        cpu="full",  # compared with the listing floor, which runs unthrottled
        timeout=900,
        tmp_size_mb=1024,
        env=function_env(bench_sandbox, QUEUE_MAXSIZE=queue_maxsize, CONSUMERS=consumers),
    )
    runs: list[Invocation] = []
    with Environment(config) as env:
        env.init()
        baseline = env.invoke({"noop": True})

        def invoke() -> Invocation:
            inv = env.invoke(ds.event)
            runs.append(inv)
            return inv

        benchmark.pedantic(invoke, rounds=rounds_for(count), warmup_rounds=0)
        memory_method, tmp_mode = env.memory_method, env.tmp_mode
    failed = [inv.error for inv in runs if not inv.ok]
    assert not failed, failed
    assert all(inv.response["written"] == count for inv in runs)
    mem = max(inv.max_memory_used_bytes for inv in runs)
    benchmark.extra_info.update(
        kind="sweep",
        n=count,
        queue_maxsize=queue_maxsize,
        consumers=consumers,
        keys_per_s=round(count / benchmark.stats.stats.median),
        max_memory_used_bytes=mem,
        mem_delta_bytes=mem - baseline.max_memory_used_bytes,
        tmp_peak_bytes=max(inv.tmp_peak_bytes for inv in runs),
        manifest_bytes=runs[-1].response["manifest_bytes"],
        peak_queue_depth=max(inv.response["peak_queue_depth"] for inv in runs),
        duration_ms_median=sorted(inv.duration_ms for inv in runs)[len(runs) // 2],
        memory_method=memory_method,
        tmp_mode=tmp_mode,
    )
