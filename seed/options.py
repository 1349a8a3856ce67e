"""What to seed, validated: bucket, prefix, count, seed, noise, sizes, concurrency."""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field

from s3_manifest.requests import bucket_name_problem
from seed.errors import SeedArgumentError

__all__ = [
    "DEFAULT_BUCKET",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_COUNT",
    "DEFAULT_NOISE",
    "DEFAULT_PREFIX",
    "DEFAULT_SEED",
    "DEFAULT_SIZES",
    "EXPECTED_KEY",
    "METHODS",
    "SKIP_PREFIXES",
    "SeedOptions",
    "SizeRange",
    "parse_size",
    "validate_bucket_name",
]

DEFAULT_BUCKET = "my-company-reports-bucket"
DEFAULT_PREFIX = "2026/04/"
DEFAULT_COUNT = 5000
DEFAULT_SEED = 42
DEFAULT_NOISE = 0.05
DEFAULT_CONCURRENCY = 16
# How objects are written: concurrent PUTs, MinIO snowball tars, or snowball when the server
# says it is MinIO (its `Server` header), PUTs otherwise.
METHODS = ("auto", "put", "snowball")
EXPECTED_KEY = "seed/expected.json"
# Where the function writes its manifests; it never lists them as input.
SKIP_PREFIXES: tuple[str, ...] = ("manifests/",)

_MAX_CONCURRENCY = 512
_MAX_SIZE = 256 * 1024 * 1024
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SizeRange:
    """Target PDF sizes in bytes, drawn log-uniformly in ``[low, high]`` (equal: fixed size)."""

    low: int
    high: int

    def __post_init__(self) -> None:
        if not 0 < self.low <= self.high <= _MAX_SIZE:
            raise SeedArgumentError(
                f"PDF size range {self.low}-{self.high} bytes is invalid: need "
                f"0 < low <= high <= {_MAX_SIZE}; try --size 4KiB-96KiB or --size 1MiB"
            )

    def pick(self, rng: random.Random) -> int:
        if self.low == self.high:
            return self.low
        return int(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def __str__(self) -> str:
        return f"{self.low}" if self.low == self.high else f"{self.low}-{self.high}"


# Real report PDFs run from a few KiB (text only) to a few hundred KiB (logos, charts); the
# default keeps the median near 20 KiB so thousands upload in seconds. --size raises it.
DEFAULT_SIZES = SizeRange(4 * 1024, 96 * 1024)


def _parse_bytes(text: str) -> int:
    match = _SIZE_RE.match(text)
    if match is None:
        raise SeedArgumentError(
            f"size {text!r} is not understood; use bytes or a unit: 20000, 64KiB, 1MiB, 1.5MB"
        )
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    base = 1024 if "i" in unit else 1000
    scale = 1 if unit in ("", "b") else base ** ("kmg".index(unit[0]) + 1)
    return int(number * scale)


def parse_size(text: str) -> SizeRange:
    """``"64KiB"`` -> fixed size; ``"4KiB-96KiB"`` -> a range."""
    low, sep, high = text.partition("-")
    lo = _parse_bytes(low)
    return SizeRange(lo, _parse_bytes(high) if sep else lo)


def validate_bucket_name(name: str) -> str:
    """Apply the S3 general-purpose bucket naming rules (the function's own); return or raise."""
    problem = bucket_name_problem(name)
    if problem:
        raise SeedArgumentError(
            f"invalid bucket name {name!r}: {problem}. Example: {DEFAULT_BUCKET}"
        )
    return name


@dataclass(frozen=True, slots=True)
class SeedOptions:
    """Everything that decides the bucket's content (and the ground truth)."""

    bucket: str = DEFAULT_BUCKET
    prefix: str = DEFAULT_PREFIX
    count: int = DEFAULT_COUNT
    seed: int = DEFAULT_SEED
    noise: float = DEFAULT_NOISE
    sizes: SizeRange = field(default=DEFAULT_SIZES)
    concurrency: int = DEFAULT_CONCURRENCY
    expected_key: str = EXPECTED_KEY
    prune: bool = False
    method: str = "auto"

    def __post_init__(self) -> None:
        validate_bucket_name(self.bucket)
        if self.method not in METHODS:
            raise SeedArgumentError(
                f"--method must be one of {', '.join(METHODS)}; got {self.method!r}"
            )
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 0:
            raise SeedArgumentError(
                f"--count must be a whole number >= 0 (PDFs the function should find); "
                f"got {self.count!r}"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise SeedArgumentError(f"--seed must be a whole number >= 0; got {self.seed!r}")
        if not (isinstance(self.noise, int | float) and 0 <= self.noise <= 10):
            raise SeedArgumentError(
                f"--noise is the number of noise objects per PDF, between 0 and 10; "
                f"got {self.noise!r} (0.05 = 5 %)"
            )
        if not (isinstance(self.concurrency, int) and 1 <= self.concurrency <= _MAX_CONCURRENCY):
            raise SeedArgumentError(
                f"--concurrency must be between 1 and {_MAX_CONCURRENCY}; got {self.concurrency!r}"
            )
        if self.prefix.startswith("/"):
            raise SeedArgumentError(
                f"prefix {self.prefix!r} starts with '/': S3 keys have no leading slash; "
                f"try {self.prefix.lstrip('/')!r}"
            )
        if len(self.prefix.encode()) > 512:
            raise SeedArgumentError("prefix is longer than 512 bytes; S3 keys stop at 1024")
        if self.prefix.startswith(SKIP_PREFIXES):
            raise SeedArgumentError(
                f"prefix {self.prefix!r} is under {SKIP_PREFIXES[0]!r}, which the function "
                f"skips (it writes its manifests there); choose another prefix"
            )
        if not self.expected_key or self.expected_key.endswith("/"):
            raise SeedArgumentError(f"--expected-key {self.expected_key!r} must name an object")
        if self.expected_key.lower().endswith(".pdf"):
            raise SeedArgumentError(
                f"--expected-key {self.expected_key!r} ends with .pdf; the function would list "
                f"it as a report. Use a .json name such as {EXPECTED_KEY!r}"
            )
