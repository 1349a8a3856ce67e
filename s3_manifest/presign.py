"""Presigning S3 GET URLs for an aiobotocore client: botocore's exact string, at HMAC speed.

botocore's ``generate_presigned_url`` costs about 1 ms per URL (parameter validation, event
hooks, endpoint-ruleset resolution, request serialisation, then signing). The signing itself is
two SHA-256 hashes and one HMAC with a key that changes once a day per region and credentials;
``s3_manifest._sigv4`` does that part. This module decides when it may.

How exactness is kept (never return a URL botocore would not):

* The *client configuration* is checked first (signature version, S3 options); anything outside
  the covered set goes to botocore for the presigner's whole life, and the reason is logged once.
* *Where a bucket lives* (scheme, host, path prefix, signing region) is not re-derived from
  S3's endpoint rules: it is read, once per bucket, from a URL that botocore itself presigns for
  a probe key. That URL is then re-signed here at botocore's own timestamp and expiry; only if
  the two strings are identical is the bucket served by the fast path. Otherwise that bucket
  goes to botocore, with the reason logged once. S3's endpoint rules do not depend on the
  object key (``Key`` is declared in the ruleset but referenced by no rule), so one probe per
  bucket covers every key.
* ARNs (access points, Object Lambda, Outposts, multi-region access points use SigV4a) and S3
  Express directory buckets (session auth) are never probed: they always go to botocore.

Credentials are frozen from the client on every call, as botocore does, so refreshable
credentials refresh on the same schedule (and the signer's key cache follows them when they
rotate).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from aiobotocore.credentials import AioCredentials

from s3_manifest._sigv4 import (
    TIMESTAMP_FORMAT,
    BucketLocation,
    Credentials,
    SigV4QueryPresigner,
    UnsupportedPresign,
)

__all__ = [
    "PROBE_KEY",
    "BucketLocation",
    "Credentials",
    "Presigner",
    "SigV4QueryPresigner",
    "UnsupportedPresign",
    "make_presigner",
]

logger = logging.getLogger(__name__)

MODES = ("fast", "botocore")
PROBE_KEY = "presign-probe/ü +%~=&#?//x"  # exercises every encoding rule once
PROBE_EXPIRES = 900
_PROBE_ATTEMPTS = 3

# Covered client configuration. Anything else is botocore's.
_COVERED_SIGNATURE_VERSIONS = (None, "s3v4")
_COVERED_S3_OPTIONS = {
    "addressing_style": (None, "auto", "path", "virtual"),
    "use_accelerate_endpoint": (None, False),
    "use_dualstack_endpoint": (None, False),
    "us_east_1_regional_endpoint": (None, "legacy", "regional"),
    "payload_signing_enabled": (None, True, False),  # presigned URLs never sign the payload
}
# Options that only change how ARN buckets are addressed; ARNs always go to botocore.
_ARN_ONLY_S3_OPTIONS = frozenset({"use_arn_region", "s3_disable_multiregion_access_points"})


def _config_fallback_reason(client: Any) -> str | None:
    """Why this client's configuration is not covered, or None when it is."""
    config = client.meta.config
    signature_version = getattr(config, "signature_version", None)
    if signature_version not in _COVERED_SIGNATURE_VERSIONS:
        return f"signature_version={signature_version!r} (covered: None, 's3v4')"
    if getattr(config, "use_fips_endpoint", None):
        return "use_fips_endpoint=True"
    if getattr(config, "use_dualstack_endpoint", None):
        return "use_dualstack_endpoint=True"
    for name, value in (getattr(config, "s3", None) or {}).items():
        if name in _ARN_ONLY_S3_OPTIONS:
            continue
        if name not in _COVERED_S3_OPTIONS or value not in _COVERED_S3_OPTIONS[name]:
            return f"s3 option {name}={value!r}"
    if client.meta.region_name is None:
        return "no region"
    get_credentials = getattr(client, "_get_credentials", None)
    if get_credentials is None or get_credentials() is None:
        return "no credentials on the client"
    return None


def _bucket_fallback_reason(bucket: str) -> str | None:
    if bucket.startswith("arn:"):
        return "bucket is an ARN (access point / Object Lambda / Outposts / MRAP)"
    if bucket.endswith(("--x-s3", "--xa-s3")):
        return "S3 Express directory bucket (session auth)"
    return None


def _query_value(url: str, name: str) -> str:
    for pair in urlsplit(url).query.split("&"):
        key, _, value = pair.partition("=")
        if key == name:
            return value
    raise UnsupportedPresign(f"{name} missing from {url!r}")


