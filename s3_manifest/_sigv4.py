"""SigV4 query-string signing of S3 GET URLs, byte-identical to botocore's ``S3SigV4QueryAuth``.

The pure signer: given where a bucket lives (``BucketLocation``), credentials and a time, it
builds the URL botocore would. No client, no I/O. A URL costs two SHA-256 hashes and one HMAC,
with a key that changes once a day per region and credentials.

The signing key is cached per (date, region, service, access key, secret key): correct across
UTC midnight and when credentials rotate. Everything else that does not depend on the object
key is memoised per (second, expiry, bucket, credentials).

Which clients and buckets may use this signer, and how each bucket's location is read from
botocore and verified, is ``s3_manifest.presign``'s job.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

__all__ = [
    "ALGORITHM",
    "TIMESTAMP_FORMAT",
    "UNSIGNED_PAYLOAD",
    "BucketLocation",
    "Credentials",
    "SigV4QueryPresigner",
    "UnsupportedPresign",
]

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"  # botocore.auth.SIGV4_TIMESTAMP
_SIGNING_KEY_CACHE_MAX = 16


class Credentials(Protocol):
    """What signing needs from credentials (botocore's ``ReadOnlyCredentials`` fits)."""

    @property
    def access_key(self) -> str: ...
    @property
    def secret_key(self) -> str: ...
    @property
    def token(self) -> str | None: ...


class UnsupportedPresign(Exception):
    """A configuration, bucket or argument the fast presigner does not reproduce exactly."""


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
