"""Snowball seeding on a real MinIO: same bucket as PUTs, repaired when a batch breaks, errors."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seed import SeedArgumentError, SeedConnectionError, SizeRange, seed_bucket
from seed.method import is_minio

PREFIX = "2026/04/"
OPTIONS: dict[str, Any] = {
    "prefix": PREFIX,
    "count": 80,
    "noise": 0.5,
    "sizes": SizeRange(2_000, 12_000),
    "seed": 11,
}


def server_of(client: Any) -> str:
    return str(client.list_buckets()["ResponseMetadata"]["HTTPHeaders"].get("server", ""))


def needs_minio(sandbox: Any) -> None:
    server = server_of(sandbox.client())
    if not is_minio(server):
        pytest.skip(f"snowball needs MinIO; this server says Server: {server!r}")


def bucket_state(client: Any, bucket: str) -> dict[str, tuple[str, str]]:
    """Every key with its ETag and Content-Type (the ground truth object left out)."""
    state = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            if obj["Key"].startswith("seed/"):
                continue
            head = client.head_object(Bucket=bucket, Key=obj["Key"])
            state[obj["Key"]] = (obj["ETag"], head["ContentType"])
    return state


@pytest.fixture
def second_bucket(s3_sandbox: Any) -> Iterator[str]:
    from sandbox.pytest_plugin import _empty_and_delete

    client = s3_sandbox.client()
    name = f"test-put-{id(client) % 10**8}"
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        _empty_and_delete(client, name)


def test_snowball_and_put_leave_identical_buckets(
    s3_sandbox: Any, s3_bucket: str, second_bucket: str
) -> None:
    needs_minio(s3_sandbox)
    snow = seed_bucket(s3_sandbox.endpoint, bucket=s3_bucket, method="snowball", **OPTIONS)
    put = seed_bucket(s3_sandbox.endpoint, bucket=second_bucket, method="put", **OPTIONS)

    assert (snow.method, put.method) == ("snowball", "put")
    assert snow.expected.keys == put.expected.keys
    client = s3_sandbox.client()
    snow_state, put_state = bucket_state(client, s3_bucket), bucket_state(client, second_bucket)
    assert len(snow_state) == snow.objects == 120
    assert snow_state == put_state
    assert {ct for _, ct in snow_state.values()} == {
        "application/pdf",
        "text/plain; charset=utf-8",
        "text/csv; charset=utf-8",
    }
    assert not [k for k in snow_state if k.startswith(".seed-snowball/")]  # no tar kept


def test_auto_chooses_snowball_on_minio_and_a_rerun_skips_everything(
    s3_sandbox: Any, s3_bucket: str
) -> None:
    needs_minio(s3_sandbox)
    first = seed_bucket(s3_sandbox.endpoint, bucket=s3_bucket, **OPTIONS)
    again = seed_bucket(s3_sandbox.endpoint, bucket=s3_bucket, **OPTIONS)

    assert first.method == "snowball" and first.uploaded == 120
    assert (again.uploaded, again.skipped, again.expected_written) == (0, 120, False)


def test_a_truncated_tar_batch_is_repaired_by_verify_and_retry(
    s3_sandbox: Any, s3_bucket: str, second_bucket: str
) -> None:
    needs_minio(s3_sandbox)
    cut: list[int] = []

    def truncate_first_batch(number: int, data: bytes) -> bytes:
        if number == 0:
            cut.append(len(data))
            return data[: len(data) // 2]  # ends inside a member, as a dropped upload would
        return data

    result = seed_bucket(
        s3_sandbox.endpoint,
        bucket=s3_bucket,
        method="snowball",
        tamper=truncate_first_batch,
        **OPTIONS,
    )
    seed_bucket(s3_sandbox.endpoint, bucket=second_bucket, method="put", **OPTIONS)

    assert cut, "the tamper hook never saw a batch"
    assert 0 < result.repaired < result.objects  # the half that did not arrive
    client = s3_sandbox.client()
    assert bucket_state(client, s3_bucket) == bucket_state(client, second_bucket)


def test_snowball_on_a_server_that_is_not_minio_is_refused_and_auto_uses_put(
    s3_sandbox: Any, s3_bucket: str
) -> None:
    if is_minio(server_of(s3_sandbox.client())):
        pytest.skip("this server is MinIO")
    with pytest.raises(SeedArgumentError, match="--method snowball needs MinIO"):
        seed_bucket(s3_sandbox.endpoint, bucket=s3_bucket, method="snowball", **OPTIONS)
    assert seed_bucket(s3_sandbox.endpoint, bucket=s3_bucket, **OPTIONS).method == "put"


@contextlib.contextmanager
def small_tmpfs(size: str) -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="seed-full-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        directory.rmdir()
        pytest.skip(f"cannot mount a tmpfs for a full disk (needs root): {done.stderr.strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", str(directory)], check=True)
        directory.rmdir()


@pytest.mark.slow
@pytest.mark.parametrize("method", ["snowball", "put"])
def test_a_full_disk_during_seeding_says_so_and_what_to_do(method: str) -> None:
    from sandbox import Sandbox
    from sandbox.backends.minio import MinioBackend

    if not MinioBackend().probe().ok:
        pytest.skip("needs the MinIO binary")
    with (
        small_tmpfs("48m") as data,
        Sandbox.start("minio", state_dir=data) as sb,
        pytest.raises(SeedConnectionError) as caught,
    ):
        seed_bucket(
            sb.endpoint,
            bucket="full-disk",
            prefix=PREFIX,
            count=400,
            noise=0,
            sizes=SizeRange(256 * 1024, 256 * 1024),
            method=method,
        )
    message = str(caught.value)
    assert "disk is full" in message
    assert "--count" in message and "rerun skips" in message
