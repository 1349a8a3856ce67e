"""boto3 clients and the S3-level readiness probe. boto3 is imported lazily (plugin import cost)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.backends._base import Endpoint

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any


def make_client(endpoint: Endpoint, *, probe: bool = False, **config: Any) -> S3Client:
    """A boto3 S3 client for ``endpoint``: path-style addressing, SigV4.

    ``probe`` clients fail fast (no retries, short timeouts) for readiness checks.
    """
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {
        "s3": {"addressing_style": "path"},
        "signature_version": "s3v4",
    }
    if probe:
        options.update(
            retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1, read_timeout=3
        )
    options.update(config)
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=endpoint.url,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        aws_session_token=endpoint.session_token,
        region_name=endpoint.region,
        config=Config(**options),
    )


def list_buckets_problem(endpoint: Endpoint, *, access_denied_ok: bool = False) -> str | None:
    """``None`` when a signed ListBuckets succeeds, else a one-line description of what happened."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        make_client(endpoint, probe=True).list_buckets()
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "?")
        if access_denied_ok and code == "AccessDenied":
            return None
        return f"ListBuckets answered {code}: {e.response.get('Error', {}).get('Message', '')}"
    except BotoCoreError as e:
        return f"ListBuckets failed: {e}"
    return None
