"""The producer/consumer pipeline with an in-memory lister: backpressure and clean failure.

The client here is a plain object with the one method the producer uses (``get_paginator``),
passed in, not a patched boto3.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from s3_manifest.manifest import ManifestSpool
from s3_manifest.pipeline import run_pipeline


class FakePages:
    def __init__(self, keys: list[str], page_size: int, fail_on_page: int | None) -> None:
        self.keys, self.page_size, self.fail_on_page = keys, page_size, fail_on_page
        self.pages_served = 0

    def get_paginator(self, name: str) -> FakePages:
        assert name == "list_objects_v2"
        return self

    def paginate(self, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        assert kwargs["PaginationConfig"] == {"PageSize": self.page_size}
        return self._pages(kwargs["Prefix"])

    async def _pages(self, prefix: str) -> AsyncIterator[dict[str, Any]]:
        keys = [k for k in self.keys if k.startswith(prefix)]
        for start in range(0, len(keys), self.page_size):
            if self.fail_on_page == self.pages_served:
                raise ConnectionError("listing broke mid-way")
            self.pages_served += 1
            await asyncio.sleep(0)
            chunk = keys[start : start + self.page_size]
            yield {"Contents": [{"Key": k, "Size": 1, "ETag": '"e"'} for k in chunk]}


class CountingPresigner:
    def __init__(self, fail_at: int | None = None, delay: bool = False) -> None:
        self.calls = 0
        self.fail_at, self.delay = fail_at, delay

    async def presign_get(self, bucket: str, key: str, expires_in: int) -> str:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(0)
        if self.fail_at is not None and self.calls >= self.fail_at:
            raise RuntimeError("presign failed")
        return f"https://example/{bucket}/{key}?e={expires_in}"


def run(
    tmp_path: Path,
    keys: list[str],
    *,
    presigner: CountingPresigner,
    queue_maxsize: int = 5,
    consumers: int = 2,
    fail_on_page: int | None = None,
    leftover: set[asyncio.Task[Any]] | None = None,
) -> tuple[Any, FakePages, ManifestSpool, set[asyncio.Task[Any]]]:
    """Run the pipeline; ``leftover`` receives any task still alive when it returned."""
    lister = FakePages(keys, page_size=10, fail_on_page=fail_on_page)
    leftover = set() if leftover is None else leftover

    async def main() -> Any:
        try:
            with ManifestSpool("run", str(tmp_path)) as spool:
                stats = await run_pipeline(
                    lister,
                    "bucket",
                    "p/",
                    presigner=presigner,
                    spool=spool,
                    expires_in=60,
                    queue_maxsize=queue_maxsize,
                    consumers=consumers,
                    page_size=10,
                    manifest_prefix="manifests/",
                    lister="botocore",  # the fake is a paginator
                )
                spool.finish()
                return stats, spool
        finally:
            alive = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
            leftover.update(t for t in alive if not t.done())

    stats, spool = asyncio.run(main())
    return stats, lister, spool, leftover


def test_every_pdf_is_written_once_and_other_keys_are_skipped(tmp_path: Path) -> None:
    keys = [f"p/{i}.pdf" for i in range(37)] + ["p/x.txt", "p/y.pdf.bak", "q/z.pdf"]
    stats, _, _, leftover = run(tmp_path, keys, presigner=CountingPresigner())
    assert (stats.matched, stats.written, stats.listed, stats.pages) == (37, 37, 39, 4)
    assert leftover == set()


def test_the_queue_never_holds_more_than_its_maxsize(tmp_path: Path) -> None:
    keys = [f"p/{i}.pdf" for i in range(200)]
    presigner = CountingPresigner(delay=True)
    stats, *_ = run(tmp_path, keys, presigner=presigner, queue_maxsize=3, consumers=1)
    assert stats.written == 200
    assert 1 <= stats.peak_queue_depth <= 3


def test_a_failing_consumer_cancels_the_producer_and_raises_its_own_error(tmp_path: Path) -> None:
    keys = [f"p/{i}.pdf" for i in range(500)]
    leftover: set[asyncio.Task[Any]] = set()
    presigner = CountingPresigner(fail_at=3)
    with pytest.raises(RuntimeError, match="presign failed"):
        run(tmp_path, keys, presigner=presigner, queue_maxsize=2, leftover=leftover)
    assert leftover == set()
    assert presigner.calls < 10  # the producer stopped: it did not list all 500
    assert list(tmp_path.iterdir()) == []


def test_a_failing_listing_stops_the_consumers_and_leaves_no_task(tmp_path: Path) -> None:
    keys = [f"p/{i}.pdf" for i in range(50)]
    leftover: set[asyncio.Task[Any]] = set()
    with pytest.raises(ConnectionError, match="listing broke"):
        run(tmp_path, keys, presigner=CountingPresigner(), fail_on_page=2, leftover=leftover)
    assert leftover == set()
    assert list(tmp_path.iterdir()) == []
