"""SigV4 verification of requests to the service port, as AWS Lambda's front end does it.

A request must be signed (``Authorization`` header, or the ``X-Amz-*`` query parameters of a
presigned URL) with the sandbox's credentials for service ``lambda`` in the sandbox's region,
within 5 minutes of the service's clock. Otherwise the answer is a 403 with the error type and
message AWS sends (looked up from Lambda's real answers), so botocore raises the same
``ClientError`` code a user would get from AWS:

==============================  =========================================================
what is wrong                   ``x-amzn-ErrorType``: message
==============================  =========================================================
no signature at all             ``MissingAuthenticationTokenException``: Missing
                                Authentication Token
malformed ``Authorization``     ``IncompleteSignatureException``: what is missing
unknown access key / token      ``UnrecognizedClientException``: The security token
                                included in the request is invalid.
wrong secret, tampered request  ``InvalidSignatureException``: The request signature we
                                calculated does not match ...
X-Amz-Date > 5 min off          ``InvalidSignatureException``: Signature expired: ... is
                                now earlier than ... (... - 5 min.)
wrong region or service         ``InvalidSignatureException``: Credential should be scoped ...
==============================  =========================================================

Each message adds one local hint (how to get the sandbox's credentials); no secret is ever
logged or echoed, only the access key id the client sent.

The derived signing key comes from the function's own signer (``s3_manifest._sigv4``, itself
byte-identical to botocore's); the canonical request follows AWS's SigV4 specification and
botocore's rules (path dot-segments removed, then every path byte but ``/~`` re-encoded; the
query decoded and re-encoded in sorted order; header values trimmed with inner runs of spaces
folded). Which routes are verified is ``app``'s business: the Invoke API and unknown
operations, not ``/_sandbox/*`` (local control routes; the S3 webhook has its bearer token).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote

from aiohttp import web
from botocore.utils import remove_dot_segments

from s3_manifest._sigv4 import ALGORITHM, TIMESTAMP_FORMAT, UNSIGNED_PAYLOAD, SigV4QueryPresigner

if TYPE_CHECKING:
    from sandbox.service.config import ServiceConfig

__all__ = [
    "MAX_SKEW",
    "SERVICE",
    "AuthError",
    "SignedRequest",
    "Verifier",
    "sigv4_middleware",
    "verifier_for",
]

log = logging.getLogger("sandbox.service.auth")

SERVICE = "lambda"
#: AWS refuses a request whose X-Amz-Date is more than 5 minutes from its clock.
MAX_SKEW = timedelta(minutes=5)
_HINT = (
    " (this local Lambda service verifies SigV4 against the sandbox's credentials: "
    'eval "$(python -m sandbox env)" exports them)'
)
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)
_QUERY_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
_UNRECOGNIZED = "The security token included in the request is invalid."


class AuthError(Exception):
    """A request the service refuses: the error type AWS uses and its message."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


@dataclass(frozen=True)
class SignedRequest:
    """What verification reads from one HTTP request (the wire form, not a parsed one)."""

    method: str
    raw_path: str  # path and query as sent, percent-encoding kept
    headers: Mapping[str, str] | list[tuple[str, str]]  # repeated names allowed in a list
    body: bytes


