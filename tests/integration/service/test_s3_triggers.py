"""Real S3 triggers: MinIO POSTs each upload to the service's webhook route, which checks
the bearer token, translates the record to AWS's shape and invokes the function (Event
semantics). The sample function's own manifest upload must not trigger it again."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from sandbox.service import start_service
from tests.integration.service.conftest import TRIGGER_BUCKET, manifests, put_pdfs, wait_for

pytestmark = pytest.mark.integration

FUNCTION = "lambda-local-runner"


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        with e:
            return e.code


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-wrong-token", "Basic abc"],
    ids=["missing", "wrong", "not-bearer"],
)
def test_the_webhook_refuses_a_missing_or_wrong_token_with_401(
    service: Any, authorization: str | None
) -> None:
    before = service.status()["functions"][FUNCTION]["invocations"]
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    body = json.dumps({"EventName": "s3:ObjectCreated:Put", "Key": "x", "Records": []}).encode()
    assert _post(f"{service.url}/_sandbox/s3-events", body, headers) == 401
    assert service.status()["async"]["queue_depth"] == 0
    assert service.status()["functions"][FUNCTION]["invocations"] == before


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"deep": ' + b"[" * 5000 + b"]" * 5000 + b"}", b'{"Records": 5}'],
    ids=["not-json", "nested-5000-deep", "not-a-notification"],
)
def test_the_webhook_answers_a_body_it_cannot_use_with_400_not_500(
    service: Any, body: bytes
) -> None:
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {service.config.webhook_token}",
    }
    assert _post(f"{service.url}/_sandbox/s3-events", body, headers) == 400
    assert service.status()["async"]["queue_depth"] == 0


def _invocations(service: Any) -> int:
    return int(service.status()["functions"][FUNCTION]["invocations"])


def _settled(service: Any) -> bool:
    a = service.status()["async"]
    return a["queue_depth"] == 0 and a["running"] == 0


def _started(service: Any) -> int:
    f = service.status()["functions"][FUNCTION]
    return int(f["cold_starts"] + f["warm_starts"])


def test_uploading_one_pdf_runs_the_function_within_5_s_and_a_manifest_appears(
    service: Any, s3: Any
) -> None:
    wait_for(lambda: _settled(service), timeout=30, what="a quiet queue")
    folder = f"2026/04/{uuid.uuid4().hex[:8]}/"
    before, started = set(manifests(s3, TRIGGER_BUCKET)), _started(service)
    put_pdfs(s3, TRIGGER_BUCKET, [f"{folder}report.pdf"])
    # Running: an execution environment took the event (a cold start included).
    wait_for(lambda: _started(service) == started + 1, timeout=5, what="the invocation to start")
    new = wait_for(
        lambda: set(manifests(s3, TRIGGER_BUCKET)) - before, timeout=30, what="the manifest"
    )
    (key,) = new
    lines = s3.get_object(Bucket=TRIGGER_BUCKET, Key=key)["Body"].read().decode().splitlines()
    assert [json.loads(line)["key"] for line in lines] == [f"{folder}report.pdf"]


@pytest.mark.slow
def test_a_burst_of_50_uploads_makes_50_invocations_and_none_from_a_manifest(
    service: Any, s3: Any
) -> None:
    wait_for(lambda: _settled(service), timeout=30, what="a quiet queue")
    before = _invocations(service)
    manifests_before = set(manifests(s3, TRIGGER_BUCKET))
    folder = f"2026/05/{uuid.uuid4().hex[:8]}/"
    keys = [f"{folder}doc-{i:02d}.pdf" for i in range(50)]
    put_pdfs(s3, TRIGGER_BUCKET, keys)
    wait_for(lambda: _invocations(service) >= before + 50, timeout=180, what="50 invocations")
    time.sleep(3)  # time for the 50 manifest uploads to (wrongly) trigger more
    wait_for(lambda: _settled(service), timeout=30, what="the queue to drain")
    assert _invocations(service) == before + 50  # one per upload; none from manifests/
    new = set(manifests(s3, TRIGGER_BUCKET)) - manifests_before
    assert len(new) == 50
    listed = set()
    for key in new:
        body = s3.get_object(Bucket=TRIGGER_BUCKET, Key=key)["Body"].read().decode()
        listed |= {json.loads(line)["key"] for line in body.splitlines()}
    assert listed == set(keys)  # none lost


def test_stopping_the_service_uploading_and_starting_it_again_still_delivers(
    service: Any, s3: Any, minio: Any
) -> None:
    # A second service on the same port and token stands in for the restarted one.
    config = service.config
    service.stop()
    folder = f"2026/07/{uuid.uuid4().hex[:8]}/"
    before = set(manifests(s3, TRIGGER_BUCKET))
    put_pdfs(s3, TRIGGER_BUCKET, [f"{folder}while-down.pdf"])
    time.sleep(1)
    assert set(manifests(s3, TRIGGER_BUCKET)) == before  # nobody to deliver to
    restarted = start_service(config)
    try:
        wait_for(
            lambda: set(manifests(s3, TRIGGER_BUCKET)) - before, timeout=60, what="the queued event"
        )
    finally:
        restarted.stop()
