"""A local Lambda service that verifies SigV4 (as ``python -m sandbox up`` starts it), for the
issue-16 tests: signatures, load, async bursts, fuzzing. Separate from the package's
``service`` fixture, which runs without credentials (any signature accepted)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from sandbox import Sandbox
from sandbox._procs import free_ports
from sandbox.service import RunningService, start_service
from tests.integration.service.conftest import service_config

__all__ = ["signed_client", "verified_service"]


@contextmanager
def verified_service(sb: Sandbox, run_dir: Path, **kw: Any) -> Iterator[RunningService]:
    """A service on fresh ports whose Invoke API checks signatures against ``sb``'s credentials."""
    port, api_port = free_ports(2)
    config = service_config(
        sb,
        port,
        api_port,
        run_dir,
        webhook_token=None,
        access_key=sb.endpoint.access_key,
        secret_key=sb.endpoint.secret_key,
        **kw,
    )
    with start_service(config) as svc:
        yield svc


def signed_client(
    svc: RunningService,
    sb: Sandbox,
    *,
    secret: str | None = None,
    access: str | None = None,
    **config: Any,
) -> Any:
    """boto3's lambda client with the sandbox's credentials (or the ones given); no retries."""
    return boto3.client(
        "lambda",
        endpoint_url=svc.url,
        region_name=sb.endpoint.region,
        aws_access_key_id=access or sb.endpoint.access_key,
        aws_secret_access_key=secret or sb.endpoint.secret_key,
        config=Config(retries={"total_max_attempts": 1}, read_timeout=120, **config),
    )
