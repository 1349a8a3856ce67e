"""URLs from the fast presigner work against a real S3 server that checks signatures.

MinIO and SeaweedFS both verify SigV4 query signatures and expiry (moto does not, so it is
never used here). Each test asserts the fast path was really taken for the bucket.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aioboto3
import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from s3_manifest.presign import BucketLocation, make_presigner

KEYS = [
    "reports/2025/Q1 résumé+final.pdf",
    "odd/~tilde=eq&amp#hash?q%pct.pdf",
    "unicode/日本語/😀.pdf",
    "deep/" + "x" * 200 + "/end.pdf",
]


def _presign(
    sb: Any,
    bucket: str,
    keys: list[str],
    expires_in: int = 300,
    clock: Callable[[], datetime] | None = None,
    credentials: dict[str, str | None] | None = None,
) -> list[str]:
    endpoint = sb.endpoint
    creds = credentials or {
        "aws_access_key_id": endpoint.access_key,
        "aws_secret_access_key": endpoint.secret_key,
        "aws_session_token": getattr(endpoint, "session_token", None),
    }

    async def run() -> list[str]:
        session = aioboto3.Session(region_name=endpoint.region, **creds)
        config = Config(signature_version="s3v4", s3={"addressing_style": "path"})
        async with session.client("s3", endpoint_url=endpoint.url, config=config) as client:
            presigner = await make_presigner(client, clock=clock)
            urls = [await presigner.presign_get(bucket, key, expires_in) for key in keys]
            assert isinstance(presigner.buckets[bucket], BucketLocation), presigner.buckets
        return urls

    return asyncio.run(run())


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read()


def _put(sb: Any, bucket: str, keys: list[str]) -> dict[str, bytes]:
    bodies = {key: f"%PDF-1.4 body of {key}".encode() for key in keys}
    for key, body in bodies.items():
        sb.client().put_object(Bucket=bucket, Key=key, Body=body)
    return bodies


def test_fast_presigned_urls_download_the_right_bytes(s3_sandbox: Any, s3_bucket: str) -> None:
    bodies = _put(s3_sandbox, s3_bucket, KEYS)
    for key, url in zip(KEYS, _presign(s3_sandbox, s3_bucket, KEYS), strict=True):
        status, body = _get(url)
        assert (status, body) == (200, bodies[key]), f"{s3_sandbox.endpoint.backend}: {key!r}"


def test_an_expired_url_is_refused(s3_sandbox: Any, s3_bucket: str) -> None:
    _put(s3_sandbox, s3_bucket, KEYS[:1])
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    (url,) = _presign(s3_sandbox, s3_bucket, KEYS[:1], expires_in=60, clock=lambda: two_hours_ago)
    status, body = _get(url)
    assert status == 403, body


def test_a_url_with_a_changed_signature_is_refused(s3_sandbox: Any, s3_bucket: str) -> None:
    _put(s3_sandbox, s3_bucket, KEYS[:1])
    (url,) = _presign(s3_sandbox, s3_bucket, KEYS[:1])
    last = url[-1]
    tampered = url[:-1] + ("0" if last != "0" else "1")
    assert _get(url)[0] == 200
    status, body = _get(tampered)
    assert status == 403, body


def test_a_url_pointed_at_another_key_is_refused(s3_sandbox: Any, s3_bucket: str) -> None:
    _put(s3_sandbox, s3_bucket, ["a.pdf", "b.pdf"])
    (url,) = _presign(s3_sandbox, s3_bucket, ["a.pdf"])
    parts = urlsplit(url)
    tampered = urlunsplit(parts._replace(path=parts.path.replace("/a.pdf", "/b.pdf")))
    status, body = _get(tampered)
    assert status == 403, body


def test_a_url_signed_with_a_wrong_secret_is_refused(s3_sandbox: Any, s3_bucket: str) -> None:
    _put(s3_sandbox, s3_bucket, KEYS[:1])
    wrong = {
        "aws_access_key_id": s3_sandbox.endpoint.access_key,
        "aws_secret_access_key": s3_sandbox.endpoint.secret_key + "x",
        "aws_session_token": None,
    }
    (url,) = _presign(s3_sandbox, s3_bucket, KEYS[:1], credentials=wrong)
    status, body = _get(url)
    assert status == 403, body


def test_temporary_credentials_with_a_session_token_download(
    s3_sandbox: Any, s3_bucket: str
) -> None:
    # Lambda always runs with STS credentials. MinIO issues real ones through AssumeRole and
    # checks X-Amz-Security-Token; a server without STS skips with its answer.
    bodies = _put(s3_sandbox, s3_bucket, KEYS[:1])
    endpoint = s3_sandbox.endpoint
    client = boto3.client(
        "sts",
        endpoint_url=endpoint.url,
        region_name=endpoint.region,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        config=Config(retries={"max_attempts": 1}),
    )
    try:
        answer = client.assume_role(
            RoleArn="arn:aws:iam::000000000000:role/x", RoleSessionName="presign-test"
        )
    except ClientError as e:  # the server refused: it has no STS
        pytest.skip(f"{endpoint.backend} issues no temporary credentials: {e}")
    finally:
        client.close()
    temporary = answer["Credentials"]
    creds: dict[str, str | None] = {
        "aws_access_key_id": temporary["AccessKeyId"],
        "aws_secret_access_key": temporary["SecretAccessKey"],
        "aws_session_token": temporary["SessionToken"],
    }
    (url,) = _presign(s3_sandbox, s3_bucket, KEYS[:1], credentials=creds)
    assert "X-Amz-Security-Token=" in url
    assert _get(url) == (200, bodies[KEYS[0]])
    no_token = url.replace("X-Amz-Security-Token=", "X-Amz-Security-Tokem=")
    assert _get(no_token)[0] == 403
