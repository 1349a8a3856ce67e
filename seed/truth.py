"""Ground truth: which keys the function should list, and where that list is kept.

The rule mirrors the function (``s3_manifest``): it lists every key under the prefix,
recursively (``list_objects_v2`` with ``Prefix`` and no ``Delimiter``, so
``2026/04/archive/x.pdf`` counts), keeps keys ending in ``.pdf`` in any case (``REPORT.PDF``
counts, ``x.pdf.bak`` and ``pdf-notes`` do not) and skips anything under ``manifests/``.

The seeder writes the result as JSON to ``seed/expected.json`` in the bucket (outside the
prefix, not a ``.pdf``): ``{"format", "bucket", "prefix", "count", "seed", ..., "keys": [...]}``
with ``keys`` sorted and last, so it is written line by line even for 100,000 keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from seed.errors import SeedConnectionError, SeedError
from seed.options import EXPECTED_KEY, SKIP_PREFIXES

__all__ = ["FORMAT", "RULE", "Expected", "is_expected", "load_expected", "parse_expected"]

FORMAT = "lambda_local_runner.seed.expected/1"
RULE = "key starts with prefix, key.lower() ends with '.pdf', key not under manifests/"


def is_expected(key: str, prefix: str) -> bool:
    """True when the function should list ``key`` for ``prefix``."""
    return (
        key.startswith(prefix)
        and key.lower().endswith(".pdf")
        and not key.startswith(SKIP_PREFIXES)
    )


@dataclass(frozen=True, slots=True)
class Expected:
    """The keys the function should list under ``prefix`` in ``bucket`` (sorted)."""

    bucket: str
    prefix: str
    keys: tuple[str, ...]
    seed: int
    noise: float = 0.0
    sizes: str = ""
    objects: int = 0  # objects the seeder wrote in total (PDFs and noise)
    extra: tuple[str, ...] = ()  # keys found in the bucket, not seeded, that the rule keeps
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.keys)

    def header(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "bucket": self.bucket,
            "prefix": self.prefix,
            "count": self.count,
            "seed": self.seed,
            "noise": self.noise,
            "sizes": self.sizes,
            "objects": self.objects,
            "rule": RULE,
            "skip_prefixes": list(SKIP_PREFIXES),
            "extra": list(self.extra),
            **self.meta,
        }

    def write_json(self, out: IO[bytes]) -> None:
        """Write the JSON document to ``out``, one key per line (no big intermediate string)."""
        head = json.dumps(self.header(), ensure_ascii=False, indent=1)
        out.write(head[:-2].encode())  # drop the closing "\n}"
        out.write(b',\n "keys": [')
        _write_lines(out, self.keys)
        out.write(b"\n ]\n}\n")


def _write_lines(out: IO[bytes], keys: Iterable[str]) -> None:
    first = True
    buf: list[str] = []

    def flush() -> None:
        nonlocal first
        if buf:
            out.write((b"\n  " if first else b",\n  ") + ",\n  ".join(buf).encode())
            first = False
            buf.clear()

    for key in keys:
        buf.append(json.dumps(key, ensure_ascii=False))
        if len(buf) >= 4096:
            flush()
    flush()


def parse_expected(doc: Mapping[str, Any]) -> Expected:
    """Build an :class:`Expected` from the decoded JSON document; check it is consistent."""
    if doc.get("format") != FORMAT:
        raise SeedError(
            f"ground truth has format {doc.get('format')!r}, expected {FORMAT!r}; "
            f"re-run `python -m seed` with this version"
        )
    keys = tuple(doc["keys"])
    if len(keys) != doc["count"]:
        raise SeedError(f"ground truth says count={doc['count']} but lists {len(keys)} keys")
    known = {"format", "bucket", "prefix", "count", "seed", "noise", "sizes", "objects"}
    known |= {"rule", "skip_prefixes", "extra", "keys"}
    return Expected(
        bucket=doc["bucket"],
        prefix=doc["prefix"],
        keys=keys,
        seed=doc["seed"],
        noise=doc.get("noise", 0.0),
        sizes=doc.get("sizes", ""),
        objects=doc.get("objects", 0),
        extra=tuple(doc.get("extra", ())),
        meta={k: v for k, v in doc.items() if k not in known},
    )


def load_expected(s3_client: Any, bucket: str, key: str = EXPECTED_KEY) -> Expected:
    """Read the ground truth the seeder wrote, with a (sync) boto3 S3 client."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            doc = json.load(body)
        finally:
            body.close()
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NoSuchBucket"):
            raise SeedError(
                f"no ground truth at s3://{bucket}/{key} ({code}); "
                f"seed the bucket first: python -m seed --bucket {bucket}"
            ) from e
        raise SeedConnectionError(f"reading s3://{bucket}/{key} failed: {e}") from e
    except BotoCoreError as e:
        raise SeedConnectionError(f"reading s3://{bucket}/{key} failed: {e}") from e
    return parse_expected(doc)
