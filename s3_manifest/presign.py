"""SigV4 query-string presigning for S3 GET, byte-identical to botocore, at HMAC speed.

botocore's ``generate_presigned_url`` costs about 1 ms per URL (parameter validation, event
hooks, endpoint-ruleset resolution, request serialisation, then signing). The signing itself is
two SHA-256 hashes and one HMAC with a key that changes once a day per region and credentials.

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

The signing key is cached per (date, region, service, access key, secret key): correct across
UTC midnight and when credentials rotate. Credentials are frozen from the client on every call,
as botocore does, so refreshable credentials refresh on the same schedule.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit

from aiobotocore.credentials import AioCredentials

__all__ = [
    "BucketLocation",
    "Credentials",
    "Presigner",
    "SigV4QueryPresigner",
    "UnsupportedPresign",
    "make_presigner",
]

logger = logging.getLogger(__name__)

MODES = ("fast", "botocore")
ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"  # botocore.auth.SIGV4_TIMESTAMP
PROBE_KEY = "presign-probe/ü +%~=&#?//x"  # exercises every encoding rule once
PROBE_EXPIRES = 900
_PROBE_ATTEMPTS = 3
_SIGNING_KEY_CACHE_MAX = 16

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


class Credentials(Protocol):
    """What signing needs from credentials (botocore's ``ReadOnlyCredentials`` fits)."""

    @property
    def access_key(self) -> str: ...
    @property
    def secret_key(self) -> str: ...
    @property
    def token(self) -> str | None: ...


class UnsupportedPresign(Exception):
    """A configuration, bucket or argument this module does not reproduce exactly."""


# quote() leaves these alone (unreserved characters plus the "/" botocore keeps in keys).
_needs_no_quoting = re.compile(r"[A-Za-z0-9_.\-~/]*").fullmatch


def _quote_all(value: str) -> str:
    # botocore.utils.percent_encode with its SAFE_CHARS '-_.~' (always safe for quote anyway).
    return quote(value, safe="-_.~")


def _host_header(url: str) -> str:
    """The ``host`` value botocore signs (``botocore.auth._host_from_url``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if "[" in parts.netloc:  # IPv6 literal keeps its brackets
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    if parts.port is not None and parts.port != default_port:
        host = f"{host}:{parts.port}"
    return host


@dataclass(frozen=True, slots=True)
class BucketLocation:
    """Where one bucket's objects are addressed, as botocore resolved it for a client.

    ``url_prefix`` is ``scheme://netloc`` plus ``path_prefix``; an object URL is
    ``url_prefix + "/" + quote(key, safe="/~")``.
    """

    url_prefix: str
    path_prefix: str
    host: str
    region: str
    service: str = "s3"

    @classmethod
    def from_presigned_url(cls, url: str, key: str) -> BucketLocation:
        """Read a bucket's location from a botocore-presigned GET URL for ``key``.

        Raises ``UnsupportedPresign`` when the URL is not the plain SigV4 query form (host as the
        only signed header, no extra query parameters) this module reproduces.
        """
        parts = urlsplit(url)
        encoded_key = "/" + quote(key, safe="/~")
        if parts.fragment or not parts.path.endswith(encoded_key):
            raise UnsupportedPresign(f"URL path {parts.path!r} does not end with the object key")
        params = [p.partition("=") for p in parts.query.split("&")]
        names = [name for name, _, _ in params]
        expected = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires"]
        expected.append("X-Amz-SignedHeaders")
        if "X-Amz-Security-Token" in names:
            expected.append("X-Amz-Security-Token")
        expected.append("X-Amz-Signature")
        if names != expected:
            raise UnsupportedPresign(f"query parameters {names} are not plain SigV4 ({expected})")
        values = {name: value for name, _, value in params}
        if values["X-Amz-Algorithm"] != ALGORITHM or values["X-Amz-SignedHeaders"] != "host":
            raise UnsupportedPresign(
                f"algorithm {values['X-Amz-Algorithm']!r} / signed headers "
                f"{values['X-Amz-SignedHeaders']!r}: only {ALGORITHM} signing 'host' is covered"
            )
        scope = values["X-Amz-Credential"].split("%2F")
        if len(scope) < 5 or scope[-1] != "aws4_request":
            raise UnsupportedPresign(f"credential scope {values['X-Amz-Credential']!r} not SigV4")
        path_prefix = parts.path[: -len(encoded_key)]
        return cls(
            url_prefix=f"{parts.scheme}://{parts.netloc}{path_prefix}",
            path_prefix=path_prefix,
            host=_host_header(url),
            region=unquote(scope[-3]),
            service=unquote(scope[-2]),
        )


class SigV4QueryPresigner:
    """Synchronous S3 GET presigner, byte-identical to botocore's ``S3SigV4QueryAuth``.

    No client needed: give it a ``BucketLocation`` and credentials. ``clock`` returns the signing
    time (aware, or naive meaning UTC, like botocore's); without one the system clock is read.

    Everything but the key-dependent part (canonical request hash, final HMAC) is computed once
    per (second, expiry, region, credentials) and reused: the derived signing key, the encoded
    credential scope and session token, the query string.
    """

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock
        self._signing_keys: dict[tuple[str, str, str, str, str], bytes] = {}
        self._second = -1  # system clock: the second whose timestamp is cached
        self._last_now: datetime | None = None  # injected clock: the datetime last formatted
        self._timestamp = ""
        self._memo: _Prepared | None = None

    def signing_key(
        self, datestamp: str, region: str, service: str, access_key: str, secret_key: str
    ) -> bytes:
        """The derived SigV4 key, computed once per (date, region, service, credentials)."""
        cache_key = (datestamp, region, service, access_key, secret_key)
        key = self._signing_keys.get(cache_key)
        if key is None:
            key = f"AWS4{secret_key}".encode()
            for part in (datestamp, region, service, "aws4_request"):
                key = hmac.digest(key, part.encode(), "sha256")
            if len(self._signing_keys) >= _SIGNING_KEY_CACHE_MAX:
                self._signing_keys.clear()  # old days and rotated credentials
            self._signing_keys[cache_key] = key
        return key

    def timestamp(self, now: datetime | None = None) -> str:
        """``YYYYMMDDTHHMMSSZ`` for ``now``, else for the clock (botocore's SIGV4_TIMESTAMP)."""
        if now is None:
            if self._clock is None:
                second = int(time.time())  # the clock datetime.now() reads, floored like strftime
                if second != self._second:
                    self._second, self._last_now = second, None
                    self._timestamp = time.strftime(TIMESTAMP_FORMAT, time.gmtime(second))
                return self._timestamp
            now = self._clock()
        if now != self._last_now:
            utc = now.astimezone(UTC) if now.tzinfo is not None else now
            self._last_now, self._second = now, -1
            self._timestamp = utc.strftime(TIMESTAMP_FORMAT)
        return self._timestamp

    def _prepare(
        self, timestamp: str, expires_in: int, location: BucketLocation, creds: Credentials
    ) -> _Prepared:
        """Everything in a URL except what depends on the key, for one (time, expiry, bucket,
        credentials)."""
        datestamp = timestamp[:8]
        scope = f"{datestamp}/{location.region}/{location.service}/aws4_request"
        head = (
            f"X-Amz-Algorithm={ALGORITHM}"
            f"&X-Amz-Credential={_quote_all(f'{creds.access_key}/{scope}')}"
            f"&X-Amz-Date={timestamp}&X-Amz-Expires={expires_in}"
        )
        token = "" if creds.token is None else f"&X-Amz-Security-Token={_quote_all(creds.token)}"
        # URL order is botocore's insertion order; the canonical query is sorted by name, and
        # "X-Amz-Security-Token" sorts before "X-Amz-SignedHeaders".
        query = f"{head}&X-Amz-SignedHeaders=host{token}"
        canonical_query = f"{head}{token}&X-Amz-SignedHeaders=host"
        key = self.signing_key(
            datestamp, location.region, location.service, creds.access_key, creds.secret_key
        )
        return _Prepared(
            location=location,
            credentials=creds,
            timestamp=timestamp,
            expires_in=expires_in,
            values=_memo_values(timestamp, expires_in, location, creds),
            canonical_head=f"GET\n{location.path_prefix}/",
            canonical_tail=(
                f"\n{canonical_query}\nhost:{location.host}\n\nhost\n{UNSIGNED_PAYLOAD}"
            ),
            sts_head=f"{ALGORITHM}\n{timestamp}\n{scope}\n",
            # Keyed once; each URL copies it (cheaper than hmac.digest re-keying every time).
            keyed_hmac=hmac.new(key, digestmod=hashlib.sha256),
            url_head=f"{location.url_prefix}/",
            url_tail=f"?{query}&X-Amz-Signature=",
        )

    def _prepared(
        self, timestamp: str, expires_in: int, location: BucketLocation, creds: Credentials
    ) -> _Prepared:
        memo = self._memo
        if memo is not None and memo.values == _memo_values(timestamp, expires_in, location, creds):
            # Same values in new objects (frozen credentials are new tuples each time).
            memo.location, memo.credentials = location, creds
            memo.timestamp, memo.expires_in = timestamp, expires_in
        else:
            memo = self._memo = self._prepare(timestamp, expires_in, location, creds)
        return memo

    def presign_get(
        self,
        location: BucketLocation,
        key: str,
        expires_in: int,
        credentials: Credentials,
        *,
        now: datetime | None = None,
    ) -> str:
        """The presigned GET URL for ``key`` at ``now`` (default: the clock)."""
        timestamp = self.timestamp(now)
        memo = self._memo
        if (
            memo is None
            or memo.location is not location
            or memo.credentials is not credentials
            or memo.timestamp != timestamp
            or memo.expires_in != expires_in
        ):
            memo = self._prepared(timestamp, expires_in, location, credentials)
        encoded_key = key if _needs_no_quoting(key) else quote(key, safe="/~")
        canonical_request = memo.canonical_head + encoded_key + memo.canonical_tail
        mac = memo.keyed_hmac.copy()
        mac.update(
            (memo.sts_head + hashlib.sha256(canonical_request.encode()).hexdigest()).encode()
        )
        return memo.url_head + encoded_key + memo.url_tail + mac.hexdigest()


def _memo_values(
    timestamp: str, expires_in: int, location: BucketLocation, creds: Credentials
) -> tuple[object, ...]:
    return (timestamp, expires_in, location, creds.access_key, creds.secret_key, creds.token)


@dataclass(slots=True)
class _Prepared:
    """The key-independent parts of a URL and its signature (see ``SigV4QueryPresigner``)."""

    location: BucketLocation
    credentials: Credentials
    timestamp: str
    expires_in: int
    values: tuple[object, ...]
    canonical_head: str
    canonical_tail: str
    sts_head: str
    keyed_hmac: hmac.HMAC
    url_head: str
    url_tail: str


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
