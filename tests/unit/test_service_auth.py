"""SigV4 verification (``sandbox.service.auth``) against two independent signers: botocore's
``SigV4Auth``/``SigV4QueryAuth`` and the function's own presigner (``s3_manifest._sigv4``).

No server here: the requests are what the signers produce, handed to the verifier as the wire
would (the integration tests send them over HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials

from s3_manifest._sigv4 import BucketLocation, SigV4QueryPresigner
from sandbox.service.auth import AuthError, SignedRequest, Verifier

AK, SK, REGION = "AKIDSANDBOX", "sandbox-secret-key", "us-east-1"
NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)  # for the function's own signer (a clock)
FMT = "%Y%m%dT%H%M%SZ"
URL = "http://127.0.0.1:9001/2015-03-31/functions/my-fn%3A%24LATEST/invocations?Qualifier=x"
BODY = b'{"bucket": "b", "prefix": "2026/"}'


def verifier(now: datetime = NOW) -> Verifier:
    return Verifier(AK, SK, REGION, clock=lambda: now)


def signing_time(request: SignedRequest) -> datetime:
    """The X-Amz-Date botocore put on ``request`` (it signs with the real clock)."""
    stamp = dict(request.headers).get("X-Amz-Date")  # type: ignore[arg-type]
    if stamp is None:
        return NOW
    return datetime.strptime(stamp, FMT).replace(tzinfo=UTC)


def seen_after(request: SignedRequest, delta: timedelta) -> Verifier:
    """A verifier whose clock reads ``delta`` after the moment ``request`` was signed."""
    return verifier(signing_time(request) + delta)


def botocore_signed(
    *,
    secret: str = SK,
    access: str = AK,
    region: str = REGION,
    service: str = "lambda",
    url: str = URL,
    body: bytes = BODY,
    headers: dict[str, str] | None = None,
) -> SignedRequest:
    """A request as botocore's lambda client signs it (SigV4Auth, headers), now."""
    request = AWSRequest(method="POST", url=url, data=body, headers=headers or {})
    SigV4Auth(Credentials(access, secret), service, region).add_auth(request)
    return wire(request, url)


def wire(request: AWSRequest, url: str) -> SignedRequest:
    prepared = request.prepare()
    headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in prepared.headers.items()}
    headers["Host"] = "127.0.0.1:9001"
    raw = prepared.url.split("127.0.0.1:9001", 1)[1]
    body = prepared.body or b""
    return SignedRequest(prepared.method, raw, headers, body if isinstance(body, bytes) else b"")


def refused(request: SignedRequest, v: Verifier | None = None) -> AuthError:
    with pytest.raises(AuthError) as info:
        (v or seen_after(request, timedelta(0))).verify(request)
    return info.value


def test_a_request_botocore_signs_for_lambda_is_accepted() -> None:
    request = botocore_signed()
    seen_after(request, timedelta(0)).verify(request)


def test_a_request_signed_4_minutes_ago_or_ahead_is_still_accepted() -> None:
    request = botocore_signed()
    seen_after(request, timedelta(minutes=4)).verify(request)
    seen_after(request, -timedelta(minutes=4)).verify(request)


def test_an_unsigned_request_gets_missing_authentication_token() -> None:
    e = refused(SignedRequest("POST", "/2015-03-31/functions/f/invocations", {"Host": "h"}, BODY))
    assert e.error_type == "MissingAuthenticationTokenException"
    assert str(e) == "Missing Authentication Token"


def test_a_changed_body_is_an_invalid_signature() -> None:
    good = botocore_signed()
    tampered = SignedRequest(good.method, good.raw_path, good.headers, BODY.replace(b"b", b"c"))
    e = refused(tampered)
    assert e.error_type == "InvalidSignatureException"
    assert "does not match the signature you provided" in str(e)


def test_a_changed_signed_header_is_an_invalid_signature() -> None:
    good = botocore_signed(headers={"X-Amz-Invocation-Type": "Event"})
    headers = dict(good.headers)  # type: ignore[arg-type]
    assert "x-amz-invocation-type" in headers["Authorization"]
    headers["X-Amz-Invocation-Type"] = "RequestResponse"
    e = refused(SignedRequest(good.method, good.raw_path, headers, good.body))
    assert e.error_type == "InvalidSignatureException"


def test_a_changed_path_or_query_is_an_invalid_signature() -> None:
    good = botocore_signed()
    for raw in (good.raw_path.replace("my-fn", "other"), good.raw_path.replace("=x", "=y")):
        assert refused(SignedRequest(good.method, raw, good.headers, good.body)).error_type == (
            "InvalidSignatureException"
        )


def test_the_wrong_secret_is_an_invalid_signature_and_the_message_names_no_secret() -> None:
    e = refused(botocore_signed(secret="not-the-secret"))
    assert e.error_type == "InvalidSignatureException"
    assert SK not in str(e) and "not-the-secret" not in str(e)
    assert "python -m sandbox env" in str(e)


def test_an_unknown_access_key_is_an_unrecognized_client() -> None:
    e = refused(botocore_signed(access="AKIDSOMEONEELSE"))
    assert e.error_type == "UnrecognizedClientException"
    assert "The security token included in the request is invalid." in str(e)


