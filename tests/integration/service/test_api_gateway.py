"""API Gateway over HTTP: real HTTP requests on the API port become proxy events for the
function, and its proxy response comes back as API Gateway maps it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from sandbox._procs import free_ports
from sandbox.service import start_service
from tests.integration.service.conftest import put_pdfs, service_config

pytestmark = pytest.mark.integration


def _request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, dict(e.headers), e.read()


def test_get_with_bucket_and_prefix_returns_200_json_with_the_count(
    service: Any, s3: Any, data_bucket: str
) -> None:
    put_pdfs(s3, data_bucket, ["2026/06/a.pdf", "2026/06/b.pdf", "2026/06/c.pdf"])
    status, headers, body = _request(
        f"{service.api_url}/manifest?bucket={data_bucket}&prefix=2026/06/"
    )
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["count"] == 3


def test_a_bad_bucket_name_gives_400(service: Any) -> None:
    status, _, body = _request(f"{service.api_url}/manifest?bucket=Not_A_Bucket&prefix=x/")
    assert status == 400
    assert json.loads(body)["error"] == "BadRequest"


def test_a_missing_bucket_gives_404(service: Any) -> None:
    status, _, body = _request(
        f"{service.api_url}/manifest?bucket=no-such-bucket-llr-404&prefix=x/"
    )
    assert status == 404
    assert json.loads(body)["error"] == "BucketNotFound"


@pytest.fixture(scope="module")
def web_service(minio: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    sb, _, _ = minio
    port, api_port = free_ports(2)
    config = service_config(
        sb, port, api_port, tmp_path_factory.mktemp("web"), api_function="web", webhook_token=None
    )
    with start_service(config) as svc:
        yield svc


def test_a_binary_body_round_trips(web_service: Any) -> None:
    payload = bytes(range(256)) * 64
    status, headers, body = _request(
        f"{web_service.api_url}/upload?x=1",
        method="POST",
        body=payload,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert status == 200
    assert body == payload
    assert headers["X-Query"] == "x=1"


def test_a_function_error_gives_api_gateways_502(minio: Any, tmp_path: Path) -> None:
    sb, _, _ = minio
    port, api_port = free_ports(2)
    config = service_config(
        sb, port, api_port, tmp_path / "svc", api_function="boom", webhook_token=None
    )
    with start_service(config) as svc:
        status, _, body = _request(f"{svc.api_url}/anything")
        assert status == 502
        assert json.loads(body) == {"message": "Internal server error"}
        log = (tmp_path / "svc" / "logs" / "boom.log").read_text()
        assert "API Gateway: Execution failed" in log and "ValueError" in log


def test_a_malformed_proxy_response_gives_502_and_a_log_line_saying_why(
    minio: Any, tmp_path: Path
) -> None:
    sb, _, _ = minio
    port, api_port = free_ports(2)
    config = service_config(
        sb, port, api_port, tmp_path / "svc", api_function="rest-plain", webhook_token=None
    )
    with start_service(config) as svc:
        # A REST API (1.0) proxy response must be {statusCode, headers, body...}: a plain
        # dict with other keys is API Gateway's "Malformed Lambda proxy response".
        status, _, body = _request(f"{svc.api_url}/x")
        assert status == 502
        assert json.loads(body) == {"message": "Internal server error"}
        log = (tmp_path / "svc" / "logs" / "rest-plain.log").read_text()
        assert "Malformed Lambda proxy response" in log and "unexpected key(s)" in log
