"""The real handler against a real S3 server over HTTP (MinIO and/or SeaweedFS)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import lambda_function
from s3_manifest import AccessDenied, BadRequest, BucketNotFound, RunAborted, TmpFull
from tests.integration.conftest import temp_dir_as

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.4\n%fake but enough for S3\n"


def put(client: Any, bucket: str, keys: list[str]) -> dict[str, bytes]:
    bodies = {}
    for i, key in enumerate(keys):
        body = PDF + f"{i}:{key}".encode()
        client.put_object(Bucket=bucket, Key=key, Body=body)
        bodies[key] = body
    return bodies


def manifest_lines(client: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    text = client.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    return [json.loads(line) for line in text.splitlines()]


def manifests(client: Any, bucket: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=bucket, Prefix="manifests/")
    return [o["Key"] for o in listing.get("Contents", [])]


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


WEIRD_KEYS = [
    "2026/04/plain.pdf",
    "2026/04/with space.pdf",
    "2026/04/unicodé ünïcode 日本.pdf",
    "2026/04/plus+sign.pdf",
    "2026/04/percent%20literal.pdf",
    "2026/04/hash#and?question.pdf",
    "2026/04/equals=amp&tilde~.pdf",
    "2026/04/UPPER.PDF",
    "2026/04/nested/deeper.pdf",
]
NOISE_KEYS = [
    "2026/04/notes.txt",
    "2026/04/data.csv",
    "2026/04/old.pdf.bak",
    "2026/04/pdf",
    "2026/03/march.pdf",
    "2026/05/may.pdf",
    "2026/040/not-the-folder.pdf",
]


def test_handler_lists_every_pdf_under_the_prefix_and_nothing_else(
    s3_sandbox: Any, s3_bucket: str, function_env: dict[str, str], lambda_tmp: Path
) -> None:
    client = s3_sandbox.client()
    bodies = put(client, s3_bucket, WEIRD_KEYS + NOISE_KEYS)

    response = lambda_function.handler({"bucket": s3_bucket, "prefix": "2026/04/"}, None)

    assert response["count"] == len(WEIRD_KEYS)
    assert response["manifest_key"].startswith("manifests/")
    assert response["manifest_key"].endswith(".jsonl")
    assert len(json.dumps(response)) < 1024
    lines = manifest_lines(client, s3_bucket, response["manifest_key"])
    assert sorted(line["key"] for line in lines) == sorted(WEIRD_KEYS)
    for line in lines:
        assert download(line["url"]) == bodies[line["key"]], line["key"]
        assert line["size"] == len(bodies[line["key"]])
        assert line["etag"] and line["last_modified"]
    head = client.head_object(Bucket=s3_bucket, Key=response["manifest_key"])
    assert head["ContentType"] == "application/x-ndjson"
    assert download(response["manifest_url"]).count(b"\n") == len(WEIRD_KEYS)
    assert list(lambda_tmp.iterdir()) == []


def test_many_pages_and_a_tiny_queue_still_give_every_key(
    s3_sandbox: Any,
    s3_bucket: str,
    function_env: dict[str, str],
    lambda_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = s3_sandbox.client()
    keys = [f"2026/04/r{i:04d}.pdf" for i in range(25)]
    put(client, s3_bucket, keys)
    monkeypatch.setenv("PAGE_SIZE", "7")  # 4 pages
    monkeypatch.setenv("QUEUE_MAXSIZE", "1")
    monkeypatch.setenv("CONSUMERS", "3")

    response = lambda_function.handler({"bucket": s3_bucket, "prefix": "2026/04/"}, None)

    assert response["count"] == 25
    lines = manifest_lines(client, s3_bucket, response["manifest_key"])
    assert sorted(line["key"] for line in lines) == keys


def test_an_empty_prefix_gives_count_zero_and_an_empty_manifest(
    s3_sandbox: Any, s3_bucket: str, function_env: dict[str, str], lambda_tmp: Path
) -> None:
    client = s3_sandbox.client()
    put(client, s3_bucket, ["2026/03/march.pdf"])

    response = lambda_function.handler({"bucket": s3_bucket, "prefix": "2026/04/"}, None)

    assert response["count"] == 0
    assert client.get_object(Bucket=s3_bucket, Key=response["manifest_key"])["Body"].read() == b""
    assert download(response["manifest_url"]) == b""


def test_s3_event_runs_the_folder_and_ignores_its_own_manifest_upload(
    s3_sandbox: Any, s3_bucket: str, function_env: dict[str, str], lambda_tmp: Path
) -> None:
    client = s3_sandbox.client()
    put(client, s3_bucket, ["2026/04/a b+c.pdf", "2026/04/d.pdf"])
    record = {
        "eventSource": "aws:s3",
        "s3": {"bucket": {"name": s3_bucket}, "object": {"key": "2026/04/a+b%2Bc.pdf"}},
    }

    response = lambda_function.handler({"Records": [record]}, None)
    assert (response["count"], response["prefix"]) == (2, "2026/04/")

    record["s3"]["object"]["key"] = response["manifest_key"]
    again = lambda_function.handler({"Records": [record]}, None)
    assert again["count"] == 0 and "recursive" in again["skipped"][0]
    assert manifests(client, s3_bucket) == [response["manifest_key"]]


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_api_gateway_gets_proxy_responses_200_400_and_404(
    s3_sandbox: Any, s3_bucket: str, function_env: dict[str, str], lambda_tmp: Path, version: str
) -> None:
    put(s3_sandbox.client(), s3_bucket, ["2026/04/a.pdf"])

    def call(query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if version == "1.0":
            event = {"httpMethod": "GET", "requestContext": {}, "queryStringParameters": query}
        else:
            event = {"version": "2.0", "requestContext": {"http": {"method": "GET"}}}
            event["queryStringParameters"] = query
        response = lambda_function.handler(event, None)
        assert response["headers"]["Content-Type"] == "application/json"
        return response["statusCode"], json.loads(response["body"])

    status, body = call({"bucket": s3_bucket, "prefix": "2026/04/"})
    assert (status, body["count"]) == (200, 1)
    status, body = call({"bucket": "Bad_Bucket!"})
    assert status == 400 and "invalid bucket name" in body["message"]
    status, body = call({"bucket": f"{s3_bucket}-missing", "prefix": "2026/04/"})
    assert status == 404 and body["error"] == "BucketNotFound"
    assert list(lambda_tmp.iterdir()) == []


def test_missing_bucket_raises_and_leaves_nothing(
    s3_sandbox: Any, s3_bucket: str, function_env: dict[str, str], lambda_tmp: Path
) -> None:
    with pytest.raises(BucketNotFound, match="does not exist"):
        lambda_function.handler({"bucket": f"{s3_bucket}-missing"}, None)
    assert list(lambda_tmp.iterdir()) == []


def test_wrong_credentials_raise_access_denied_and_leave_nothing(
    s3_sandbox: Any,
    s3_bucket: str,
    function_env: dict[str, str],
    lambda_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = s3_sandbox.client()
    put(client, s3_bucket, ["2026/04/a.pdf"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")

    with pytest.raises(AccessDenied, match="refused to list"):
        lambda_function.handler({"bucket": s3_bucket, "prefix": "2026/04/"}, None)

    assert list(lambda_tmp.iterdir()) == []
    assert manifests(client, s3_bucket) == []


def test_bad_input_is_refused_before_any_request(
    s3_sandbox: Any, s3_bucket: str, function_env: dict[str, str], lambda_tmp: Path
) -> None:
    with pytest.raises(BadRequest, match="expected an S3 notification"):
        lambda_function.handler(["not", "an", "object"], None)
    assert list(lambda_tmp.iterdir()) == []


def test_presigned_urls_are_refused_once_tampered(
    s3_sandbox: Any, s3_bucket: str, function_env: dict[str, str], lambda_tmp: Path
) -> None:
    put(s3_sandbox.client(), s3_bucket, ["2026/04/a.pdf"])
    response = lambda_function.handler({"bucket": s3_bucket, "prefix": "2026/04/"}, None)
    url = response["manifest_url"]
    signature = url.rsplit("X-Amz-Signature=", 1)[1][:64]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    with pytest.raises(urllib.error.HTTPError) as refused:
        download(url.replace(signature, flipped))
    refused.value.close()
    assert refused.value.code == 403


class _Context:
    """Just enough of a Lambda context for the handler's deadline."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_a_run_that_would_outlive_the_timeout_stops_itself_and_leaves_nothing(
    s3_sandbox: Any, s3_bucket: str, function_env: dict[str, str], lambda_tmp: Path
) -> None:
    client = s3_sandbox.client()
    put(client, s3_bucket, ["2026/04/a.pdf", "2026/04/b.pdf"])

    # 500 ms left is exactly the safety margin: the run must stop at once.
    with pytest.raises(RunAborted, match="before the function's timeout"):
        lambda_function.handler({"bucket": s3_bucket, "prefix": "2026/04/"}, _Context(500))

    assert list(lambda_tmp.iterdir()) == []
    assert manifests(client, s3_bucket) == []


def test_a_full_tmp_raises_tmp_full_uploads_nothing_and_removes_the_spool(
    s3_sandbox: Any, s3_bucket: str, function_env: dict[str, str]
) -> None:
    from sandbox.runtime.tmpdir import TmpDir

    client = s3_sandbox.client()
    put(client, s3_bucket, [f"2026/04/{'long-name-' * 20}{i}.pdf" for i in range(40)])
    with TmpDir(1) as tmp:
        if tmp.mode != "tmpfs":
            pytest.skip(f"needs a size-limited tmpfs (root): {tmp.why_not_tmpfs}")
        filler = Path(tmp.path) / "filler"
        filler.write_bytes(b"\0" * (1024 * 1024 - 16 * 1024))  # leaves ~16 KB
        with temp_dir_as(tmp.path), pytest.raises(TmpFull, match="no space left"):
            lambda_function.handler({"bucket": s3_bucket, "prefix": "2026/04/"}, None)
        assert [p.name for p in Path(tmp.path).iterdir()] == ["filler"]
    assert manifests(client, s3_bucket) == []
