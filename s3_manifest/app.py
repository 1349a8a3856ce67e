"""One invocation of the function: from a parsed request to the small response dict."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import logging
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from s3_manifest.continuation import (
    SAFETY_MARGIN_MS,
    DeadlineRule,
    index_document,
    index_key,
    next_event,
    part_key,
)
from s3_manifest.errors import (
    AccessDenied,
    BucketNotFound,
    ListingFailed,
    ManifestUploadFailed,
    RunAborted,
)
from s3_manifest.multipart import PartSpool
from s3_manifest.pipeline import LineSink, PipelineStats, run_pipeline
from s3_manifest.presign import make_presigner
from s3_manifest.requests import Request
from s3_manifest.settings import Settings

__all__ = [
    "SAFETY_MARGIN_MS",
    "client_config",
    "preload",
    "run_requests",
    "s3_client",
    "spool_manifest",
]

log = logging.getLogger(__name__)

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


# What the first S3 client and its first requests load, found by watching botocore's loader
# and ``sys.modules`` across a first invocation: data files, and modules imported lazily
# (aioboto3's S3 additions pull in s3transfer and multiprocessing: about 40 modules).
_PRELOAD_DATA = ("sdk-default-configuration", "partitions", "endpoints")
_PRELOAD_MODELS = ("service-2", "endpoint-rule-set-1")
_PRELOAD_MODULES = ("aioboto3.s3.inject", "_strptime", "concurrent.futures.thread", "secrets")


def preload() -> None:
    """At INIT, do what the first invocation would otherwise do at the memory's CPU share:
    import what the first client imports lazily, make this environment's session and load
    botocore's S3 model, endpoint rules and partitions into it (about 0.14 CPU-s). On-demand
    Lambda runs INIT with more CPU than small memory sizes get (README, "CPU share"): at
    128 MB's 1/14 vCPU those are ~2 s of a cold invocation's Duration, enough to time out a
    3 s continuation round. Any failure is ignored: the first invocation then does it all
    itself, as it did before."""
    try:
        for module in _PRELOAD_MODULES:
            importlib.import_module(module)
        loader = _session()._session.get_component("data_loader")
        for name in _PRELOAD_DATA:
            loader.load_data(name)  # kept by the loader (load_data_with_path is cached)
        for kind in _PRELOAD_MODELS:
            loader.load_service_model("s3", kind)
    except Exception:  # an optimisation only: never fail INIT over it
        log.debug("preloading botocore's S3 data failed; the first client does it", exc_info=True)


def s3_client(settings: Settings) -> Any:
    """The async S3 client for ``settings`` (use with ``async with``)."""
    return _session().client(
        "s3",
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        config=client_config(settings),
    )


async def spool_manifest(
    client: Any,
    presigner: Any,
    bucket: str,
    prefix: str,
    settings: Settings,
    spool: LineSink,
    *,
    start_after: str | None = None,
    stop: Callable[[], bool] | None = None,
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
        start_after=start_after,
        stop=stop,
    )


async def run_requests(
    requests: tuple[Request, ...],
    settings: Settings,
    *,
    deadline: float | None = None,
    remaining_ms: Callable[[], int] | None = None,
) -> list[dict[str, Any]]:
    """Run every request in turn; returns one result dict each.

    ``deadline`` is a `time.monotonic()` value by which the run must have stopped (the hard
    stop). ``remaining_ms`` is the Lambda context's clock: with it, a run that would not
    finish in time stops early and returns ``done: false`` with a ``next`` to continue from
    (see `s3_manifest.continuation`).
    """
    # Checked before the client is even made: a hopeless round fails in milliseconds.
    first = _check_progress(remaining_ms, requests[0]) if remaining_ms is not None else None
    async with s3_client(settings) as client:
        presigner = await make_presigner(client, mode=settings.presigner)
        results = []
        for i, request in enumerate(requests):
            where = f"s3://{request.bucket}/{request.prefix}"
            rule = first if i == 0 else None
            if remaining_ms is not None and rule is None:
                rule = _check_progress(remaining_ms, request)
            if rule is not None:
                rule.start_timing()  # pages are timed from here, not from before the client
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                async with asyncio.timeout(timeout):
                    results.append(await _run_one(client, presigner, request, settings, rule))
            except TimeoutError as e:
                raise RunAborted(
                    f"stopped listing {where} {SAFETY_MARGIN_MS} ms before the function's "
                    "timeout, before this round could finish a part; nothing was uploaded and "
                    "no multipart upload was left open. Raise the timeout, or add consumers "
                    "(CONSUMERS) if presigning is the limit"
                ) from e
        return results


def _check_progress(remaining_ms: Callable[[], int], request: Request) -> DeadlineRule:
    rule = DeadlineRule(remaining_ms)
    try:
        rule.check_start()
    except ValueError as e:
        raise RunAborted(
            f"cannot make progress on s3://{request.bucket}/{request.prefix} before the "
            f"function's timeout: {e}; nothing was uploaded"
        ) from e
    return rule


async def _run_one(
    client: Any, presigner: Any, request: Request, settings: Settings, rule: DeadlineRule | None
) -> dict[str, Any]:
    resume = request.resume
    run_id = resume.run if resume else str(uuid.uuid4())
    part = resume.part if resume else 1
    # A first round that fits keeps the plain key; continuation parts live under the run.
    single_key = f"{settings.manifest_prefix}{run_id}.jsonl"
    this_part_key = part_key(settings.manifest_prefix, run_id, part)
    started = time.perf_counter()
    async with PartSpool(
        client,
        request.bucket,
        single_key if part == 1 else this_part_key,
        run_id=f"{run_id}-{part:05d}",
        part_size=settings.part_size,
    ) as spool:
        try:
            stats = await spool_manifest(
                client, presigner, request.bucket, request.prefix, settings, spool,
                start_after=resume.start_after if resume else None,
                stop=rule.should_stop if rule is not None else None,
            )  # fmt: skip
        except ClientError as e:
            raise _listing_error(e, request) from e
        except BotoCoreError as e:
            raise ListingFailed(
                f"listing s3://{request.bucket}/{request.prefix} failed: {e}"
            ) from e
        continued = stats.stopped_after is not None
        single = part == 1 and not continued
        uploaded = await spool.finish(single_key if single else this_part_key)
    log.info(
        "listed %d keys in %d pages, %d PDFs -> s3://%s/%s (%d bytes, %s) in %.3f s; "
        "peak queue depth %d of %s; part file peak %d bytes%s",
        stats.listed, stats.pages, stats.written, request.bucket, uploaded.key, uploaded.size,
        f"{uploaded.parts} parts" if uploaded.parts else "one put", time.perf_counter() - started,
        stats.peak_queue_depth, settings.queue_maxsize or "unbounded", spool.peak_part_bytes,
        f"; stopped with {rule.stopped_with_ms} ms left" if continued and rule else "",
    )  # fmt: skip
    if single:  # today's response, unchanged (plus done)
        return {
            "count": stats.written,
            "bucket": request.bucket,
            "prefix": request.prefix,
            "manifest_key": uploaded.key,
            "manifest_url": await presigner.presign_get(
                request.bucket, uploaded.key, settings.url_expires
            ),
            "done": True,
        }
    count = (resume.count_so_far if resume else 0) + stats.written
    # No presigned URLs here: with a Lambda role's session token one URL is ~1.3 KB, and
    # these responses (Step Functions state) must stay under 1 KB.
    result: dict[str, Any] = {
        "count": count,
        "part_count": stats.written,
        "bucket": request.bucket,
        "prefix": request.prefix,
        "run": run_id,
        "part": part,
        "manifest_key": uploaded.key,
        "done": not continued,
    }
    if stats.stopped_after is not None:
        if request.source != "direct":
            log.warning(
                "the %s-triggered run of s3://%s/%s stopped at the deadline after %d PDFs; "
                "nothing continues it automatically: pass the response's 'next' as a direct "
                "event, or start the state machine, to finish it",
                request.source, request.bucket, request.prefix, count,
            )  # fmt: skip
        result["next"] = next_event(
            request.bucket, request.prefix, stats.stopped_after, run_id, part + 1, count
        )
    else:
        result["parts"] = part
        result["index_key"] = await _write_index(client, request, settings, run_id, part, count)
    return result


async def _write_index(
    client: Any, request: Request, settings: Settings, run_id: str, parts: int, count: int
) -> str:
    key = index_key(settings.manifest_prefix, run_id)
    keys = [part_key(settings.manifest_prefix, run_id, n) for n in range(1, parts + 1)]
    body = index_document(request.bucket, request.prefix, run_id, count, keys)
    try:
        await client.put_object(
            Bucket=request.bucket, Key=key, Body=body, ContentType="application/json"
        )
    except (ClientError, BotoCoreError) as e:
        raise ManifestUploadFailed(
            f"uploading the run's index to s3://{request.bucket}/{key} failed: {e}"
        ) from e
    return key


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
