"""From a Lambda event to a Lambda response, for every kind of caller."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from s3_manifest.app import SAFETY_MARGIN_MS, run_requests
from s3_manifest.errors import BucketNotFound
from s3_manifest.requests import BadRequest, is_http_event, parse_event
from s3_manifest.settings import ConfigError, Settings

__all__ = ["handle"]

log = logging.getLogger(__name__)


def handle(event: Any, context: Any) -> dict[str, Any]:
    """The handler's body. API Gateway events get a proxy response; others a plain dict."""
    http = is_http_event(event)
    try:
        settings = Settings.from_env()
        parsed = parse_event(event, settings)
    except (BadRequest, ConfigError) as e:
        if http:
            return _http(400, {"error": "BadRequest", "message": str(e)})
        raise
    for request in parsed.requests:
        if request.trigger_keys:
            log.info(
                "S3 event for %d object(s) in s3://%s/%s: listing that folder",
                len(request.trigger_keys), request.bucket, request.prefix,
            )  # fmt: skip
    if not parsed.requests:
        # Every S3 record was skipped (for instance our own manifest upload): do nothing.
        return {"count": 0, "skipped": list(parsed.skipped)}

    deadline = _deadline(context, SAFETY_MARGIN_MS)
    try:
        remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        results = asyncio.run(
            run_requests(parsed.requests, settings, deadline=deadline, remaining_ms=remaining_ms)
        )
    except BucketNotFound as e:
        if http:
            return _http(404, {"error": "BucketNotFound", "message": str(e)})
        raise
    except Exception as e:
        if http:
            log.exception("run failed")
            return _http(500, {"error": type(e).__name__, "message": str(e)})
        raise
    response = results[0] if len(results) == 1 else _combined(results)
    if parsed.skipped:
        response["skipped"] = len(parsed.skipped)
    return _http(200, response) if http else response


def _deadline(context: Any, margin_ms: int) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return time.monotonic() + max(0, remaining() - margin_ms) / 1000


def _combined(results: list[dict[str, Any]]) -> dict[str, Any]:
    # An S3 event whose records name several folders: one run (and manifest) per folder.
    return {"count": sum(r["count"] for r in results), "runs": results}


def _http(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "isBase64Encoded": False,
        "body": json.dumps(body),
    }
