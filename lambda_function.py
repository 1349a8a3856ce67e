"""AWS Lambda entry point: ``lambda_function.handler``.

Lists the PDFs under a prefix of an S3 bucket, presigns a GET URL for each, streams them as a
JSONL manifest to ``manifests/<uuid>.jsonl`` (multipart, one part at a time through /tmp) and
returns ``{count, manifest_key, manifest_url, bucket, prefix, done}``: under 1 KB whatever the
object count. Near the timeout it returns ``done: false`` and a ``next`` event to continue.
The work is in the `s3_manifest` package that ships beside this file.
"""

from __future__ import annotations

from typing import Any

from s3_manifest import handle, preload

# INIT: load the SDK's S3 data now, on INIT's CPU, not in the first (throttled) invocation.
preload()


def handler(event: Any, context: Any) -> dict[str, Any]:
    return handle(event, context)
