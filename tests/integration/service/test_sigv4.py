"""SigV4 on the Invoke API over real HTTP: boto3, the AWS CLI, botocore-presigned URLs and raw
requests (unsigned, tampered after signing, wrong secret, unknown key, expired) against a
service that verifies signatures with the sandbox's credentials, as ``python -m sandbox up``
starts it. The API Gateway port and ``/_sandbox/*`` need none (see ``sandbox.service.auth``)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from sandbox import Sandbox
from sandbox.service import RunningService
from tests.integration.service.verified import signed_client, verified_service

pytestmark = pytest.mark.integration

AWS = Path(sys.executable).parent / "aws"
PATH = "/2015-03-31/functions/echo/invocations"
BODY = b'{"hello": "world"}'


@pytest.fixture(scope="module")
def svc(
    minio: tuple[Sandbox, int, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    with verified_service(minio[0], tmp_path_factory.mktemp("sigv4")) as running:
        yield running


@pytest.fixture(scope="module")
def sb(minio: tuple[Sandbox, int, int]) -> Sandbox:
    return minio[0]


def sign(
    sb: Sandbox,
    svc: RunningService,
    *,
    body: bytes = BODY,
    secret: str | None = None,
    at: datetime | None = None,
    headers: dict[str, str] | None = None,
) -> AWSRequest:
    """botocore's SigV4 over a POST to ``PATH``; at ``at`` when given (botocore's own steps,
    with the timestamp chosen instead of read from the clock)."""
    request = AWSRequest(method="POST", url=svc.url + PATH, data=body, headers=headers or {})
    auth = SigV4Auth(
        Credentials(sb.endpoint.access_key, secret or sb.endpoint.secret_key),
        "lambda",
        sb.endpoint.region,
    )
    if at is None:
        auth.add_auth(request)
        return request
    request.context["timestamp"] = at.strftime("%Y%m%dT%H%M%SZ")
    auth._modify_request_before_signing(request)
    signature = auth.signature(
        auth.string_to_sign(request, auth.canonical_request(request)), request
    )
    auth._inject_signature_to_request(request, signature)
    return request


def send(
    svc: RunningService, request: AWSRequest, *, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    """POST the signed request with http.client, optionally with another body than signed."""
    parts = urlsplit(request.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        headers = {k: v for k, v in request.headers.items()}
        payload = request.body if body is None else body
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request("POST", target, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def refused_as(status_headers_body: tuple[int, dict[str, str], bytes], error_type: str) -> str:
    status, headers, body = status_headers_body
    assert status == 403, (status, body)
    assert headers["x-amzn-ErrorType"] == error_type
    message: str = json.loads(body)["message"]
    return message


def test_boto3_signed_with_the_sandboxs_credentials_invokes(
    svc: RunningService, sb: Sandbox
) -> None:
    client = signed_client(svc, sb)
    try:
        out = client.invoke(FunctionName="echo", Payload=BODY)
        assert out["StatusCode"] == 200
        assert json.loads(out["Payload"].read())["event"] == {"hello": "world"}
    finally:
        client.close()


@pytest.mark.parametrize(
    ("kw", "code"),
    [({"secret": "wrong-secret"}, "InvalidSignatureException"),
     ({"access": "AKIDNOTTHESANDBOX"}, "UnrecognizedClientException")],
)  # fmt: skip
def test_boto3_with_other_credentials_raises_a_clear_403(
    svc: RunningService, sb: Sandbox, kw: dict[str, str], code: str
) -> None:
    client = signed_client(svc, sb, **kw)
    try:
        with pytest.raises(ClientError) as info:
            client.invoke(FunctionName="echo", Payload=BODY)
    finally:
        client.close()
    error = info.value.response
    assert error["Error"]["Code"] == code
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "python -m sandbox env" in error["Error"]["Message"]
    assert sb.endpoint.secret_key not in str(info.value)


def test_an_unsigned_request_gets_403_missing_authentication_token(svc: RunningService) -> None:
    request = AWSRequest(method="POST", url=svc.url + PATH, data=BODY)
    message = refused_as(send(svc, request), "MissingAuthenticationTokenException")
    assert message == "Missing Authentication Token"


def test_a_body_changed_after_signing_gets_403_invalid_signature(
    svc: RunningService, sb: Sandbox
) -> None:
    request = sign(sb, svc)
    assert send(svc, request)[0] == 200  # the same request, untouched, passes
    message = refused_as(
        send(svc, request, body=BODY.replace(b"world", b"WORLD")), "InvalidSignatureException"
    )
    assert "does not match the signature you provided" in message


def test_a_signed_header_changed_after_signing_gets_403(svc: RunningService, sb: Sandbox) -> None:
    request = sign(sb, svc, headers={"X-Amz-Invocation-Type": "DryRun"})
    assert send(svc, request)[0] == 204
    request.headers.replace_header("X-Amz-Invocation-Type", "RequestResponse")
    refused_as(send(svc, request), "InvalidSignatureException")


def test_a_wrong_secret_gets_403_invalid_signature(svc: RunningService, sb: Sandbox) -> None:
    refused_as(send(svc, sign(sb, svc, secret="not-the-secret")), "InvalidSignatureException")


def test_a_request_dated_6_minutes_ago_gets_403_signature_expired(
    svc: RunningService, sb: Sandbox
) -> None:
    old = datetime.now(UTC) - timedelta(minutes=6)
    message = refused_as(send(svc, sign(sb, svc, at=old)), "InvalidSignatureException")
    assert message.startswith(f"Signature expired: {old:%Y%m%dT%H%M%SZ} is now earlier than")
    assert message.endswith(" - 5 min.)")
    recent = datetime.now(UTC) - timedelta(minutes=4)
    assert send(svc, sign(sb, svc, at=recent))[0] == 200  # within AWS's 5 minutes


def test_a_url_presigned_by_botocore_invokes_and_a_body_added_later_is_refused(
    svc: RunningService, sb: Sandbox
) -> None:
    # botocore's query signer signs the hash of an empty body (it moves a POST body away).
    request = AWSRequest(method="POST", url=svc.url + PATH, data=b"")
    creds = Credentials(sb.endpoint.access_key, sb.endpoint.secret_key)
    SigV4QueryAuth(creds, "lambda", sb.endpoint.region, expires=60).add_auth(request)
    assert "X-Amz-Signature=" in request.url and "Authorization" not in request.headers
    status, _, body = send(svc, request)
    assert status == 200 and json.loads(body)["event"] == {}
    refused_as(send(svc, request, body=BODY), "InvalidSignatureException")


def test_status_route_and_the_api_port_need_no_signature(svc: RunningService) -> None:
    for url, path in ((svc.url, "/_sandbox/status"), (svc.config.api_url, "/anything")):
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        assert response.status != 403, path


def test_an_unknown_operation_is_verified_too(svc: RunningService) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", svc.config.port, timeout=30)
    try:
        conn.request("GET", "/2015-03-31/functions")  # ListFunctions: not implemented locally
        response = conn.getresponse()
        assert response.status == 403
        assert response.getheader("x-amzn-ErrorType") == "MissingAuthenticationTokenException"
        response.read()
    finally:
        conn.close()


def test_the_aws_cli_with_the_sandboxs_credentials_invokes_and_a_wrong_secret_is_refused(
    svc: RunningService, sb: Sandbox, tmp_path: Path
) -> None:
    if not AWS.exists():
        pytest.skip("the AWS CLI is not installed in this venv (pip install -e '.[dev]')")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(tmp_path),
        AWS_ACCESS_KEY_ID=sb.endpoint.access_key,
        AWS_SECRET_ACCESS_KEY=sb.endpoint.secret_key,
        AWS_DEFAULT_REGION=sb.endpoint.region,
        AWS_ENDPOINT_URL_LAMBDA=svc.url,
        AWS_MAX_ATTEMPTS="1",
    )
    args = [str(AWS), "lambda", "invoke", "--function-name", "echo", str(tmp_path / "out.json")]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["StatusCode"] == 200
    env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "(InvalidSignatureException)" in done.stderr
    assert "does not match the signature you provided" in done.stderr


def test_refusals_are_logged_without_any_secret(svc: RunningService, sb: Sandbox) -> None:
    refused_as(send(svc, sign(sb, svc, secret="a-wrong-secret-xyz")), "InvalidSignatureException")
    log = (Path(svc.config.run_dir) / "service.log").read_text()
    assert "refused POST /2015-03-31/functions/echo/invocations: InvalidSignatureException" in log
    assert sb.endpoint.secret_key not in log and "a-wrong-secret-xyz" not in log
    for path in Path(svc.config.run_dir).rglob("*.log"):
        assert sb.endpoint.secret_key not in path.read_text(errors="replace"), path
