"""One real MinIO (with its webhook pointed at the service) and one local Lambda service for
the service's integration tests, started once per package.

The service runs the functions of ``project/pyproject.toml`` (small test handlers, and the
sample function imported through this repository's editable install). Async retries wait
0.2 s and 0.4 s instead of Lambda's minutes. The trigger rules are on ``TRIGGER_BUCKET``
only; tests that are not about triggers use ``data_bucket``, so uploads there invoke nothing.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from sandbox import BackendUnavailable, Sandbox
from sandbox._procs import free_ports
from sandbox.project import load_project
from sandbox.service import RunningService, ServiceConfig, start_service
from sandbox.service.cli import trigger_arn
from sandbox.service.notifications import WebhookTarget, configure_notifications

PROJECT = Path(__file__).parent / "project" / "pyproject.toml"
TRIGGER_BUCKET = "llr-trigger-bucket"
RETRY_DELAYS = (0.2, 0.4)


@pytest.fixture(scope="package")
def minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, int, int]]:
    """MinIO started with a webhook target on the port the service will take."""
    port, api_port = free_ports(2)
    queue = tmp_path_factory.mktemp("minio-queue")
    target = WebhookTarget(
        f"http://127.0.0.1:{port}/_sandbox/s3-events", secrets.token_urlsafe(32), str(queue)
    )
    try:
        sb = Sandbox.start("minio", webhook=target)
    except BackendUnavailable as e:
        pytest.skip(f"MinIO unavailable: {e}")
    with sb:
        yield sb, port, api_port


def service_config(
    sb: Sandbox, port: int, api_port: int, run_dir: Path, **kw: Any
) -> ServiceConfig:
    webhook = sb.webhook
    settings: dict[str, Any] = {
        "port": port,
        "api_port": api_port,
        "run_dir": str(run_dir),
        "project": str(PROJECT),
        "function_env": {**sb.env(), "BUCKET_NAME": TRIGGER_BUCKET},
        "region": sb.endpoint.region,
        "webhook_token": webhook.token if webhook else None,
        "default_bucket": TRIGGER_BUCKET,
        "retry_delays": RETRY_DELAYS,
        "idle_timeout": 120.0,
        "api_function": "lambda-local-runner",
    }
    settings.update(kw)
    return ServiceConfig(**settings)


@pytest.fixture(scope="package")
def service(
    minio: tuple[Sandbox, int, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    sb, port, api_port = minio
    client = sb.client()
    client.create_bucket(Bucket=TRIGGER_BUCKET)
    config = service_config(sb, port, api_port, tmp_path_factory.mktemp("service"))
    with start_service(config) as svc:
        # After the service listens: MinIO accepts rules for a target it can reach.
        configure_notifications(client, load_project(PROJECT), TRIGGER_BUCKET, trigger_arn(sb))
        yield svc


@pytest.fixture(scope="package")
def s3(minio: tuple[Sandbox, int, int]) -> Any:
    return minio[0].client()  # the sandbox's own client, closed with it


@pytest.fixture
def data_bucket(s3: Any) -> Iterator[str]:
    """A fresh bucket with no trigger rules; emptied and deleted afterwards."""
    name = f"data-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=name, Key=obj["Key"])
        s3.delete_bucket(Bucket=name)


def lambda_client(url: str, **config: Any) -> Any:
    """boto3's lambda client for the service; no retries, so a 429 is seen as it is."""
    return boto3.client(
        "lambda",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIDLOCAL",
        aws_secret_access_key="local-secret",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=120, **config),
    )


@pytest.fixture(scope="package")
def lam(service: RunningService) -> Iterator[Any]:
    client = lambda_client(service.url)
    yield client
    client.close()


@pytest.fixture
def new_client() -> Iterator[Callable[[str], Any]]:
    """Makes lambda clients (one per thread for concurrent calls); all closed afterwards."""
    made: list[Any] = []

    def make(url: str) -> Any:
        made.append(lambda_client(url))
        return made[-1]

    yield make
    for client in made:
        client.close()


def wait_for(check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy; fail saying ``what`` was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def put_pdfs(s3: Any, bucket: str, keys: list[str]) -> None:
    for key in keys:
        s3.put_object(
            Bucket=bucket, Key=key, Body=b"%PDF-1.4\n%%EOF\n", ContentType="application/pdf"
        )


def manifests(s3: Any, bucket: str) -> list[str]:
    listing = s3.list_objects_v2(Bucket=bucket, Prefix="manifests/")
    return [o["Key"] for o in listing.get("Contents", [])]
