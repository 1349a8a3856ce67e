"""Seeded data the benchmarks list: one prefix per object count, seeded once and reused.

Every dataset lives in ``BUCKET`` under ``bench/<label>/`` with its own ground truth object
(``seed/bench-<label>.json``). When that ground truth already names the right count, the
dataset is reused as is (no listing, no body regeneration); otherwise the idempotent seeder
uploads what is missing. PDFs are the smallest the seeder makes (~2.6 KB): object size does not
change listing or presigning, and small bodies keep a fresh seed of 100,000 objects to minutes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from seed import SeedError, SizeRange, load_expected, seed_bucket

__all__ = ["BUCKET", "Dataset", "ensure_dataset", "label"]

BUCKET = "bench-manifest"
SIZES = SizeRange(1024, 1024)  # the template's floor is ~2.6 KB whatever is asked
CONCURRENCY = 32


def label(count: int) -> str:
    """1000 -> "1k", 100000 -> "100k"."""
    return f"{count // 1000}k" if count % 1000 == 0 else str(count)


@dataclass(frozen=True)
class Dataset:
    bucket: str
    prefix: str
    count: int
    reused: bool
    seed_seconds: float  # 0 when reused
    objects_per_second: float  # seeding rate when seeded in this run, else 0

    @property
    def event(self) -> dict[str, str]:
        """A direct-invoke event for the function."""
        return {"bucket": self.bucket, "prefix": self.prefix}


def ensure_dataset(sandbox: Any, count: int, *, bucket: str = BUCKET) -> Dataset:
    """The dataset of ``count`` PDFs on ``sandbox``, seeding it if it is not there yet."""
    name = label(count)
    prefix, truth_key = f"bench/{name}/", f"seed/bench-{name}.json"
    try:
        expected = load_expected(sandbox.client(), bucket, truth_key)
    except SeedError:
        expected = None  # no bucket or no ground truth yet: seed below
    if expected is not None and expected.count == count and expected.prefix == prefix:
        return Dataset(bucket, prefix, count, reused=True, seed_seconds=0.0, objects_per_second=0)
    t0 = time.perf_counter()
    result = seed_bucket(
        sandbox.endpoint,
        bucket=bucket,
        prefix=prefix,
        count=count,
        noise=0,
        sizes=SIZES,
        concurrency=CONCURRENCY,
        expected_key=truth_key,
        prune=True,
    )
    if result.expected.count != count:
        raise SeedError(
            f"seeding s3://{bucket}/{prefix} left {result.expected.count} PDFs, wanted {count}; "
            "remove the bench sandbox "
            "(SANDBOX_STATE_DIR=.sandbox/bench python -m sandbox down --purge) and run again"
        )
    return Dataset(
        bucket,
        prefix,
        count,
        reused=False,
        seed_seconds=time.perf_counter() - t0,
        objects_per_second=result.objects_per_second,
    )
