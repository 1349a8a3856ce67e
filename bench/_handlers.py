"""A bench-only Lambda handler: the function's pipeline without the upload, returning its stats.

``lambda_function.handler`` answers ``{count, manifest_key, ...}`` and keeps its
`PipelineStats` to the log. The queue sweep needs the peak queue depth of every run, so this
handler runs the same pieces the function runs (`Settings.from_env`, the S3 client from
`s3_client`, `make_presigner`, `ManifestSpool` in the temp dir, `spool_manifest`)
and returns the stats. It skips the manifest upload and its presign: the sweep measures the
list -> queue -> presign -> /tmp part; the end-to-end figures come from the real handler.

``{"noop": true}`` returns at once: a baseline invocation in the same execution environment.

``BENCH_CONSUMER_YIELDS=1`` makes each consumer hand the event loop back after every URL
(``await asyncio.sleep(0)``), as a consumer that awaits I/O per object would (a HEAD, a
download). The function's own consumers never do: presigning is CPU work and ``queue.get`` on a
non-empty queue returns without suspending, so a consumer drains everything queued before the
producer can take in the next page, and the queue never holds more than one page. Only a
consumer that yields lets a faster listing run ahead into an unbounded queue.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import asdict
from typing import Any

from s3_manifest.app import s3_client, spool_manifest
from s3_manifest.manifest import ManifestSpool
from s3_manifest.presign import make_presigner
from s3_manifest.settings import Settings

__all__ = ["pipeline_handler"]


def pipeline_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("noop"):
        return {}
    settings = Settings.from_env()
    return asyncio.run(_run(event["bucket"], event["prefix"], settings))


async def _run(bucket: str, prefix: str, settings: Settings) -> dict[str, Any]:
    async with s3_client(settings) as client:
        presigner: Any = await make_presigner(client, mode=settings.presigner)
        if os.environ.get("BENCH_CONSUMER_YIELDS") == "1":
            presigner = _YieldingPresigner(presigner)
        with ManifestSpool(str(uuid.uuid4())) as spool:
            t0 = time.perf_counter()
            stats = await spool_manifest(client, presigner, bucket, prefix, settings, spool)
            manifest_bytes = spool.finish()
            pipeline_ms = (time.perf_counter() - t0) * 1000
    return {**asdict(stats), "manifest_bytes": manifest_bytes, "pipeline_ms": pipeline_ms}


class _YieldingPresigner:
    """Presign, then let the event loop run other tasks (the producer) before the next key."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def presign_get(self, bucket: str, key: str, expires_in: int) -> str:
        url: str = await self._inner.presign_get(bucket, key, expires_in)
        await asyncio.sleep(0)
        return url
