"""Producer -> bounded asyncio.Queue -> consumer(s).

The producer pages through ``list_objects_v2`` (1000 keys a page, from
`s3_manifest.listing.pages`) and puts each PDF on the queue; ``put`` waits while the queue is
full, so listing never runs ahead of presigning by more than ``queue_maxsize`` entries
(backpressure, bounded memory). Consumers presign a GET
URL for each entry and append a line to the manifest spool.

Both sides run in one `asyncio.TaskGroup`: if either fails, the others are cancelled and
awaited before the error propagates, so no task outlives the run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from s3_manifest import listing
from s3_manifest.manifest import entry_line
from s3_manifest.requests import skip_reason

__all__ = ["Entry", "LineSink", "PipelineStats", "Presigner", "run_pipeline"]


class Presigner(Protocol):
    async def presign_get(self, bucket: str, key: str, expires_in: int) -> str: ...


class LineSink(Protocol):
    """Where manifest lines go: `ManifestSpool` (one file) or `PartSpool` (multipart)."""

    async def put_line(self, text: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    size: int
    etag: str
    last_modified: datetime | None


@dataclass
class PipelineStats:
    pages: int = 0
    listed: int = 0  # every key the listing returned
    matched: int = 0  # PDFs put on the queue
    written: int = 0  # manifest lines written
    peak_queue_depth: int = 0
    # Set when ``stop`` ended the listing early: the last key listed (the next round's
    # StartAfter). None when the listing reached its end.
    stopped_after: str | None = None


_DONE = None  # sentinel: one per consumer, after the last entry


async def run_pipeline(
    client: Any,
    bucket: str,
    prefix: str,
    *,
    presigner: Presigner,
    spool: LineSink,
    expires_in: int,
    queue_maxsize: int,
    consumers: int,
    page_size: int,
    manifest_prefix: str,
    lister: str = "fast",
    start_after: str | None = None,
    stop: Callable[[], bool] | None = None,
) -> PipelineStats:
    """List ``prefix``, presign every PDF, write the manifest lines. Returns the counts.

    ``start_after`` lists only keys after it (a continuation round). ``stop`` is asked after
    each page that is not the last; True ends the listing there (``stats.stopped_after``).
    """
    stats = PipelineStats()
    queue: asyncio.Queue[Entry | None] = asyncio.Queue(maxsize=queue_maxsize)
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(
                _produce(
                    client,
                    bucket,
                    prefix,
                    queue,
                    stats,
                    consumers,
                    page_size,
                    manifest_prefix,
                    lister,
                    start_after,
                    stop,
                ),
                name="producer",
            )
            for i in range(consumers):
                tg.create_task(
                    _consume(queue, presigner, bucket, expires_in, spool, stats),
                    name=f"consumer-{i}",
                )
    except BaseExceptionGroup as group:
        # Every task has been cancelled and awaited by now. Re-raise the first real error
        # itself (not the group), so callers can catch ClientError, TmpFull and friends.
        raise _first_error(group) from None
    return stats


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    return first


async def _produce(
    client: Any,
    bucket: str,
    prefix: str,
    queue: asyncio.Queue[Entry | None],
    stats: PipelineStats,
    consumers: int,
    page_size: int,
    manifest_prefix: str,
    lister: str,
    start_after: str | None = None,
    stop: Callable[[], bool] | None = None,
) -> None:
    # aclosing: if this task is cancelled, the listing's request in flight is cancelled too.
    pages = listing.pages(
        client, bucket, prefix, start_after=start_after, page_size=page_size, lister=lister
    )
    last_key: str | None = None
    async with contextlib.aclosing(pages):
        async for page in pages:
            # ``stop`` is asked only between pages, when another page with keys has come:
            # stopping after the last one would hand the next round nothing to do.
            if stop is not None and page and last_key is not None and stop():
                stats.stopped_after = last_key
                break
            stats.pages += 1
            for key, size, etag, last_modified in page:
                stats.listed += 1
                if skip_reason(key, manifest_prefix):
                    continue
                await queue.put(Entry(key, size, etag, last_modified))
                stats.matched += 1
                depth = queue.qsize()
                if depth > stats.peak_queue_depth:
                    stats.peak_queue_depth = depth
            if page:
                last_key = page[-1][0]
    for _ in range(consumers):
        await queue.put(_DONE)


async def _consume(
    queue: asyncio.Queue[Entry | None],
    presigner: Presigner,
    bucket: str,
    expires_in: int,
    spool: LineSink,
    stats: PipelineStats,
) -> None:
    while (entry := await queue.get()) is not _DONE:
        url = await presigner.presign_get(bucket, entry.key, expires_in)
        modified = entry.last_modified
        await spool.put_line(
            entry_line(
                entry.key, entry.size, entry.etag, modified.isoformat() if modified else None, url
            )
        )
        stats.written += 1
