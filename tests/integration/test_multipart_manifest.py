"""The manifest as a multipart upload: bounded /tmp, and nothing left behind on any failure.

S3 refuses non-last parts under 5 MiB, so these tests make lines big instead of parts small:
keys of ~1000 bytes of CJK text (each character 3 bytes, 9 once percent-encoded in the URL)
give ~4.5 KB lines, and 1,600 objects make a ~7 MB manifest of two parts at MANIFEST_PART_MB=5.
Failures are placed with a small proxy in front of the real server (`s3_proxy`), so the
function's real client meets a real HTTP error at exactly the step under test.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import lambda_function
from s3_manifest import ListingFailed, ManifestUploadFailed, RunAborted, TmpFull
from tests.integration.conftest import temp_dir_as
from tests.integration.s3_proxy import Fail, S3Proxy, Stall

pytestmark = pytest.mark.integration

PREFIX = "2026/04/"
N = 1600
PART_MB = 5
# Path segments stay under 255 bytes (MinIO stores each as a file name).
_SEGMENT = "報告書" * 27 + "月"  # 82 characters, 246 bytes


def long_key(i: int) -> str:
    return f"{PREFIX}{_SEGMENT}/{_SEGMENT}/{_SEGMENT}/{'書' * 78}-{i:05d}.pdf"


def uploads(client: Any, bucket: str) -> list[str]:
    return [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def manifest_objects(client: Any, bucket: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=bucket, Prefix="manifests/")
    return [o["Key"] for o in listing.get("Contents", [])]


def lines_of(client: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    text = client.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def big_bucket(s3_sandbox: Any) -> Iterator[tuple[str, list[str]]]:
    """One bucket per backend with N long-key PDFs, shared by this module's tests."""
    client = s3_sandbox.client()
    name = f"test-mp-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name)
    keys = [long_key(i) for i in range(N)]
    assert len(keys[0].encode()) <= 1024
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: client.put_object(Bucket=name, Key=k, Body=b"%PDF-1.4\n"), keys))
    try:
        yield name, keys
    finally:
        from sandbox.pytest_plugin import _empty_and_delete

        _empty_and_delete(client, name)


@pytest.fixture
def clean_manifests(s3_sandbox: Any, big_bucket: tuple[str, list[str]]) -> Iterator[None]:
    """Each test starts and ends with no manifest and no open upload in the shared bucket."""
    client, bucket = s3_sandbox.client(), big_bucket[0]

    def clean() -> None:
        for key in manifest_objects(client, bucket):
            client.delete_object(Bucket=bucket, Key=key)
        for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )

    clean()
    yield
    clean()


@pytest.fixture
def mp_env(
    function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, clean_manifests: None
) -> dict[str, str]:
    monkeypatch.setenv("MANIFEST_PART_MB", str(PART_MB))
    monkeypatch.setenv("PAGE_SIZE", "500")  # pages end at 500, 1000, 1500, 1600
    # The producer stays one entry ahead of the writer, so a failure placed on the 4th
    # listing request comes after part 1 (line ~1200) was uploaded.
    monkeypatch.setenv("QUEUE_MAXSIZE", "1")
    return function_env


class HardStopOnly:
    """A context whose deadline only the hard stop sees.

    The handler's first reading of the remaining time sets its hard stop (500 ms before it);
    every later reading (the per-page rule) says an hour is left, so the round is never cut
    short gracefully and only the hard stop, in real time, can end a stalled run.
    """

    def __init__(self, budget_ms: int) -> None:
        self.budget_ms, self.calls = budget_ms, 0

    def get_remaining_time_in_millis(self) -> int:
        self.calls += 1
        return self.budget_ms if self.calls == 1 else 3_600_000


def assert_nothing_left(client: Any, bucket: str, tmp: Path) -> None:
    assert uploads(client, bucket) == [], "an orphan multipart upload"
    assert manifest_objects(client, bucket) == [], "a half manifest"
    assert list(tmp.iterdir()) == [], "a temp file"


