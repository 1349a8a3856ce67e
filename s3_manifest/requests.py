"""Turn whatever called the function into the run(s) it asks for.

Callers and how they are recognised:

* S3 notification: ``{"Records": [{"eventSource": "aws:s3", "s3": {...}}]}``. The bucket comes
  from the record, the prefix is the "folder" of the object key. Keys are URL-encoded in S3
  events (``+`` is a space, ``%xx`` an escape). Records under ``manifests/`` or that are not
  PDFs are skipped with a logged reason: the function uploads its manifest into the same
  bucket, and that upload must never re-trigger it (the classic recursive S3 trigger).
  Records for the same bucket and folder make one run.
* API Gateway REST (payload 1.0: ``httpMethod``) and HTTP API (payload 2.0:
  ``version == "2.0"`` with ``requestContext.http``): ``bucket`` and ``prefix`` from the query
  string. The handler answers these in the proxy format.
* Step Functions task input and direct invoke: a JSON object ``{"bucket": ..., "prefix": ...}``,
  or a previous response's ``next`` (adds ``start_after``, ``run``, ``part``, ``count_so_far``)
  to continue a run cut by the deadline (`s3_manifest.continuation`).

Missing values fall back to `Settings` (``BUCKET_NAME`` / ``PREFIX``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from s3_manifest.continuation import Resume, parse_resume
from s3_manifest.settings import Settings

__all__ = [
    "BadRequest",
    "Parsed",
    "Request",
    "Source",
    "bucket_name_problem",
    "check_bucket",
    "check_prefix",
    "is_http_event",
    "is_pdf_key",
    "parse_event",
    "skip_reason",
]

log = logging.getLogger(__name__)

Source = str  # "s3" | "apigw" | "apigw-v2" | "direct"

# S3 bucket naming rules (general purpose buckets): 3-63 chars, lowercase letters, digits,
# dots and hyphens, starting and ending with a letter or digit, not shaped like an IP.
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_IP_RE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_MAX_KEY_BYTES = 1024

EXPECTED = (
    "expected an S3 notification ({'Records': [...]}), an API Gateway proxy event "
    "(REST 1.0 or HTTP API 2.0, with ?bucket=...&prefix=...), or a JSON object "
    "{'bucket': '...', 'prefix': '...'} (Step Functions task input or direct invoke)"
)


class BadRequest(ValueError):
    """The event cannot be turned into a run. The message says what was expected."""


@dataclass(frozen=True)
class Request:
    """One run of the function: list ``prefix`` in ``bucket``."""

    bucket: str
    prefix: str
    source: Source
    # For S3 notifications: the keys that triggered this run (for the log only).
    trigger_keys: tuple[str, ...] = field(default=(), compare=False)
    # A continuation round (the event was a previous response's ``next``); None: a new run.
    resume: Resume | None = None


@dataclass(frozen=True)
class Parsed:
    """What an event asks for: zero or more runs, and what was skipped and why."""

    source: Source
    requests: tuple[Request, ...]
    skipped: tuple[str, ...] = ()


def is_http_event(event: object) -> bool:
    """True for API Gateway proxy events (REST 1.0 or HTTP API 2.0)."""
    return _http_version(event) is not None


def parse_event(event: object, settings: Settings) -> Parsed:
    """Normalise any supported event into runs. Raises `BadRequest` on anything else."""
    if not isinstance(event, Mapping):
        raise BadRequest(f"event is a {type(event).__name__}; {EXPECTED}")
    if "Records" in event:
        return _parse_s3(event["Records"], settings)
    version = _http_version(event)
    if version is not None:
        params = _query_params(event, version)
        source = "apigw" if version == "1.0" else "apigw-v2"
        return Parsed(source, (_request(params, settings, source),))
    return Parsed("direct", (_request(event, settings, "direct"),))


def _http_version(event: object) -> str | None:
    if not isinstance(event, Mapping):
        return None
    ctx = event.get("requestContext")
    if event.get("version") == "2.0" and isinstance(ctx, Mapping) and "http" in ctx:
        return "2.0"
    if "httpMethod" in event and isinstance(ctx, Mapping):
        return "1.0"
    return None


def _query_params(event: Mapping[str, Any], version: str) -> Mapping[str, Any]:
    params = event.get("queryStringParameters") or {}
    if not isinstance(params, Mapping):
        raise BadRequest("queryStringParameters must be an object")
    if version == "2.0":
        # HTTP API joins repeated parameters with commas; a bucket name never has one (a
        # prefix may, so a repeated prefix cannot be told apart there).
        bucket = params.get("bucket")
        if isinstance(bucket, str) and "," in bucket:
            raise BadRequest("query parameter 'bucket' was given more than once")
    else:
        multi = event.get("multiValueQueryStringParameters") or {}
        for name in ("bucket", "prefix"):
            values = multi.get(name) if isinstance(multi, Mapping) else None
            if isinstance(values, list) and len(values) > 1:
                raise BadRequest(f"query parameter {name!r} was given more than once")
    return params


def _request(params: Mapping[str, Any], settings: Settings, source: Source) -> Request:
    bucket = params.get("bucket")
    prefix = params.get("prefix")
    if bucket is None or bucket == "":
        bucket = settings.bucket
    if prefix is None:
        prefix = settings.prefix
    if not isinstance(bucket, str):
        raise BadRequest(f"'bucket' must be a string, got {type(bucket).__name__}; {EXPECTED}")
    if not isinstance(prefix, str):
        raise BadRequest(f"'prefix' must be a string, got {type(prefix).__name__}; {EXPECTED}")
    prefix = check_prefix(prefix)
    try:
        resume = parse_resume(params, prefix) if source == "direct" else None
    except ValueError as e:
        raise BadRequest(str(e)) from e
    return Request(bucket=check_bucket(bucket), prefix=prefix, source=source, resume=resume)


def bucket_name_problem(name: str) -> str | None:
    """What breaks S3's general-purpose bucket naming rules in ``name``, or None if nothing."""
    if not 3 <= len(name) <= 63:
        return f"it has {len(name)} characters (3 to 63 allowed)"
    if not _BUCKET_RE.match(name):
        return (
            "only lowercase letters, digits, '.' and '-' are allowed, "
            "starting and ending with a letter or digit"
        )
    if ".." in name or ".-" in name or "-." in name:
        return "it has adjacent '.'/'-' characters"
    if name.startswith(("xn--", "sthree-")) or name.endswith(("-s3alias", "--ol-s3")):
        return "it uses a prefix or suffix S3 reserves"
    if _IP_RE.match(name):
        return "it is formatted as an IP address"
    return None


