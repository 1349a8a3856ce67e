"""The snowball tar format and the method choice (no I/O)."""

from __future__ import annotations

import io
import tarfile

import pytest

from seed import SeedArgumentError, SeedOptions
from seed.method import choose_method, is_minio
from seed.snowball import _batches, build_tar


def test_each_tar_member_carries_its_bytes_and_its_content_type_as_minio_metadata() -> None:
    items = [
        ("2026/04/Relatório – São Paulo.pdf", b"%PDF-1.4 x", "application/pdf"),
        ("2026/04/notes.txt", b"hello\n", "text/plain; charset=utf-8"),
    ]
    data = build_tar(items, mtime=1_700_000_000)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [k for k, _, _ in items]
        for member, (_, body, content_type) in zip(members, items, strict=True):
            assert member.isfile() and member.mtime == 1_700_000_000
            assert member.pax_headers["minio.metadata.Content-Type"] == content_type
            extracted = tar.extractfile(member)
            assert extracted is not None and extracted.read() == body


def test_batches_close_at_the_object_count_or_the_byte_budget() -> None:
    items = iter([(f"k{i}", b"x" * 100, "text/plain") for i in range(25)])
    assert [len(b) for b in _batches(items, max_objects=10, max_bytes=10**9)] == [10, 10, 5]
    items = iter([(f"k{i}", b"x" * 1000, "text/plain") for i in range(6)])
    assert [len(b) for b in _batches(items, max_objects=100, max_bytes=4000)] == [2, 2, 2]


@pytest.mark.parametrize(
    ("requested", "server", "chosen"),
    [
        ("auto", "MinIO", "snowball"),
        ("auto", "SeaweedFS 8000GB 4.48", "put"),
        ("auto", "", "put"),
        ("put", "MinIO", "put"),
        ("snowball", "MinIO", "snowball"),
    ],
)
def test_the_method_follows_the_servers_own_header(
    requested: str, server: str, chosen: str
) -> None:
    assert choose_method(requested, server) == chosen


def test_snowball_is_refused_when_the_server_is_not_minio() -> None:
    assert not is_minio("AmazonS3")
    with pytest.raises(SeedArgumentError, match="Server: AmazonS3"):
        choose_method("snowball", "AmazonS3")


def test_an_unknown_method_is_bad_input() -> None:
    with pytest.raises(SeedArgumentError, match="--method must be one of auto, put, snowball"):
        SeedOptions(method="tar")