def test_a_manifest_bigger_than_a_part_is_uploaded_in_parts_with_the_same_key_and_lines(
    s3_sandbox: Any,
    big_bucket: tuple[str, list[str]],
    mp_env: dict[str, str],
    lambda_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket, keys = big_bucket
    client = s3_sandbox.client()
    with S3Proxy(s3_sandbox.endpoint.url) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
        response = lambda_function.handler({"bucket": bucket, "prefix": PREFIX}, None)
    ops = proxy.operations()
    assert ops.count("UploadPart") == 2 and ops.count("CompleteMultipartUpload") == 1
    assert response["count"] == N and response["done"] is True
    assert response["manifest_key"].startswith("manifests/")
    assert response["manifest_key"].endswith(".jsonl") and response["manifest_key"].count("/") == 1
    head = client.head_object(Bucket=bucket, Key=response["manifest_key"])
    assert head["ContentType"] == "application/x-ndjson"
    assert head["ContentLength"] > PART_MB * 1024 * 1024
    lines = lines_of(client, bucket, response["manifest_key"])
    assert [line["key"] for line in lines] == keys  # listing order, each once
    assert set(lines[0]) == {"key", "size", "etag", "last_modified", "url"}
    assert uploads(client, bucket) == [] and list(lambda_tmp.iterdir()) == []


def test_tmp_never_holds_more_than_one_part_plus_a_line(
    s3_sandbox: Any, big_bucket: tuple[str, list[str]], mp_env: dict[str, str]
) -> None:
    from sandbox.runtime.tmpdir import TmpDir

    bucket, _ = big_bucket
    # A /tmp of 6 MiB cannot hold the ~7 MB manifest whole: only a bounded spool fits.
    with TmpDir(6) as tmp, temp_dir_as(tmp.path):
        if tmp.mode != "tmpfs":
            pytest.skip(f"needs a size-limited tmpfs (root): {tmp.why_not_tmpfs}")
        response = lambda_function.handler({"bucket": bucket, "prefix": PREFIX}, None)
        assert list(Path(tmp.path).iterdir()) == []
    client = s3_sandbox.client()
    size = client.head_object(Bucket=bucket, Key=response["manifest_key"])["ContentLength"]
    assert size > 6 * 1024 * 1024 and response["count"] == N


def test_a_listing_error_mid_way_aborts_the_upload_and_leaves_nothing(
    s3_sandbox: Any,
    big_bucket: tuple[str, list[str]],
    mp_env: dict[str, str],
    lambda_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket, _ = big_bucket

    def rule(method: str, op: str, n: int) -> Fail | None:
        return Fail(500, "InternalError") if op == "ListObjectsV2" and n >= 4 else None

    with S3Proxy(s3_sandbox.endpoint.url, rule) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
        with pytest.raises(ListingFailed, match="listing s3://"):
            lambda_function.handler({"bucket": bucket, "prefix": PREFIX}, None)
    ops = proxy.operations()
    assert "UploadPart" in ops and ops[-1] == "AbortMultipartUpload", ops
    assert_nothing_left(s3_sandbox.client(), bucket, lambda_tmp)


def test_a_failed_part_upload_aborts_the_upload_and_leaves_nothing(
    s3_sandbox: Any,
    big_bucket: tuple[str, list[str]],
    mp_env: dict[str, str],
    lambda_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket, _ = big_bucket

    def rule(method: str, op: str, n: int) -> Fail | None:
        return Fail(403, "AccessDenied") if op == "UploadPart" else None

    with S3Proxy(s3_sandbox.endpoint.url, rule) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
        with pytest.raises(ManifestUploadFailed, match="upload_part for the manifest"):
            lambda_function.handler({"bucket": bucket, "prefix": PREFIX}, None)
    ops = proxy.operations()
    assert ops.count("CreateMultipartUpload") == 1 and ops[-1] == "AbortMultipartUpload", ops
    assert_nothing_left(s3_sandbox.client(), bucket, lambda_tmp)


def test_a_tmp_that_fills_after_a_part_was_uploaded_aborts_and_leaves_nothing(
    s3_sandbox: Any,
    big_bucket: tuple[str, list[str]],
    mp_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sandbox.runtime.tmpdir import TmpDir

    bucket, _ = big_bucket
    with TmpDir(8) as tmp:
        if tmp.mode != "tmpfs":
            pytest.skip(f"needs a size-limited tmpfs (root): {tmp.why_not_tmpfs}")
        filler = Path(tmp.path) / "filler"

        def fill_tmp() -> None:
            # Something else fills /tmp while the function waits for its 4th page.
            with open(filler, "wb") as f:
                try:
                    while True:
                        f.write(b"\0" * 65536)
                        f.flush()
                except OSError:
                    pass

        def rule(method: str, op: str, n: int) -> Any:
            return fill_tmp if op == "ListObjectsV2" and n == 4 else None

        with S3Proxy(s3_sandbox.endpoint.url, rule) as proxy, temp_dir_as(tmp.path):
            monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
            # The paginator asks for a page only once the last one is taken, so "the 4th
            # request" is a fixed point in the writer (the lean lister asks one page ahead).
            monkeypatch.setenv("LISTER", "botocore")
            with pytest.raises(TmpFull, match="no space left"):
                lambda_function.handler({"bucket": bucket, "prefix": PREFIX}, None)
        ops = proxy.operations()
        assert "UploadPart" in ops and ops[-1] == "AbortMultipartUpload", ops
        assert [p.name for p in Path(tmp.path).iterdir()] == ["filler"]
    client = s3_sandbox.client()
    assert uploads(client, bucket) == [] and manifest_objects(client, bucket) == []


@pytest.mark.slow
def test_the_deadline_during_a_part_upload_aborts_it_and_leaves_nothing(
    s3_sandbox: Any,
    big_bucket: tuple[str, list[str]],
    mp_env: dict[str, str],
    lambda_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket, _ = big_bucket

    def rule(method: str, op: str, n: int) -> Stall | None:
        return Stall() if op == "UploadPart" else None  # S3 hangs on the first part

    context = HardStopOnly(20_000)
    with S3Proxy(s3_sandbox.endpoint.url, rule) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
        with pytest.raises(RunAborted, match="before the function's timeout"):
            lambda_function.handler({"bucket": bucket, "prefix": PREFIX}, context)
    ops = proxy.operations()
    assert "UploadPart" in ops and ops[-1] == "AbortMultipartUpload", ops
    assert_nothing_left(s3_sandbox.client(), bucket, lambda_tmp)


def test_a_first_round_cut_after_parts_were_uploaded_becomes_part_one_of_the_run(
    s3_sandbox: Any, big_bucket: tuple[str, list[str]], mp_env: dict[str, str], lambda_tmp: Path
) -> None:
    from tests.integration.test_continuation import run_rounds

    bucket, keys = big_bucket
    client = s3_sandbox.client()

    # Round 1 takes 3 pages (1,500 lines: a multipart upload), round 2 the last 100.
    responses = run_rounds({"bucket": bucket, "prefix": PREFIX}, pages=3)

    assert [r["done"] for r in responses] == [False, True]
    run = responses[0]["run"]
    assert [r["manifest_key"] for r in responses] == [
        f"manifests/{run}/part-00001.jsonl",
        f"manifests/{run}/part-00002.jsonl",
    ]
    got = [line["key"] for r in responses for line in lines_of(client, bucket, r["manifest_key"])]
    assert got == keys and responses[-1]["count"] == N
    assert f"manifests/{run}.jsonl" not in manifest_objects(client, bucket)  # moved, not copied
    assert uploads(client, bucket) == [] and list(lambda_tmp.iterdir()) == []
