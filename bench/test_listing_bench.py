"""The listing methods the function could use, on the same prefixes, in one run (issue 12).

Wall time (pytest-benchmark) and CPU seconds of this process (``cpu_s_median``) per method:

* ``paginator``: botocore's ``list_objects_v2`` paginator, default parser (``LISTER=botocore``);
* ``paginator-iso``: the same with botocore's supported parser hook, timestamps read by
  ``datetime.fromisoformat`` (``set_parser_defaults(timestamp_parser=...)``);
* ``lean``: ``s3_manifest.listing.pages`` (the function's default): signed here, sent over the
  client's aiobotocore HTTP session, parsed with ElementTree;
* ``raw-aiobotocore``: the server floor's raw GETs sent over the aiobotocore HTTP session, to
  compare with the floor over a bare aiohttp session (``test_listing_baselines``): what that
  transport costs.

Compare with ``listing-baselines`` (server floor, obstore) from the same run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiobotocore.session import get_session

from bench._common import DEFAULT_COUNTS, rounds_for
from bench._datasets import Dataset
from bench._listing import function_list, iso_paginator_list, iso_session, server_floor

METHODS = ["paginator", "paginator-iso", "lean", "raw-aiobotocore"]


@pytest.mark.benchmark(group="listing-methods")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("count", DEFAULT_COUNTS)
def test_listing_methods(
    benchmark: Any, bench_sandbox: Any, dataset: Callable[[int], Dataset], count: int, method: str
) -> None:
    ds = dataset(count)
    session = iso_session() if method == "paginator-iso" else get_session()
    cpu: list[float] = []

    async def one() -> tuple[int, int]:
        if method == "paginator-iso":
            return await iso_paginator_list(session, bench_sandbox, ds.bucket, ds.prefix)
        if method == "raw-aiobotocore":
            return await server_floor(session, bench_sandbox, ds.bucket, ds.prefix, "aiobotocore")
        lister = "fast" if method == "lean" else "botocore"
        return await function_list(session, bench_sandbox, ds.bucket, ds.prefix, lister)

    def run() -> tuple[int, int]:
        c0 = time.process_time()
        result = asyncio.run(one())
        cpu.append(time.process_time() - c0)
        return result

    keys, pages = benchmark.pedantic(run, rounds=rounds_for(count), warmup_rounds=1)
    assert keys == count
    benchmark.extra_info.update(
        kind=f"list-{method}",
        n=count,
        pages=pages,
        cpu_s_median=round(sorted(cpu[1:])[len(cpu[1:]) // 2], 4),  # without the warm-up
        keys_per_s=round(count / benchmark.stats.stats.median),
    )