def test_a_session_token_the_sandbox_never_issued_is_an_unrecognized_client() -> None:
    request = AWSRequest(method="POST", url=URL, data=BODY)
    SigV4Auth(Credentials(AK, SK, "a-session-token"), "lambda", REGION).add_auth(request)
    assert refused(wire(request, URL)).error_type == "UnrecognizedClientException"


def test_a_request_dated_more_than_5_minutes_ago_has_an_expired_signature() -> None:
    request = botocore_signed()
    signed = signing_time(request)
    now = signed + timedelta(minutes=5, seconds=1)
    e = refused(request, verifier(now))
    assert e.error_type == "InvalidSignatureException"
    assert str(e) == (
        f"Signature expired: {signed:{FMT}} is now earlier than "
        f"{signed + timedelta(seconds=1):{FMT}} ({now:{FMT}} - 5 min.)"
    )


def test_a_request_dated_more_than_5_minutes_ahead_is_not_yet_current() -> None:
    request = botocore_signed()
    e = refused(request, seen_after(request, -timedelta(minutes=6)))
    assert e.error_type == "InvalidSignatureException"
    assert str(e).startswith(f"Signature not yet current: {signing_time(request):{FMT}} is")


@pytest.mark.parametrize(
    ("kw", "says"),
    [
        ({"region": "eu-west-1"}, "scoped to a valid region, not 'eu-west-1'"),
        ({"service": "s3"}, "scoped to correct service: 'lambda'"),
    ],
)
def test_a_signature_for_another_region_or_service_is_refused(
    kw: dict[str, Any], says: str
) -> None:
    e = refused(botocore_signed(**kw))
    assert e.error_type == "InvalidSignatureException" and says in str(e)


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS4-HMAC-SHA256 Credential=AKIDSANDBOX/20261128/us-east-1/lambda/aws4_request",
        "AWS4-HMAC-SHA256 garbage",
        "AWS AKIDSANDBOX:c2lnbmF0dXJl",  # SigV2
        "AWS4-HMAC-SHA256 Credential=AKIDSANDBOX/lambda, SignedHeaders=host, Signature=00",
    ],
)
def test_a_malformed_authorization_header_is_an_incomplete_signature(authorization: str) -> None:
    headers = {"Host": "h", "Authorization": authorization, "X-Amz-Date": "20261128T120000Z"}
    e = refused(SignedRequest("POST", "/2015-03-31/functions/f/invocations", headers, b""))
    assert e.error_type == "IncompleteSignatureException"


def test_a_url_botocore_presigns_for_lambda_is_accepted_and_its_expiry_applies() -> None:
    request = AWSRequest(method="POST", url=URL, data=BODY)
    SigV4QueryAuth(Credentials(AK, SK), "lambda", REGION, expires=60).add_auth(request)
    signed = wire(request, URL)
    assert "X-Amz-Signature=" in signed.raw_path and "Authorization" not in dict(signed.headers)
    stamp = signed.raw_path.split("X-Amz-Date=", 1)[1][:16]
    at = datetime.strptime(stamp, FMT).replace(tzinfo=UTC)
    verifier(at + timedelta(seconds=59)).verify(signed)
    e = refused(signed, verifier(at + timedelta(seconds=61)))
    assert e.error_type == "InvalidSignatureException" and "Signature expired" in str(e)


def test_a_url_the_functions_own_presigner_signs_for_lambda_is_accepted() -> None:
    # The repository's signer makes GET URLs (host signed, unsigned payload): verified as such.
    presigner = SigV4QueryPresigner(clock=lambda: NOW)
    location = BucketLocation(
        url_prefix="http://127.0.0.1:9001/2015-03-31/functions",
        path_prefix="/2015-03-31/functions",
        host="127.0.0.1:9001",
        region=REGION,
        service="lambda",
    )
    url = presigner.presign_get(
        location, "my-fn/invocations", 300, ReadOnlyCredentials(AK, SK, None)
    )
    raw = url.split("127.0.0.1:9001", 1)[1]
    verifier().verify(SignedRequest("GET", raw, {"Host": "127.0.0.1:9001"}, b""))
    # The same URL with the wrong secret, or POSTed instead of GET, is refused.
    wrong = presigner.presign_get(
        location, "my-fn/invocations", 300, ReadOnlyCredentials(AK, "x", None)
    )
    raw_wrong = wrong.split("127.0.0.1:9001", 1)[1]
    assert refused(SignedRequest("GET", raw_wrong, {"Host": "127.0.0.1:9001"}, b"")).error_type == (
        "InvalidSignatureException"
    )
    assert refused(SignedRequest("POST", raw, {"Host": "127.0.0.1:9001"}, b"")).error_type == (
        "InvalidSignatureException"
    )


def test_the_verifier_agrees_with_botocore_on_odd_paths_and_queries() -> None:
    for url in (
        "http://127.0.0.1:9001/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/invocations",
        "http://127.0.0.1:9001/2015-03-31/functions/f/invocations?Qualifier=%24LATEST&a=b%20c&a=a",
        "http://127.0.0.1:9001/2015-03-31/functions/f.x_y-z/invocations?empty=",
    ):
        request = botocore_signed(url=url, body=b"")
        seen_after(request, timedelta(0)).verify(request)
