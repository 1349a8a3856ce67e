"""The deployable part: list PDFs under a prefix, presign each, upload a JSONL manifest.

Ships with ``lambda_function.py``; needs only aioboto3/botocore and the standard library.
"""

from __future__ import annotations

from s3_manifest.app import preload
from s3_manifest.errors import (
    AccessDenied,
    BucketNotFound,
    ListingFailed,
    ManifestUploadFailed,
    RunAborted,
)
from s3_manifest.handler import handle
from s3_manifest.manifest import TmpFull
from s3_manifest.requests import BadRequest, Request, is_pdf_key, parse_event
from s3_manifest.settings import ConfigError, Settings

__all__ = [
    "AccessDenied",
    "BadRequest",
    "BucketNotFound",
    "ConfigError",
    "ListingFailed",
    "ManifestUploadFailed",
    "Request",
    "RunAborted",
    "Settings",
    "TmpFull",
    "handle",
    "is_pdf_key",
    "parse_event",
    "preload",
]
