"""SigV4 ``Authorization``-header signing of a bodiless S3 GET, as botocore's ``S3SigV4Auth``.

Pure, no I/O. Reuses ``s3_manifest._sigv4``'s primitives (the per-day signing-key cache and the
per-second timestamp) so the listing costs one SHA-256 and one HMAC per page.

The request is what botocore sends for ``list_objects_v2``: the signed headers are ``host``,
``x-amz-content-sha256`` (the hash of the empty body: botocore signs the payload of a GET
without a checksum header), ``x-amz-date`` and, with temporary credentials,
``x-amz-security-token``. S3 paths are signed as they are sent (no normalisation), and the
query is sent already in canonical form (names sorted, values encoded with ``-_.~`` safe), so
the URL's query *is* the canonical query string. A unit test checks the header byte for byte
against botocore's ``S3SigV4Auth``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import quote

from s3_manifest._sigv4 import ALGORITHM, Credentials, SigV4QueryPresigner

__all__ = ["EMPTY_SHA256", "SigV4HeaderSigner", "canonical_query"]

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    """``name=value&...`` sorted by name, values encoded as SigV4 requires (safe ``-_.~``)."""
    return "&".join(
        f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}" for name, value in sorted(params)
    )


class SigV4HeaderSigner:
    """Signs GET requests with an ``Authorization`` header for one host, region and service."""

    def __init__(self, host: str, region: str, service: str = "s3") -> None:
        self.host = host
        self.region = region
        self.service = service
        self._core = SigV4QueryPresigner()  # its signing-key cache and timestamp clock

    def headers(
        self, path: str, query: str, credentials: Credentials, *, now: datetime | None = None
    ) -> dict[str, str]:
        """The headers to send with ``GET path?query`` (``query`` in canonical form).

        ``Host`` is not among them: the HTTP client sends it from the URL, with the same value
        (``s3_manifest._sigv4._host_header``'s rule: the port only when it is not the default).
        """
        timestamp = self._core.timestamp(now)
        datestamp = timestamp[:8]
        scope = f"{datestamp}/{self.region}/{self.service}/aws4_request"
        token = credentials.token
        if token:
            canonical_headers = (
                f"host:{self.host}\nx-amz-content-sha256:{EMPTY_SHA256}\n"
                f"x-amz-date:{timestamp}\nx-amz-security-token:{token.strip()}\n"
            )
            signed = "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
        else:
            canonical_headers = (
                f"host:{self.host}\nx-amz-content-sha256:{EMPTY_SHA256}\nx-amz-date:{timestamp}\n"
            )
            signed = "host;x-amz-content-sha256;x-amz-date"
        canonical_request = f"GET\n{path}\n{query}\n{canonical_headers}\n{signed}\n{EMPTY_SHA256}"
        string_to_sign = (
            f"{ALGORITHM}\n{timestamp}\n{scope}\n"
            + hashlib.sha256(canonical_request.encode()).hexdigest()
        )
        key = self._core.signing_key(
            datestamp, self.region, self.service, credentials.access_key, credentials.secret_key
        )
        signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        headers = {
            "X-Amz-Date": timestamp,
            "X-Amz-Content-SHA256": EMPTY_SHA256,
            "Authorization": (
                f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
                f"SignedHeaders={signed}, Signature={signature}"
            ),
        }
        if token:
            headers["X-Amz-Security-Token"] = token
        return headers
