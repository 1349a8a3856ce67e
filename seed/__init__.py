"""Seed an S3 bucket with fake report PDFs, noise, and the ground truth the function must match.

    from seed import seed_bucket, load_expected
    result = seed_bucket(sb.endpoint, bucket="my-company-reports-bucket", count=5000)
    result.expected.keys          # sorted keys the function should list
    load_expected(sb.client(), "my-company-reports-bucket").count

See :mod:`seed.plan` for the objects written and :mod:`seed.truth` for the listing rule.
"""

from __future__ import annotations

from seed.connection import Connection
from seed.errors import SeedArgumentError, SeedConnectionError, SeedError
from seed.options import (
    DEFAULT_BUCKET,
    DEFAULT_PREFIX,
    EXPECTED_KEY,
    SeedOptions,
    SizeRange,
    parse_size,
)
from seed.plan import Plan
from seed.truth import Expected, is_expected, load_expected
from seed.upload import SeedResult, seed_bucket, seed_bucket_async

__all__ = [
    "DEFAULT_BUCKET",
    "DEFAULT_PREFIX",
    "EXPECTED_KEY",
    "Connection",
    "Expected",
    "Plan",
    "SeedArgumentError",
    "SeedConnectionError",
    "SeedError",
    "SeedOptions",
    "SeedResult",
    "SizeRange",
    "expected_keys",
    "is_expected",
    "load_expected",
    "parse_size",
    "seed_bucket",
    "seed_bucket_async",
]


def expected_keys(options: SeedOptions) -> list[str]:
    """The keys the function should list for ``options`` on an empty bucket (no I/O)."""
    return Plan(options).expected_keys()