class Presigner:
    """Presigns S3 GET URLs for one aiobotocore client; build it with ``make_presigner``."""

    def __init__(
        self,
        client: Any,
        *,
        clock: Callable[[], datetime] | None = None,
        mode: str = "fast",
        fallback_reason: str | None = None,
    ) -> None:
        self._client = client
        self._signer = SigV4QueryPresigner(clock=clock)
        self.mode = mode
        #: why the whole client goes to botocore (None when the fast path is enabled)
        self.fallback_reason = fallback_reason
        #: per bucket: a BucketLocation (fast) or the reason it goes to botocore
        self.buckets: dict[str, BucketLocation | str] = {}
        self.fast = mode == "fast" and fallback_reason is None
        self._static: Credentials | None = None

    async def presign_get(self, bucket: str, key: str, expires_in: int) -> str:
        """A URL that GETs ``bucket/key`` for ``expires_in`` seconds."""
        if self.fast and type(expires_in) is int and type(key) is str and key:
            location = self.buckets.get(bucket)
            if location is None:
                location = await self._locate(bucket)
            if type(location) is BucketLocation:
                source = self._client._get_credentials()
                frozen = self._static
                if type(source) is not AioCredentials:
                    # refreshable: botocore's own refresh schedule, frozen on every call
                    frozen = await source.get_frozen_credentials()
                elif (
                    frozen is None
                    or frozen.access_key is not source.access_key
                    or frozen.secret_key is not source.secret_key
                    or frozen.token is not source.token
                ):
                    # Static credentials (Lambda's env vars): freezing copies these three
                    # attributes into a new tuple; keep the tuple while they are unchanged.
                    frozen = self._static = await source.get_frozen_credentials()
                return self._signer.presign_get(location, key, expires_in, frozen)
        return await self._botocore(bucket, key, expires_in)

    async def _botocore(self, bucket: str, key: str, expires_in: int) -> str:
        url: str = await self._client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url

    async def _frozen_credentials(self) -> Credentials:
        credentials: Credentials = await self._client._get_credentials().get_frozen_credentials()
        return credentials

    async def _locate(self, bucket: str) -> BucketLocation | str:
        """Probe botocore once for ``bucket`` and verify we reproduce its URL exactly."""
        reason = _bucket_fallback_reason(bucket)
        if reason is None:
            reason = "credentials rotated during every probe"
            for _ in range(_PROBE_ATTEMPTS):
                # Same credentials before and after: botocore signed the probe with them too.
                before = await self._frozen_credentials()
                # botocore validates the bucket name here; its error propagates as it would.
                probe = await self._botocore(bucket, PROBE_KEY, PROBE_EXPIRES)
                credentials = await self._frozen_credentials()
                if credentials == before:
                    reason = self._verify(probe, credentials)
                    break
            if reason is None:
                location = BucketLocation.from_presigned_url(probe, PROBE_KEY)
                self.buckets[bucket] = location
                return location
        logger.info("presign: bucket %r goes to botocore: %s", bucket, reason)
        self.buckets[bucket] = reason
        return reason

    def _verify(self, probe: str, credentials: Credentials) -> str | None:
        """None when re-signing botocore's ``probe`` URL here gives the same string."""
        try:
            location = BucketLocation.from_presigned_url(probe, PROBE_KEY)
            signed_at = datetime.strptime(_query_value(probe, "X-Amz-Date"), TIMESTAMP_FORMAT)
            ours = self._signer.presign_get(
                location, PROBE_KEY, PROBE_EXPIRES, credentials, now=signed_at
            )
        except UnsupportedPresign as e:
            return str(e)
        if ours != probe:
            return "re-signing botocore's probe URL here gave a different string"
        return None


async def make_presigner(
    client: Any,
    *,
    clock: Callable[[], datetime] | None = None,
    mode: str = "fast",
) -> Presigner:
    """A presigner for ``client`` (an aiobotocore S3 client).

    ``mode="botocore"`` always calls ``client.generate_presigned_url``. ``mode="fast"`` signs
    here when the client's configuration and the bucket are covered (see the module docstring),
    and otherwise hands the call to botocore, logging why once. ``clock`` is used by the fast
    path only; botocore always signs with the system clock.
    """
    if mode not in MODES:
        raise ValueError(f"presigner mode {mode!r} is not one of {MODES}; use 'fast' or 'botocore'")
    reason = _config_fallback_reason(client) if mode == "fast" else None
    if reason is not None:
        logger.info("presign: client configuration goes to botocore: %s", reason)
    return Presigner(client, clock=clock, mode=mode, fallback_reason=reason)
