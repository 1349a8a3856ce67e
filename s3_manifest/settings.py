"""Configuration of one run, built from the environment when the handler needs it.

Nothing here is read at import time: a warm Lambda environment may see new values between
invocations (and the harness changes them per invocation), so `Settings.from_env()` is
called once per invocation. An explicit value in the event wins over the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "DEFAULT_BUCKET",
    "DEFAULT_PREFIX",
    "LISTERS",
    "MAX_PAGE_SIZE",
    "ConfigError",
    "Settings",
]

DEFAULT_BUCKET = "my-company-reports-bucket"
DEFAULT_PREFIX = "2026/04/"
DEFAULT_QUEUE_MAXSIZE = 2000
DEFAULT_URL_EXPIRES = 3600
# SigV4 query signatures are valid for at most 7 days.
MAX_URL_EXPIRES = 7 * 24 * 3600
# list_objects_v2 returns at most 1000 keys a page on AWS; some servers do not cap MaxKeys,
# so the producer always asks for pages of this size.
MAX_PAGE_SIZE = 1000
MANIFEST_PREFIX = "manifests/"
PRESIGNERS = ("fast", "botocore")
LISTERS = ("fast", "botocore")  # LISTER: s3_manifest.listing's lean path, or the paginator
# The manifest is uploaded in parts of this size (S3's minimum for a non-last part is 5 MiB).
DEFAULT_PART_MB = 8
MIN_PART_MB = 5
MAX_PART_MB = 5 * 1024


class ConfigError(ValueError):
    """An environment variable has a value the function cannot use."""


@dataclass(frozen=True)
class Settings:
    """Everything one run of the function needs to know besides the event."""

    bucket: str = DEFAULT_BUCKET
    prefix: str = DEFAULT_PREFIX
    queue_maxsize: int = DEFAULT_QUEUE_MAXSIZE  # 0 = unbounded (asyncio's convention)
    consumers: int = 1
    url_expires: int = DEFAULT_URL_EXPIRES
    page_size: int = MAX_PAGE_SIZE
    manifest_prefix: str = MANIFEST_PREFIX
    presigner: str = "fast"
    lister: str = "fast"
    region: str = "us-east-1"
    endpoint_url: str | None = None
    part_size: int = DEFAULT_PART_MB * 1024 * 1024  # bytes

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from env vars (`os.environ` unless `environ` is given)."""
        env = os.environ if environ is None else environ
        presigner = env.get("PRESIGNER", "fast")
        if presigner not in PRESIGNERS:
            raise ConfigError(f"PRESIGNER must be one of {PRESIGNERS}, got {presigner!r}")
        lister = env.get("LISTER", "fast")
        if lister not in LISTERS:
            raise ConfigError(f"LISTER must be one of {LISTERS}, got {lister!r}")
        return cls(
            bucket=env.get("BUCKET_NAME") or DEFAULT_BUCKET,
            prefix=env.get("PREFIX", DEFAULT_PREFIX),
            queue_maxsize=_int(env, "QUEUE_MAXSIZE", DEFAULT_QUEUE_MAXSIZE, low=0),
            consumers=_int(env, "CONSUMERS", 1, low=1, high=256),
            url_expires=_int(env, "URL_EXPIRES", DEFAULT_URL_EXPIRES, low=1, high=MAX_URL_EXPIRES),
            page_size=_int(env, "PAGE_SIZE", MAX_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE),
            presigner=presigner,
            lister=lister,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            # The same variables botocore honours, read here because an endpoint also means
            # path-style addressing (MinIO, SeaweedFS and friends have no bucket DNS).
            endpoint_url=env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None,
            part_size=_int(
                env, "MANIFEST_PART_MB", DEFAULT_PART_MB, low=MIN_PART_MB, high=MAX_PART_MB
            )
            * 1024
            * 1024,
        )


def _int(
    env: Mapping[str, str], name: str, default: int, *, low: int, high: int | None = None
) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as e:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from e
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"between {low} and {high}"
        raise ConfigError(f"{name} must be {bounds}, got {value}")
    return value
