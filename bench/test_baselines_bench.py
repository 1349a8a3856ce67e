"""Baselines the function is compared with, measured in the same run on the same data.

* ``listing floor``: what no implementation can beat: open a client from a session kept across
  rounds (as the warm handler does: it caches its session, not its client) and page through
  ``list_objects_v2``, nothing else.
* ``server floor``: the same ListObjectsV2 pages fetched raw over HTTP keep-alive, not parsed
  (`bench._listing.server_floor`): what the server itself delivers. The lean listing aims at
  <= 1.3x of it, handler included.
* ``obstore``: obstore's list (Rust object_store), list only: a compiled client's pace.
* ``naive``: the obvious synchronous version: boto3, list everything into a list, presign each
  key with botocore, then write the manifest to a temp file and upload it.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from aiobotocore.session import get_session

from bench._common import COUNTS, DEFAULT_COUNTS, rounds_for, s3_config
from bench._datasets import Dataset
from bench._listing import client_for, obstore_list, server_floor


async def _list_all(session: Any, sandbox: Any, ds: Dataset) -> tuple[int, int]:
    async with client_for(session, sandbox) as client:
        keys = pages = 0
        paginator = client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=ds.bucket, Prefix=ds.prefix):
            pages += 1
            keys += len(page.get("Contents", ()))
        return keys, pages


@pytest.mark.benchmark(group="listing-floor")
@pytest.mark.parametrize("count", [*DEFAULT_COUNTS, 100_000])
def test_listing_floor(
    benchmark: Any, bench_sandbox: Any, dataset: Callable[[int], Dataset], count: int
) -> None:
    ds = dataset(count)
    session = get_session()
    keys, pages = benchmark.pedantic(
        lambda: asyncio.run(_list_all(session, bench_sandbox, ds)),
        rounds=rounds_for(count) if count <= 10_000 else 2,
        warmup_rounds=1 if count <= 10_000 else 0,
    )
    assert keys == count
    benchmark.extra_info.update(
        kind="floor",
        n=count,
        pages=pages,
        keys_per_s=round(count / benchmark.stats.stats.median),
    )


@pytest.mark.benchmark(group="listing-baselines")
@pytest.mark.parametrize("method", ["server-floor", "obstore"])
@pytest.mark.parametrize("count", [*DEFAULT_COUNTS, 100_000])
def test_listing_baselines(
    benchmark: Any, bench_sandbox: Any, dataset: Callable[[int], Dataset], count: int, method: str
) -> None:
    ds = dataset(count)
    session = get_session()
    cpu: list[float] = []

    def run() -> tuple[int, int]:
        c0 = time.process_time()
        if method == "obstore":
            result = asyncio.run(obstore_list(bench_sandbox, ds.bucket, ds.prefix))
        else:
            result = asyncio.run(
                server_floor(session, bench_sandbox, ds.bucket, ds.prefix, "aiohttp")
            )
        cpu.append(time.process_time() - c0)
        return result

    warmup = 1 if count <= 10_000 else 0
    keys, pages = benchmark.pedantic(
        run, rounds=rounds_for(count) if count <= 10_000 else 2, warmup_rounds=warmup
    )
    assert keys == count
    timed = sorted(cpu[warmup:])
    benchmark.extra_info.update(
        kind=method,
        n=count,
        pages=pages,
        cpu_s_median=round(timed[len(timed) // 2], 4),
        keys_per_s=round(count / benchmark.stats.stats.median),
    )


def _naive(sandbox: Any, ds: Dataset, workdir: Path) -> int:
    e = sandbox.endpoint
    client = boto3.session.Session().client(
        "s3",
        region_name=e.region,
        endpoint_url=e.url,
        aws_access_key_id=e.access_key,
        aws_secret_access_key=e.secret_key,
        aws_session_token=e.session_token,
        config=s3_config(sandbox),
    )
    try:
        objects: list[dict[str, Any]] = []
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=ds.bucket, Prefix=ds.prefix
        ):
            objects.extend(page.get("Contents", []))
        pdfs = [o for o in objects if o["Key"].lower().endswith(".pdf")]
        urls = [
            client.generate_presigned_url(
                "get_object", Params={"Bucket": ds.bucket, "Key": o["Key"]}, ExpiresIn=3600
            )
            for o in pdfs
        ]
        run_id = uuid.uuid4()
        path = workdir / f"{run_id}.jsonl"
        with open(path, "w", encoding="utf-8") as out:
            for o, url in zip(pdfs, urls, strict=True):
                record = {
                    "key": o["Key"],
                    "size": o["Size"],
                    "etag": o["ETag"].strip('"'),
                    "last_modified": o["LastModified"].isoformat(),
                    "url": url,
                }
                out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        with open(path, "rb") as body:
            client.put_object(
                Bucket=ds.bucket,
                Key=f"manifests/naive-{run_id}.jsonl",
                Body=body,
                ContentType="application/x-ndjson",
            )
        path.unlink()
        return len(pdfs)
    finally:
        client.close()


@pytest.mark.benchmark(group="naive")
@pytest.mark.parametrize("count", COUNTS)
def test_naive_synchronous_version(
    benchmark: Any, bench_sandbox: Any, dataset: Callable[[int], Dataset], count: int
) -> None:
    ds = dataset(count)
    with tempfile.TemporaryDirectory(prefix="bench-naive-") as tmp:
        written = benchmark.pedantic(
            _naive, args=(bench_sandbox, ds, Path(tmp)), rounds=1 if count > 1000 else 3
        )
    assert written == count
    benchmark.extra_info.update(
        kind="naive", n=count, keys_per_s=round(count / benchmark.stats.stats.median)
    )
