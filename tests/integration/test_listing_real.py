"""The lean listing gives botocore's answers on real servers (MinIO, SeaweedFS over HTTP).

Every test lists the same prefix both ways (``lister="fast"`` and ``lister="botocore"``, the
paginator) and requires identical entries. The fast path is proved taken: it logs whenever a
listing or a page goes to botocore, and these tests require no such record (except the ones
about errors, which require it).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aioboto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3_manifest.app import client_config, spool_manifest
from s3_manifest.listing import Listed, pages
from s3_manifest.manifest import ManifestSpool
from s3_manifest.presign import make_presigner
from s3_manifest.settings import Settings

T = TypeVar("T")
LOGGER = "s3_manifest.listing"


def _run(make: Callable[[Any], Coroutine[Any, Any, T]], sb: Any, **creds: str) -> T:
    """Run ``make(client)`` with an aiobotocore client configured as the function's."""
    e = sb.endpoint
    config = client_config(Settings(endpoint_url=e.url, region=e.region))

    async def main() -> T:
        async with aioboto3.Session().client(
            "s3",
            region_name=e.region,
            endpoint_url=e.url,
            aws_access_key_id=creds.get("access_key", e.access_key),
            aws_secret_access_key=creds.get("secret_key", e.secret_key),
            aws_session_token=e.session_token,
            config=config,
        ) as client:
            return await make(client)

    return asyncio.run(main())


def _list_both(
    sb: Any, bucket: str, prefix: str, **kw: Any
) -> tuple[list[list[Listed]], list[list[Listed]]]:
    async def both(client: Any) -> tuple[list[list[Listed]], list[list[Listed]]]:
        fast = [p async for p in pages(client, bucket, prefix, lister="fast", **kw)]
        slow = [p async for p in pages(client, bucket, prefix, lister="botocore", **kw)]
        return fast, slow

    return _run(both, sb)


def _assert_same(fast: list[list[Listed]], slow: list[list[Listed]]) -> None:
    assert fast == slow  # pages, keys, sizes, ETags, LastModified (datetime equality)
    for ours, theirs in zip(
        (e for p in fast for e in p), (e for p in slow for e in p), strict=True
    ):
        assert ours[3] is not None and ours[3].tzinfo is not None
        assert ours[3].isoformat() == theirs[3].isoformat()  # as the manifest prints it


