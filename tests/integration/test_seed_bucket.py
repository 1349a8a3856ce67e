"""Seeding a real local S3 server: content, ground truth, idempotency, errors."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import uuid
from typing import Any

import pytest
from pypdf import PdfReader

from seed import (
    Connection,
    Plan,
    SeedConnectionError,
    SeedOptions,
    SeedResult,
    SizeRange,
    is_expected,
    load_expected,
    seed_bucket,
)

PREFIX = "2026/04/"
SMALL = SizeRange(2_000, 12_000)


def listing(client: Any, bucket: str, prefix: str = "") -> dict[str, str]:
    """Every key under ``prefix`` with its ETag (recursive, no delimiter)."""
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"]] = obj["ETag"]
    return found


def listed_like_the_function(client: Any, bucket: str, prefix: str) -> list[str]:
    return sorted(k for k in listing(client, bucket, prefix) if is_expected(k, prefix))


def seed(sb: Any, bucket: str, **kwargs: Any) -> SeedResult:
    options = {"prefix": PREFIX, "count": 60, "noise": 0.5, "sizes": SMALL, "seed": 7}
    return seed_bucket(sb.endpoint, bucket=bucket, **{**options, **kwargs})


def test_seeding_writes_valid_pdfs_and_a_ground_truth_that_matches_the_listing(
    s3_sandbox: Any, s3_bucket: str
) -> None:
    client = s3_sandbox.client()
    result = seed(s3_sandbox, s3_bucket)

    assert result.expected.count == 60
    assert result.uploaded == result.objects == 90
    assert result.skipped == 0
    assert listed_like_the_function(client, s3_bucket, PREFIX) == list(result.expected_keys)
    assert load_expected(client, s3_bucket) == result.expected
    planned = Plan(SeedOptions(bucket=s3_bucket, prefix=PREFIX, count=60, noise=0.5)).all_keys()
    assert set(listing(client, s3_bucket)) == {*planned, "seed/expected.json"}
    for key in result.expected_keys:
        obj = client.get_object(Bucket=s3_bucket, Key=key)
        assert obj["ContentType"] == "application/pdf"
        reader = PdfReader(io.BytesIO(obj["Body"].read()), strict=True)
        assert len(reader.pages) >= 1
        assert "Date: 2026-04-" in reader.pages[0].extract_text()


def test_the_weird_keys_survive_the_round_trip_to_the_server(
    s3_sandbox: Any, s3_bucket: str
) -> None:
    seed(s3_sandbox, s3_bucket, count=20)
    keys = set(listing(s3_sandbox.client(), s3_bucket))
    for key in (
        "2026/04/ANNUAL-SUMMARY.PDF",
        "2026/04/archive/2025-q4/nested-report.pdf",
        "2026/04/Relatório financeiro – São Paulo.pdf",
        "2026/04/is this final?.pdf",
        "2026/04/invoice #42.pdf",
        "2026/04/100% complete.pdf",
        "2026/04/a+b=c.pdf",
        "2026/04/literal %2F slash.pdf",
        "2026/04/monthly-sales-000000.pdf.bak",
        "2026/03/monthly-sales-000000.pdf",
        "2026/04.pdf",
        "manifests/previous-run.pdf",
    ):
        assert key in keys, key


def test_a_second_run_with_the_same_arguments_skips_everything(
    s3_sandbox: Any, s3_bucket: str
) -> None:
    client = s3_sandbox.client()
    first = seed(s3_sandbox, s3_bucket)
    before = listing(client, s3_bucket)
    second = seed(s3_sandbox, s3_bucket)

    assert second.uploaded == 0 and second.skipped == first.objects
    assert not second.expected_written
    assert second.expected == first.expected
    assert listing(client, s3_bucket) == before


def test_a_changed_or_missing_object_is_rewritten_and_nothing_else(
    s3_sandbox: Any, s3_bucket: str
) -> None:
    client = s3_sandbox.client()
    first = seed(s3_sandbox, s3_bucket)
    gone, changed = first.expected_keys[0], first.expected_keys[1]
    client.delete_object(Bucket=s3_bucket, Key=gone)
    client.put_object(Bucket=s3_bucket, Key=changed, Body=b"not a pdf")

    again = seed(s3_sandbox, s3_bucket)

    assert again.uploaded == 2 and again.skipped == first.objects - 2
    body = client.get_object(Bucket=s3_bucket, Key=changed)["Body"].read()
    assert body.startswith(b"%PDF-")


def test_a_different_seed_rewrites_the_bytes_but_keeps_the_keys(
    s3_sandbox: Any, s3_bucket: str
) -> None:
    first = seed(s3_sandbox, s3_bucket, seed=1)
    second = seed(s3_sandbox, s3_bucket, seed=2)
    assert second.uploaded == first.objects
    assert second.expected_keys == first.expected_keys
    assert load_expected(s3_sandbox.client(), s3_bucket).seed == 2


def test_leftover_pdfs_under_the_prefix_join_the_ground_truth_unless_pruned(
    s3_sandbox: Any, s3_bucket: str
) -> None:
    client = s3_sandbox.client()
    seed(s3_sandbox, s3_bucket, count=50, noise=0)
    smaller = seed(s3_sandbox, s3_bucket, count=40, noise=0)

    assert smaller.expected.count == 50 and len(smaller.expected.extra) == 10
    assert listed_like_the_function(client, s3_bucket, PREFIX) == list(smaller.expected_keys)

    pruned = seed(s3_sandbox, s3_bucket, count=40, noise=0, prune=True)
    assert pruned.deleted == 10 and pruned.expected.count == 40
    assert listed_like_the_function(client, s3_bucket, PREFIX) == list(pruned.expected_keys)
    assert load_expected(client, s3_bucket).count == 40


def test_a_missing_bucket_is_created(s3_sandbox: Any) -> None:
    client = s3_sandbox.client()
    bucket = f"seed-new-{uuid.uuid4().hex[:12]}"
    try:
        result = seed(s3_sandbox, bucket, count=5, noise=0)
        assert result.uploaded == 5
        assert listed_like_the_function(client, bucket, PREFIX) == list(result.expected_keys)
    finally:
        keys = [{"Key": k} for k in listing(client, bucket)]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        client.delete_bucket(Bucket=bucket)


def test_wrong_credentials_get_a_clear_error(s3_sandbox: Any, s3_bucket: str) -> None:
    endpoint = s3_sandbox.endpoint
    wrong = Connection(endpoint.url, endpoint.access_key, "not-the-secret", endpoint.region)
    with pytest.raises(SeedConnectionError, match="credentials were refused"):
        seed_bucket(wrong, bucket=s3_bucket, count=1)


def test_an_unreachable_endpoint_gets_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the seeder connects
    conn = Connection(f"http://127.0.0.1:{port}", "key", "secret")
    with pytest.raises(SeedConnectionError, match="is the S3 server running"):
        seed_bucket(conn, count=1)


def test_the_cli_seeds_from_the_sandbox_env_and_prints_plain_lines_when_piped(
    s3_sandbox: Any, s3_bucket: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(s3_sandbox.env())
    argv = [sys.executable, "-m", "seed", "--bucket", s3_bucket, "--count", "30", "--size", "4KiB"]
    run = subprocess.run([*argv, "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["expected_count"] == 30 and summary["uploaded"] == summary["objects"]
    assert "\r" not in run.stderr and "objects (100%)" in run.stderr.splitlines()[-1]

    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"uploaded 0 (0.0 MB), skipped {summary['objects']}" in again.stdout

    closed = subprocess.run(
        [*argv, "--endpoint-url", "http://127.0.0.1:9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert closed.returncode == 1
    assert closed.stderr.startswith("seed: error: ") and "http://127.0.0.1:9" in closed.stderr
