"""Scale: /tmp, memory and wall time against N with the multipart manifest, and continuation.

* ``scale``: the real handler in a fresh process per point (`bench._probe`), INIT done, a
  baseline no-op, then one measured run, at 10k (default grid), 100k and 1M objects
  (``make bench-full``). With ``MANIFEST_PART_MB=8``, /tmp should peak at one part whatever N
  is (aim: <= part + 1 MiB) and memory should not grow with N (aim: +<= 10 MiB from 10k to 1M).
* ``continuation``: the same dataset listed by `sandbox.stepfunctions.follow` (the ASL loop)
  with a short timeout that forces several rounds, against one uninterrupted invocation in the
  same run at the same memory (so the same CPU share): rounds, and the sum of the rounds'
  durations over the single run's (aim: <= 1.15). ``make bench-full`` adds 128 MB's CPU share
  (1/14 vCPU): 100k objects with a 20 s timeout against one run, and 1M objects with Lambda's
  longest timeout (900 s), where the point is how many rounds a million keys need at the
  smallest setting (no single run to compare: it could not finish within 900 s if the rounds
  did not).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bench._common import MIB, function_env
from bench._datasets import Dataset
from bench.test_handler_bench import _probe
from sandbox.runtime import Environment, FunctionConfig
from sandbox.stepfunctions import follow

PART_MB = 8
SCALE_COUNTS = (
    10_000,
    pytest.param(100_000, marks=pytest.mark.full, id="100000"),
    # The 1M point seeds a million objects on first use (the fastest seeding the sandbox
    # has), then reuses them; it belongs to `make bench-full` only.
    pytest.param(1_000_000, marks=[pytest.mark.full, pytest.mark.timeout(6 * 3600)], id="1000000"),
)


@pytest.mark.benchmark(group="scale")
@pytest.mark.parametrize("count", SCALE_COUNTS)
def test_scale_tmp_memory_and_time_against_n(
    benchmark: Any,
    bench_sandbox: Any,
    dataset: Callable[[int], Dataset],
    bench_meta: dict[str, Any],
    count: int,
) -> None:
    ds = dataset(count)
    spec = {
        "handler": "lambda_function.handler",
        "env": function_env(bench_sandbox, MANIFEST_PART_MB=PART_MB),
        "event": ds.event,
        "memory_mb": 3008,
        "tmp_size_mb": 512,  # Lambda's default: a 1M manifest (~490 MB) would not fit whole
    }
    result = benchmark.pedantic(_probe, args=(spec,), rounds=1, iterations=1)
    run, base = result["runs"][0], result["baseline"]
    assert run["response"]["count"] == count
    bench_meta["memory_method"], bench_meta["tmp_mode"] = (
        result["memory_method"],
        result["tmp_mode"],
    )
    benchmark.extra_info.update(
        kind="scale",
        n=count,
        part_mb=PART_MB,
        duration_ms=run["duration_ms"],
        keys_per_s=round(count / (run["duration_ms"] / 1000)),
        max_memory_used_bytes=run["max_memory_used_bytes"],
        mem_delta_bytes=run["max_memory_used_bytes"] - base["max_memory_used_bytes"],
        tmp_peak_bytes=run["tmp_peak_bytes"],
        tmp_aim_met=run["tmp_peak_bytes"] <= (PART_MB + 1) * MIB,
    )


@pytest.mark.benchmark(group="continuation")
@pytest.mark.parametrize(
    ("count", "timeout", "memory_mb"),
    [
        # 5 s, not 3 s: at 128 MB's share a one-page round needs ~1.6-1.8 s in a fresh process
        # and more inside pytest (not measured why; garbage collections of the host process's
        # heap on the throttled thread are a suspect), against the 2.5 s a 3 s round has
        # before its hard stop. At 3 s two runs in
        # three ended in RunAborted or the runtime's timeout: a point on that edge measures
        # noise, not continuation's overhead.
        (10_000, 5.0, 128),
        pytest.param(100_000, 10.0, 1024, marks=pytest.mark.full, id="100000-10.0-1024"),
        pytest.param(100_000, 20.0, 128, marks=pytest.mark.full, id="100000-20.0-128"),
        pytest.param(
            1_000_000,
            900.0,
            128,
            marks=[pytest.mark.full, pytest.mark.timeout(3 * 3600)],
            id="1000000-900.0-128",
        ),
    ],
)
def test_continuation_rounds_against_one_uninterrupted_run(
    benchmark: Any,
    bench_sandbox: Any,
    dataset: Callable[[int], Dataset],
    count: int,
    timeout: float,
    memory_mb: int,
) -> None:
    ds = dataset(count)
    env = function_env(bench_sandbox)
    single = None
    if timeout < 900:  # at 900 s the rounds are the point: see the module's docstring
        with Environment(FunctionConfig(memory_mb=memory_mb, timeout=900, env=env)) as lam:
            lam.init()
            single = lam.invoke(ds.event)
        assert single.ok, single.error
    rounds: list[Any] = []

    def run() -> None:
        config = FunctionConfig(memory_mb=memory_mb, timeout=timeout, env=env)
        with Environment(config) as lam:
            result = follow(lam, ds.event, out=None)
        assert result.status == "SUCCEEDED", result.cause
        assert result.output["count"] == count
        rounds.append(result)

    benchmark.pedantic(run, rounds=1, iterations=1)
    result = rounds[-1]
    # The first round's INIT is billed but is not part of the listing's work; compare the
    # invocations' own durations (the single run above is warm too: INIT done before it).
    total_ms = sum(inv.duration_ms for inv in result.invocations)
    benchmark.extra_info.update(
        kind="continuation",
        n=count,
        timeout_s=timeout,
        memory_mb=memory_mb,
        cpu_mode=result.invocations[0].cpu_mode,
        rounds=result.rounds,
        rounds_duration_ms=round(total_ms, 1),
        single_duration_ms=round(single.duration_ms, 1) if single else None,
        ratio=round(total_ms / single.duration_ms, 3) if single else None,
        tmp_peak_bytes=max(inv.tmp_peak_bytes for inv in result.invocations),
        totals=json.dumps(result.totals()),
    )