def _header_items(headers: Mapping[str, str] | list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(headers.items()) if isinstance(headers, Mapping) else list(headers)


def _canonical_query(pairs: list[tuple[str, str]]) -> str:
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _parse_time(stamp: str) -> datetime:
    try:
        return datetime.strptime(stamp, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError as e:
        raise AuthError(
            "IncompleteSignatureException",
            f"X-Amz-Date {stamp!r} is not in ISO 8601 basic format (YYYYMMDD'T'HHMMSS'Z')",
        ) from e


class Verifier:
    """Checks SigV4 signatures against one set of credentials, region and clock."""

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        region: str,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.access_key = access_key
        self._secret_key = secret_key
        self.region = region
        self._clock = clock or (lambda: datetime.now(UTC))
        self._keys = SigV4QueryPresigner()  # the function's own (cached) key derivation

    def verify(self, request: SignedRequest) -> None:
        """Return if ``request`` is correctly signed; raise `AuthError` saying why not."""
        path, _, raw_query = request.raw_path.partition("?")
        query = parse_qsl(raw_query, keep_blank_values=True)
        headers: dict[str, list[str]] = {}
        for name, value in _header_items(request.headers):
            headers.setdefault(name.lower(), []).append(value)
        authorization = headers.get("authorization", [""])[0]
        params = dict(query)
        if authorization:
            fields = self._parse_authorization(authorization)
            credential, signed, signature = (
                fields["Credential"],
                fields["SignedHeaders"],
                fields["Signature"],
            )
            stamp = headers.get("x-amz-date", [""])[0]
            if not stamp:
                raise AuthError(
                    "IncompleteSignatureException",
                    "Authorization header requires existence of either a 'X-Amz-Date' or a "
                    "'Date' header (this service reads X-Amz-Date only).",
                )
            token = headers.get("x-amz-security-token", [None])[0]
            expires = None
            signed_query = query
        elif "X-Amz-Signature" in params or "X-Amz-Credential" in params:
            missing = [name for name in _QUERY_PARAMS if name not in params]
            if missing or params["X-Amz-Algorithm"] != ALGORITHM:
                raise AuthError(
                    "IncompleteSignatureException",
                    f"A presigned URL needs {ALGORITHM} and the query parameters "
                    f"{', '.join(missing) or 'X-Amz-Algorithm'}",
                )
            credential, signed, signature = (
                params["X-Amz-Credential"],
                params["X-Amz-SignedHeaders"],
                params["X-Amz-Signature"],
            )
            stamp, token = params["X-Amz-Date"], params.get("X-Amz-Security-Token")
            expires = params.get("X-Amz-Expires")
            signed_query = [(k, v) for k, v in query if k != "X-Amz-Signature"]
        else:
            raise AuthError("MissingAuthenticationTokenException", "Missing Authentication Token")

        access_key, datestamp, region, service = self._parse_scope(credential)
        if not hmac.compare_digest(access_key.encode(), self.access_key.encode()) or token:
            raise AuthError("UnrecognizedClientException", _UNRECOGNIZED + _HINT)
        when = _parse_time(stamp)
        self._check_scope(datestamp, region, service, stamp)
        self._check_time(when, stamp, expires)
        names = signed.split(";")
        if "host" not in names:
            raise AuthError(
                "InvalidSignatureException",
                "'Host' must be a signed header (SignedHeaders=" + signed + ")",
            )
        canonical_headers = ""
        for name in names:
            if name not in headers:
                raise AuthError(
                    "InvalidSignatureException",
                    f"Signed header {name!r} is not in the request." + " " + _MISMATCH,
                )
            value = ",".join(" ".join(v.split()) for v in headers[name])
            canonical_headers += f"{name}:{value}\n"
        uri = quote(remove_dot_segments(path) or "/", safe="/~")
        payload_hashes = [headers.get("x-amz-content-sha256", [""])[0]]
        if not payload_hashes[0]:
            payload_hashes = [hashlib.sha256(request.body).hexdigest()]
            if expires is not None:
                payload_hashes.append(UNSIGNED_PAYLOAD)  # presigned URLs may leave it unsigned
        key = self._keys.signing_key(datestamp, region, service, self.access_key, self._secret_key)
        scope = f"{datestamp}/{region}/{service}/aws4_request"
        for payload_hash in payload_hashes:
            canonical = "\n".join(
                (request.method, uri, _canonical_query(signed_query), canonical_headers, signed)
            )
            canonical += "\n" + payload_hash
            digest = hashlib.sha256(canonical.encode()).hexdigest()
            string_to_sign = f"{ALGORITHM}\n{stamp}\n{scope}\n{digest}"
            expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
            if hmac.compare_digest(expected.encode(), signature.encode()):
                return
        raise AuthError("InvalidSignatureException", _MISMATCH + _HINT)

    @staticmethod
    def _parse_authorization(value: str) -> dict[str, str]:
        algorithm, _, rest = value.strip().partition(" ")
        if algorithm != ALGORITHM:
            raise AuthError(
                "IncompleteSignatureException",
                f"Authorization header algorithm {algorithm!r}: only {ALGORITHM} is supported",
            )
        fields: dict[str, str] = {}
        for part in rest.split(","):
            name, sep, field = part.strip().partition("=")
            if sep:
                fields[name] = field
        missing = [n for n in ("Credential", "SignedHeaders", "Signature") if n not in fields]
        if missing:
            raise AuthError(
                "IncompleteSignatureException",
                f"Authorization header requires {', '.join(repr(n) for n in missing)} "
                f"parameter(s). Authorization={ALGORITHM} {' '.join(sorted(fields))}",
            )
        return fields

    @staticmethod
    def _parse_scope(credential: str) -> tuple[str, str, str, str]:
        parts = credential.split("/")
        if len(parts) != 5 or parts[4] != "aws4_request":
            raise AuthError(
                "IncompleteSignatureException",
                "Credential must have exactly 5 slash-delimited elements, e.g. "
                "keyid/date/region/service/aws4_request",
            )
        return parts[0], parts[1], parts[2], parts[3]

    def _check_scope(self, datestamp: str, region: str, service: str, stamp: str) -> None:
        if datestamp != stamp[:8]:
            raise AuthError(
                "InvalidSignatureException",
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                f"date from HTTP: '{datestamp}' != '{stamp[:8]}'",
            )
        if region != self.region:
            raise AuthError(
                "InvalidSignatureException",
                f"Credential should be scoped to a valid region, not '{region}'"
                f" (this sandbox's region is '{self.region}').",
            )
        if service != SERVICE:
            raise AuthError(
                "InvalidSignatureException",
                f"Credential should be scoped to correct service: '{SERVICE}'.",
            )

    def _check_time(self, when: datetime, stamp: str, expires: str | None) -> None:
        now = self._clock()
        fmt = TIMESTAMP_FORMAT
        if expires is not None:
            try:
                seconds = int(expires)
            except ValueError:
                seconds = -1
            if not 1 <= seconds <= 604800:
                raise AuthError(
                    "IncompleteSignatureException",
                    f"X-Amz-Expires must be 1 to 604800 seconds, got {expires!r}",
                )
            if now > when + timedelta(seconds=seconds):
                raise AuthError(
                    "InvalidSignatureException",
                    f"Signature expired: {stamp} is now earlier than "
                    f"{(now - timedelta(seconds=seconds)).strftime(fmt)} "
                    f"({now.strftime(fmt)} - {seconds} sec.)",
                )
        elif when < now - MAX_SKEW:
            raise AuthError(
                "InvalidSignatureException",
                f"Signature expired: {stamp} is now earlier than "
                f"{(now - MAX_SKEW).strftime(fmt)} ({now.strftime(fmt)} - 5 min.)",
            )
        if when > now + MAX_SKEW:
            raise AuthError(
                "InvalidSignatureException",
                f"Signature not yet current: {stamp} is still later than "
                f"{(now + MAX_SKEW).strftime(fmt)} ({now.strftime(fmt)} + 5 min.)",
            )


def verifier_for(config: ServiceConfig) -> Verifier | None:
    """The service's verifier, or None when it has no credentials to verify against."""
    if not config.access_key or not config.secret_key:
        log.warning("SigV4 verification is off: the service was started without credentials")
        return None
    return Verifier(config.access_key, config.secret_key, config.region)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def sigv4_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Verify every request on the service port except ``/_sandbox/*`` (when credentials are
    configured); refuse with AWS's 403 before the handler runs."""
    verifier: Verifier | None = request.app.get("sigv4")
    if verifier is None or request.path.startswith("/_sandbox/"):
        return await handler(request)
    from sandbox.service.invoke_api import aws_error

    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge as e:
        return aws_error(413, "RequestTooLargeException", f"Request is too large: {e.text}")
    signed = SignedRequest(
        request.method,
        request.raw_path,
        [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers],
        body,
    )
    try:
        verifier.verify(signed)
    except AuthError as e:
        log.warning("refused %s %s: %s", request.method, request.path, e.error_type)
        return aws_error(403, e.error_type, str(e))
    return await handler(request)
