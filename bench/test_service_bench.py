"""The local Lambda service's overhead: a warm RequestResponse round trip through it, against
a direct warm ``Environment.invoke`` of the same handler, in the same run.

The handler does nothing, so what is measured is the path alone:

* ``direct``: ``Environment.invoke`` in this process (what ``invoke.py`` does when warm);
* ``http``: one keep-alive HTTP POST to the Invoke API (aiohttp, the pool, the pipe to the
  worker process, the same ``Environment.invoke`` there, the log block appended, back);
* ``boto3``: the same through boto3's ``lambda`` client (adds botocore's signing, request
  building and response parsing: what a user's code pays).

SAM publishes 1.9-4.1 s per ``sam local invoke`` (a container per call); the ratio printed at
the end is ours against the in-process floor, from the same run.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from sandbox._procs import free_ports
from sandbox.runtime import Environment, FunctionConfig
from sandbox.service import RunningService, ServiceConfig, start_service

_MEDIANS: dict[str, float] = {}
_HANDLER = "noop_handler.handler"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("service-bench")
    (root / "noop_handler.py").write_text("def handler(event, context):\n    return None\n")
    (root / "pyproject.toml").write_text(
        f'[tool.lambda_local_runner.functions.noop]\nhandler = "{_HANDLER}"\nmemory = 512\n'
    )
    return root


@pytest.fixture(scope="module")
def service(project: Path) -> Iterator[RunningService]:
    port, api_port = free_ports(2)
    config = ServiceConfig(
        port=port,
        api_port=api_port,
        run_dir=str(project / "run"),
        project=str(project / "pyproject.toml"),
    )
    with start_service(config) as svc:
        yield svc


def _record(benchmark: Any, name: str) -> None:
    _MEDIANS[name] = benchmark.stats.stats.median
    if "direct" in _MEDIANS and name != "direct":
        ratio = _MEDIANS[name] / _MEDIANS["direct"]
        benchmark.extra_info["ratio_to_direct"] = round(ratio, 1)
        print(
            f"\n[service bench] {name}: median {_MEDIANS[name] * 1000:.2f} ms, "
            f"{ratio:.1f}x the direct warm invoke ({_MEDIANS['direct'] * 1000:.3f} ms)"
        )


def test_direct_warm_environment_invoke(benchmark: Any, project: Path) -> None:
    config = FunctionConfig(handler=_HANDLER, function_name="noop", task_root=str(project))
    with Environment(config) as env:
        env.invoke({})  # the cold start
        inv = benchmark(env.invoke, {"bucket": "b", "prefix": "p/"})
    assert inv.ok and not inv.cold
    _record(benchmark, "direct")


def test_warm_invoke_over_http_through_the_service(benchmark: Any, service: RunningService) -> None:
    port = service.config.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    path = "/2015-03-31/functions/noop/invocations"
    body = b'{"bucket":"b","prefix":"p/"}'

    def call() -> bytes:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        assert response.status == 200
        return data

    try:
        call()  # the cold start
        assert benchmark(call) == b"null"
    finally:
        conn.close()
    _record(benchmark, "http")


def test_warm_invoke_with_boto3_through_the_service(
    benchmark: Any, service: RunningService
) -> None:
    client = boto3.client(
        "lambda",
        endpoint_url=service.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDLOCAL",
        aws_secret_access_key="local",
        config=Config(retries={"total_max_attempts": 1}),
    )

    def call() -> bytes:
        data: bytes = client.invoke(FunctionName="noop", Payload=b'{"bucket":"b","prefix":"p/"}')[
            "Payload"
        ].read()
        return data

    try:
        call()  # the cold start
        assert benchmark(call) == b"null"
    finally:
        client.close()
    _record(benchmark, "boto3")