def check_bucket(bucket: str) -> str:
    """Return `bucket` if it is a valid S3 bucket name, else raise `BadRequest`."""
    problem = bucket_name_problem(bucket)
    if problem:
        raise BadRequest(f"invalid bucket name {bucket!r}: {problem}")
    return bucket


def check_prefix(prefix: str) -> str:
    """Return `prefix` if S3 can list it, else raise `BadRequest`."""
    if len(prefix.encode("utf-8", "surrogatepass")) > _MAX_KEY_BYTES:
        raise BadRequest(f"prefix is longer than S3's {_MAX_KEY_BYTES}-byte key limit")
    try:
        prefix.encode("utf-8")
    except UnicodeEncodeError as e:
        raise BadRequest(f"prefix {prefix!r} is not valid UTF-8 text") from e
    return prefix


def _parse_s3(records: object, settings: Settings) -> Parsed:
    if not isinstance(records, list) or not records:
        raise BadRequest(f"'Records' must be a non-empty list; {EXPECTED}")
    groups: dict[tuple[str, str], list[str]] = {}
    skipped: list[str] = []
    for i, record in enumerate(records):
        bucket, key = _s3_record(record, i)
        reason = skip_reason(key, settings.manifest_prefix)
        if reason:
            message = f"skipped s3://{bucket}/{key}: {reason}"
            log.info(message)
            skipped.append(message)
            continue
        folder = key.rpartition("/")[0] + "/" if "/" in key else ""
        groups.setdefault((bucket, folder), []).append(key)
    requests = tuple(
        Request(bucket=check_bucket(b), prefix=check_prefix(p), source="s3", trigger_keys=tuple(k))
        for (b, p), k in groups.items()
    )
    return Parsed("s3", requests, tuple(skipped))


def _s3_record(record: object, i: int) -> tuple[str, str]:
    where = f"Records[{i}]"
    if not isinstance(record, Mapping):
        raise BadRequest(f"{where} is not an object; {EXPECTED}")
    source = record.get("eventSource")
    if source is not None and source != "aws:s3":
        raise BadRequest(f"{where}.eventSource is {source!r}; this function handles 'aws:s3'")
    s3 = record.get("s3")
    try:
        bucket = s3["bucket"]["name"]  # type: ignore[index]
        raw_key = s3["object"]["key"]  # type: ignore[index]
    except (KeyError, TypeError) as e:
        raise BadRequest(f"{where} has no s3.bucket.name / s3.object.key; {EXPECTED}") from e
    if not isinstance(bucket, str) or not isinstance(raw_key, str):
        raise BadRequest(f"{where}: s3.bucket.name and s3.object.key must be strings")
    return bucket, unquote_plus(raw_key)


def is_pdf_key(key: str) -> bool:
    """The rule for "a PDF": the name ends in ``.pdf``, in any letter case (``A.PDF`` too).

    S3 keys are case-sensitive, but people and scanners write ``.PDF`` as often as ``.pdf``;
    a ``.pdf.bak`` or a name that merely contains "pdf" is not a PDF.
    """
    return key.lower().endswith(".pdf")


def skip_reason(key: str, manifest_prefix: str) -> str | None:
    """Why an object key must not be processed, or None to process it."""
    if manifest_prefix and key.startswith(manifest_prefix):
        return f"under {manifest_prefix!r} (the function's own output; avoids a recursive trigger)"
    if not is_pdf_key(key):
        return "not a PDF (name does not end in .pdf)"
    return None
