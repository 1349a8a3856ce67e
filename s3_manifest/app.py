"""One invocation of the function: from a parsed request to the small response dict."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
import uuid
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from s3_manifest.errors import (
    AccessDenied,
    BucketNotFound,
    ListingFailed,
    ManifestUploadFailed,
    RunAborted,
)
from s3_manifest.manifest import CONTENT_TYPE, ManifestSpool
from s3_manifest.pipeline import PipelineStats, run_pipeline
from s3_manifest.presign import make_presigner
from s3_manifest.requests import Request
from s3_manifest.settings import Settings

__all__ = ["client_config", "run_requests", "s3_client", "spool_manifest"]

log = logging.getLogger(__name__)

# Stop this long before Lambda's deadline, so the temp file is removed and no half
# manifest is uploaded: a run Lambda kills mid-way cannot clean up after itself.
SAFETY_MARGIN_MS = 500

_ACCESS_CODES = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AllAccessDisabled",
}


def client_config(settings: Settings) -> Config:
    """botocore config for the S3 client.

    ``signature_version="s3v4"`` explicitly: in us-east-1 boto3 otherwise presigns with
    SigV2. Path-style addressing when an endpoint is set (local servers have no bucket DNS).
    """
    s3: dict[str, Any] = {"addressing_style": "path"} if settings.endpoint_url else {}
    return Config(signature_version="s3v4", s3=s3, retries={"mode": "standard", "max_attempts": 3})


# Warm invocations reuse the session: a new one loads botocore's S3 model again (measured
# ~50 ms against ~3.5 ms for a client from a cached session). Keyed by what the session
# resolves credentials from, so new credentials (rotated, or another sandbox) get a new one.
_SESSIONS: dict[str, aioboto3.Session] = {}
_SESSION_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
)


def _session() -> aioboto3.Session:
    fingerprint = hashlib.sha256(
        "\0".join(os.environ.get(name, "\1") for name in _SESSION_VARS).encode()
    ).hexdigest()
    session = _SESSIONS.get(fingerprint)
    if session is None:
        if len(_SESSIONS) >= 4:
            _SESSIONS.clear()
        session = _SESSIONS[fingerprint] = aioboto3.Session()
    return session


def s3_client(settings: Settings) -> Any:
    """The async S3 client for ``settings`` (use with ``async with``)."""
    return _session().client(
        "s3",
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        config=client_config(settings),
    )


async def spool_manifest(
    client: Any, presigner: Any, bucket: str, prefix: str, settings: Settings, spool: ManifestSpool
) -> PipelineStats:
    """List ``prefix`` and write one manifest line per PDF into ``spool``, as ``settings`` say."""
    return await run_pipeline(
        client,
        bucket,
        prefix,
        presigner=presigner,
        spool=spool,
        expires_in=settings.url_expires,
        queue_maxsize=settings.queue_maxsize,
        consumers=settings.consumers,
        page_size=settings.page_size,
        manifest_prefix=settings.manifest_prefix,
        lister=settings.lister,
    )


async def run_requests(
    requests: tuple[Request, ...], settings: Settings, *, deadline: float | None = None
) -> list[dict[str, Any]]:
    """Run every request in turn; returns one result dict each.

    ``deadline`` is a `time.monotonic()` value by which the run must have stopped.
    """
    async with s3_client(settings) as client:
        presigner = await make_presigner(client, mode=settings.presigner)
        results = []
        for request in requests:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                async with asyncio.timeout(timeout):
                    results.append(await _run_one(client, presigner, request, settings))
            except TimeoutError as e:
                raise RunAborted(
                    f"stopped listing s3://{request.bucket}/{request.prefix} "
                    f"{SAFETY_MARGIN_MS} ms before the function's timeout; nothing was uploaded. "
                    "Raise the timeout, or add consumers (CONSUMERS) if presigning is the limit"
                ) from e
        return results


async def _run_one(
    client: Any, presigner: Any, request: Request, settings: Settings
) -> dict[str, Any]:
    run_id = str(uuid.uuid4())
    manifest_key = f"{settings.manifest_prefix}{run_id}.jsonl"
    started = time.perf_counter()
    with ManifestSpool(run_id) as spool:
        try:
            stats = await spool_manifest(
                client, presigner, request.bucket, request.prefix, settings, spool
            )
        except ClientError as e:
            raise _listing_error(e, request) from e
        except BotoCoreError as e:
            raise ListingFailed(
                f"listing s3://{request.bucket}/{request.prefix} failed: {e}"
            ) from e
        size = spool.finish()
        await _upload(client, spool, request.bucket, manifest_key)
    manifest_url = await presigner.presign_get(request.bucket, manifest_key, settings.url_expires)
    log.info(
        "listed %d keys in %d pages, %d PDFs -> s3://%s/%s (%d bytes) in %.3f s; "
        "peak queue depth %d of %s",
        stats.listed, stats.pages, stats.written, request.bucket, manifest_key, size,
        time.perf_counter() - started, stats.peak_queue_depth,
        settings.queue_maxsize or "unbounded",
    )  # fmt: skip
    return {
        "count": stats.written,
        "bucket": request.bucket,
        "prefix": request.prefix,
        "manifest_key": manifest_key,
        "manifest_url": manifest_url,
    }


async def _upload(client: Any, spool: ManifestSpool, bucket: str, key: str) -> None:
    try:
        with open(spool.path, "rb") as body:
            await client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=CONTENT_TYPE)
    except (ClientError, BotoCoreError) as e:
        raise ManifestUploadFailed(
            f"uploading the manifest to s3://{bucket}/{key} failed: {e}"
        ) from e


def _listing_error(e: BaseException, request: Request) -> Exception:
    where = f"s3://{request.bucket}/{request.prefix}"
    code = e.response.get("Error", {}).get("Code", "") if isinstance(e, ClientError) else ""
    if code == "NoSuchBucket":
        return BucketNotFound(f"bucket {request.bucket!r} does not exist (listing {where})")
    if code in _ACCESS_CODES:
        return AccessDenied(
            f"S3 refused to list {where}: {code}. Check the function's credentials "
            "(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN) and its "
            "s3:ListBucket permission"
        )
    return ListingFailed(f"listing {where} failed: {e}")
