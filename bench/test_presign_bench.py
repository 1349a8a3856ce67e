"""Presigning speed: botocore's generate_presigned_url against s3_manifest.presign.

Every benchmark round signs ``BATCH`` URLs (1000), so pytest-benchmark's times in **ms** read
directly as **µs per URL**; ``extra_info["us_per_url"]`` says the same, and each fast entry
records ``speedup_vs_botocore`` against the botocore entry run just before it.

    .venv/bin/python -m pytest bench/test_presign_bench.py --benchmark-group-by=group

No server is needed: presigning is local. Same client configuration as the Lambda function on
the sandbox: custom endpoint, path-style, SigV4, temporary credentials with a session token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import aioboto3
import boto3
import pytest
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials

from s3_manifest.presign import (
    PROBE_KEY,
    BucketLocation,
    Presigner,
    SigV4QueryPresigner,
    make_presigner,
)

BATCH = 1000
ENDPOINT = "http://127.0.0.1:9000"
REGION = "us-east-1"
BUCKET = "my-company-reports-bucket"
CREDS = ReadOnlyCredentials(
    "ASIAEXAMPLEEXAMPLE01",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "IQoJb3JpZ2luX2VjEXAMPLE/+=" * 40,  # Lambda session tokens are ~1 KB
    None,
)
CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "path"})
KEYS = [f"reports/2025/{i % 12 + 1:02d}/invoice-{i:06d}.pdf" for i in range(BATCH)]
EXPIRES = 3600

_us_per_url: dict[str, float] = {}


def _record(benchmark: Any, name: str, baseline: str | None = None) -> None:
    """µs per URL (mean and min over rounds) and, for ours, the ratio to botocore's."""
    stats = benchmark.stats.stats
    mean, best = stats.mean * 1e6 / BATCH, stats.min * 1e6 / BATCH
    _us_per_url[name] = mean
    _us_per_url[f"{name}_min"] = best
    benchmark.extra_info["us_per_url"] = round(mean, 3)
    benchmark.extra_info["us_per_url_min"] = round(best, 3)
    if baseline is not None and baseline in _us_per_url:
        benchmark.extra_info["speedup_vs_botocore"] = round(_us_per_url[baseline] / mean, 1)
        speedup_min = _us_per_url[f"{baseline}_min"] / best
        benchmark.extra_info["speedup_vs_botocore_min"] = round(speedup_min, 1)


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as r:
        yield r


@pytest.fixture(scope="module")
def async_client(runner: asyncio.Runner) -> Iterator[Any]:
    session = aioboto3.Session(
        aws_access_key_id=CREDS.access_key,
        aws_secret_access_key=CREDS.secret_key,
        aws_session_token=CREDS.token,
        region_name=REGION,
    )
    context = session.client("s3", endpoint_url=ENDPOINT, config=CONFIG)
    client = runner.run(context.__aenter__())
    try:
        yield client
    finally:
        runner.run(context.__aexit__(None, None, None))


def _batch_async(runner: asyncio.Runner, presigner: Presigner) -> Callable[[], list[str]]:
    async def sign_all() -> list[str]:
        return [await presigner.presign_get(BUCKET, key, EXPIRES) for key in KEYS]

    return lambda: runner.run(sign_all())


def _sync_client() -> Any:
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=CREDS.access_key,
        aws_secret_access_key=CREDS.secret_key,
        aws_session_token=CREDS.token,
        config=CONFIG,
    )


@pytest.mark.benchmark(group="presign")
def test_botocore_sync_client(benchmark: Any) -> None:
    client = _sync_client()

    def sign_all() -> list[str]:
        return [
            client.generate_presigned_url(
                "get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=EXPIRES
            )
            for key in KEYS
        ]

    urls = benchmark.pedantic(sign_all, rounds=5, warmup_rounds=1)
    assert len(urls) == BATCH
    _record(benchmark, "botocore_sync")
    client.close()


@pytest.mark.benchmark(group="presign")
def test_fast_sync_signer(benchmark: Any) -> None:
    client = _sync_client()
    probe = client.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": PROBE_KEY}, ExpiresIn=EXPIRES
    )
    client.close()
    location = BucketLocation.from_presigned_url(probe, PROBE_KEY)
    signer = SigV4QueryPresigner()

    def sign_all() -> list[str]:
        return [signer.presign_get(location, key, EXPIRES, CREDS) for key in KEYS]

    urls = benchmark.pedantic(sign_all, rounds=200, warmup_rounds=5)
    assert len(urls) == BATCH
    _record(benchmark, "fast_sync", baseline="botocore_sync")


@pytest.mark.benchmark(group="presign")
def test_botocore_async_client(benchmark: Any, runner: asyncio.Runner, async_client: Any) -> None:
    presigner = runner.run(make_presigner(async_client, mode="botocore"))
    urls = benchmark.pedantic(_batch_async(runner, presigner), rounds=5, warmup_rounds=1)
    assert len(urls) == BATCH
    _record(benchmark, "botocore_async")


@pytest.mark.benchmark(group="presign")
def test_fast_async_presigner(benchmark: Any, runner: asyncio.Runner, async_client: Any) -> None:
    presigner = runner.run(make_presigner(async_client, mode="fast"))
    urls = benchmark.pedantic(_batch_async(runner, presigner), rounds=100, warmup_rounds=5)
    assert presigner.fast and isinstance(presigner.buckets[BUCKET], BucketLocation)
    assert len(urls) == BATCH
    _record(benchmark, "fast_async", baseline="botocore_async")
