"""Load: 50 concurrent invocations of the sample function against one S3 server (issue 16).

Through worker processes (the local Lambda service of issue 13 will replace them): each
process hosts one execution environment, as a microVM does, runs its cold start, waits at a
barrier, then all 50 invoke at once on the same 1,000-PDF dataset. Every one must succeed
with a complete manifest of its own. The latency of the concurrent (warm) invocations goes
into ``extra_info`` as p50/p95/p99, from the wall clock and from the REPORT Duration, with
the same invocation run alone (one worker) first in the same run, as the baseline.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import statistics
import time
from typing import Any

import pytest

from bench._datasets import Dataset

WORKERS = 50
COUNT = 1_000


def _worker(env_vars: dict[str, str], event: dict[str, str], barrier: Any, out: Any) -> None:
    from sandbox.runtime import Environment, FunctionConfig

    config = FunctionConfig(env=env_vars, timeout=600, task_root=os.getcwd())
    try:
        with Environment(config) as env:
            cold = env.invoke(event)
            barrier.wait(timeout=600)
            began = time.perf_counter()
            inv = env.invoke(event)
            wall = time.perf_counter() - began
        out.put(
            {
                "ok": inv.ok and cold.ok,
                "error": inv.error or cold.error,
                "count": (inv.response or {}).get("count"),
                "manifest_key": (inv.response or {}).get("manifest_key"),
                "wall_ms": wall * 1000,
                "duration_ms": inv.duration_ms,
            }
        )
    except BaseException as e:
        out.put({"ok": False, "error": repr(e)})
        raise


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _burst(bench_sandbox: Any, data: Dataset, workers: int = WORKERS) -> list[dict[str, Any]]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(workers)
    out = ctx.Queue()
    env_vars = dict(bench_sandbox.env())
    procs = [
        ctx.Process(target=_worker, args=(env_vars, data.event, barrier, out), daemon=True)
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    try:
        results = [out.get(timeout=900) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
                p.join()
    return results


@pytest.mark.benchmark(group="load")
def test_fifty_concurrent_invocations(benchmark: Any, bench_sandbox: Any, dataset: Any) -> None:
    data = dataset(COUNT)
    (solo,) = _burst(bench_sandbox, data, workers=1)
    assert solo["ok"], solo["error"]
    results = benchmark.pedantic(_burst, args=(bench_sandbox, data), rounds=1, iterations=1)
    failed = [r for r in results if not r["ok"]]
    assert failed == [], failed[:3]
    keys = [r["manifest_key"] for r in results]
    assert len(set(keys)) == WORKERS  # fifty distinct manifests
    assert all(r["count"] == COUNT for r in results)
    client = bench_sandbox.client()
    for key in keys:  # each one complete
        body = client.get_object(Bucket=data.bucket, Key=key)["Body"].read().decode()
        assert len({json.loads(line)["key"] for line in body.splitlines()}) == COUNT
    wall = [r["wall_ms"] for r in results]
    duration = [r["duration_ms"] for r in results]
    for name, values in (("wall", wall), ("duration", duration)):
        for q in (50, 95, 99):
            benchmark.extra_info[f"{name}_p{q}_ms"] = round(_percentile(values, q), 1)
    benchmark.extra_info["solo_wall_ms"] = round(solo["wall_ms"], 1)
    benchmark.extra_info["p50_over_solo"] = round(_percentile(wall, 50) / solo["wall_ms"], 1)
    benchmark.extra_info["workers"] = WORKERS
    benchmark.extra_info["objects"] = COUNT
    print("\n50 concurrent invocations:", json.dumps(benchmark.extra_info))
