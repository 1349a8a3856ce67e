"""Test handler that lists a bucket with boto3 from the environment Lambda would give it."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config


def handler(event: Any, context: Any) -> Any:
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
    page = s3.list_objects_v2(Bucket=event["bucket"])
    return sorted(obj["Key"] for obj in page.get("Contents", []))