def _delete_one_by_one(client: Any, bucket: str, prefix: str) -> None:
    """Delete keys one by one: DeleteObjects' XML body cannot carry control characters."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", ()):
            client.delete_object(Bucket=bucket, Key=obj["Key"])


def _no_fallback(caplog: pytest.LogCaptureFixture) -> None:
    fallbacks = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert not fallbacks, fallbacks


# Any Unicode scalar value, control characters included; servers refuse a few keys (MinIO:
# "//", "." / ".." segments, a leading "/"...), which the test skips, not hides: it requires
# the listed keys to be exactly the ones the server accepted.
KEY_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=24
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(names=st.lists(KEY_TEXT, min_size=1, max_size=7, unique=True))
def test_odd_keys_list_the_same_both_ways(
    s3_sandbox: Any, s3_bucket: str, caplog: pytest.LogCaptureFixture, names: list[str]
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    caplog.clear()
    client = s3_sandbox.client()
    prefix = f"odd-{uuid.uuid4().hex[:8]}/"
    accepted = set()
    try:
        for name in names:
            try:
                client.put_object(Bucket=s3_bucket, Key=prefix + name, Body=b"x")
            except ClientError:
                continue  # the server refuses this name; nothing to list
            accepted.add(prefix + name)
        fast, slow = _list_both(s3_sandbox, s3_bucket, prefix, page_size=3)
        _assert_same(fast, slow)
        listed = [e[0] for p in fast for e in p]
        for key in listed:  # each decoded key names the object the server stored
            client.head_object(Bucket=s3_bucket, Key=key)
        if s3_sandbox.endpoint.backend == "minio":  # keys verbatim (SeaweedFS maps "\\" to "/")
            assert set(listed) == accepted
        else:
            assert 0 < len(listed) <= len(accepted) or not accepted
        assert all(len(p) <= 3 for p in fast)
    finally:
        _delete_one_by_one(client, s3_bucket, prefix)


def test_multipart_etags_empty_prefixes_and_start_after_list_the_same_both_ways(
    s3_sandbox: Any, s3_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    client = s3_sandbox.client()
    part = b"p" * (5 * 1024 * 1024)
    mpu = client.create_multipart_upload(Bucket=s3_bucket, Key="m/big.pdf")
    etags = [
        client.upload_part(
            Bucket=s3_bucket, Key="m/big.pdf", UploadId=mpu["UploadId"], PartNumber=n, Body=body
        )["ETag"]
        for n, body in ((1, part), (2, b"tail"))
    ]
    client.complete_multipart_upload(
        Bucket=s3_bucket,
        Key="m/big.pdf",
        UploadId=mpu["UploadId"],
        MultipartUpload={"Parts": [{"ETag": t, "PartNumber": n + 1} for n, t in enumerate(etags)]},
    )
    for i in range(5):
        client.put_object(Bucket=s3_bucket, Key=f"m/{i}.pdf", Body=b"%PDF" * i)

    fast, slow = _list_both(s3_sandbox, s3_bucket, "m/", page_size=2)
    _assert_same(fast, slow)
    big = next(e for p in fast for e in p if e[0] == "m/big.pdf")
    assert big[2].endswith("-2") and big[1] == len(part) + 4
    # MinIO may end with an empty page after a truncated full one; both ways get it.
    assert [len(p) for p in fast if p] == [2, 2, 2]

    fast, slow = _list_both(s3_sandbox, s3_bucket, "m/", start_after="m/2.pdf")
    _assert_same(fast, slow)
    assert [e[0] for p in fast for e in p] == ["m/3.pdf", "m/4.pdf", "m/big.pdf"]

    fast, slow = _list_both(s3_sandbox, s3_bucket, "nothing-here/")
    _assert_same(fast, slow)
    assert fast == [[]]  # one page, KeyCount 0
    _no_fallback(caplog)


def test_the_manifest_is_byte_identical_whichever_lister_ran(
    s3_sandbox: Any, s3_bucket: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    client = s3_sandbox.client()
    for key in ["r/a.pdf", "r/b c+d.PDF", "r/ü/\x01.pdf", "r/skip.txt", "r/z.pdf"]:
        client.put_object(Bucket=s3_bucket, Key=key, Body=key.encode())
    signed_at = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)

    def manifest(lister: str) -> bytes:
        settings = Settings(
            endpoint_url=s3_sandbox.endpoint.url, region=s3_sandbox.endpoint.region, lister=lister
        )

        async def spool(client: Any) -> bytes:
            presigner = await make_presigner(client, clock=lambda: signed_at)
            with ManifestSpool(lister, str(tmp_path)) as out:
                await spool_manifest(client, presigner, s3_bucket, "r/", settings, out)
                out.finish()
                return Path(out.path).read_bytes()

        return _run(spool, s3_sandbox)

    try:
        fast, slow = manifest("fast"), manifest("botocore")
    finally:
        _delete_one_by_one(client, s3_bucket, "r/")
    assert fast == slow
    assert fast.count(b"\n") == 4
    _no_fallback(caplog)


def test_errors_go_to_botocore_which_raises_its_own(
    s3_sandbox: Any, s3_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)

    async def first_page(client: Any, bucket: str) -> None:
        async for _ in pages(client, bucket, "x/"):
            break

    missing = f"missing-{uuid.uuid4().hex[:12]}"
    with pytest.raises(ClientError) as error:
        _run(lambda c: first_page(c, missing), s3_sandbox)
    assert error.value.response["Error"]["Code"] == "NoSuchBucket"

    with pytest.raises(ClientError) as error:
        _run(lambda c: first_page(c, s3_bucket), s3_sandbox, secret_key="not-the-secret")
    assert error.value.response["Error"]["Code"] in {"SignatureDoesNotMatch", "AccessDenied"}

    fallbacks = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(fallbacks) == 2 and all("goes to botocore: HTTP 4" in m for m in fallbacks)


def test_a_caller_that_stops_early_leaves_no_request_in_flight(
    s3_sandbox: Any, s3_bucket: str
) -> None:
    client = s3_sandbox.client()
    for i in range(5):
        client.put_object(Bucket=s3_bucket, Key=f"e/{i}", Body=b"x")

    async def first_page(c: Any) -> tuple[list[Listed], set[asyncio.Task[Any]]]:
        listing = pages(c, s3_bucket, "e/", page_size=2)
        page = await anext(listing)  # the second page's request is in flight now
        await listing.aclose()
        others = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
        return page, {t for t in others if not t.done()}

    page, pending = _run(first_page, s3_sandbox)
    assert [e[0] for e in page] == ["e/0", "e/1"]
    assert not pending


class _FailingPresigner:
    async def presign_get(self, bucket: str, key: str, expires_in: int) -> str:
        raise RuntimeError("presign failed")


def test_a_failed_run_leaves_no_listing_request_behind(
    s3_sandbox: Any, s3_bucket: str, tmp_path: Path
) -> None:
    client = s3_sandbox.client()
    for i in range(6):
        client.put_object(Bucket=s3_bucket, Key=f"f/{i}.pdf", Body=b"x")
    settings = Settings(
        endpoint_url=s3_sandbox.endpoint.url,
        region=s3_sandbox.endpoint.region,
        page_size=2,
        queue_maxsize=1,  # the producer is cancelled while it waits to put
    )

    async def failing_run(c: Any) -> set[asyncio.Task[Any]]:
        with ManifestSpool("failed", str(tmp_path)) as out, pytest.raises(RuntimeError):
            await spool_manifest(c, _FailingPresigner(), s3_bucket, "f/", settings, out)
        others = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
        return {t for t in others if not t.done()}

    assert not _run(failing_run, s3_sandbox)
