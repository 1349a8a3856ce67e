"""The fault layer on a real S3 server: pass-through, each kind of fault, the ``s3_faults``
fixture around an invoke, loopback binding."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox._s3 import make_client
from sandbox.faults import (
    FaultLayer,
    internal_error,
    latency,
    reset,
    slowdown,
)
from tests.integration.test_sandbox_backends import LOOPBACK, _listening_addresses

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.4 fault layer\n"


def _put_pdfs(client: Any, bucket: str, n: int) -> None:
    for i in range(n):
        client.put_object(Bucket=bucket, Key=f"2026/04/r{i}.pdf", Body=PDF)


def _one_shot(layer: FaultLayer) -> Any:
    """A client through the faults that never retries: it sees each fault as it is."""
    return make_client(layer.endpoint, retries={"total_max_attempts": 1, "mode": "standard"})


def test_bytes_pass_through_unchanged_and_signatures_still_verify(
    s3_faults: FaultLayer, s3_sandbox: Any, s3_bucket: str
) -> None:
    body = os.urandom(3 * 1024 * 1024 + 7)
    through = make_client(s3_faults.endpoint)
    put = through.put_object(Bucket=s3_bucket, Key="big.bin", Body=body)
    direct = s3_sandbox.client().get_object(Bucket=s3_bucket, Key="big.bin")
    assert direct["Body"].read() == body
    assert direct["ETag"] == put["ETag"]
    assert through.get_object(Bucket=s3_bucket, Key="big.bin")["Body"].read() == body
    assert s3_faults.requests("put") == 1 and s3_faults.requests("get") == 1


def test_slowdown_answers_s3s_503_on_the_chosen_list_requests_only(
    s3_faults: FaultLayer, s3_bucket: str
) -> None:
    from botocore.exceptions import ClientError

    name = s3_faults.add(slowdown(on="list", every=5, count=2))
    client = _one_shot(s3_faults)
    outcomes = []
    for _ in range(7):
        try:
            client.list_objects_v2(Bucket=s3_bucket)
            outcomes.append("ok")
        except ClientError as e:
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 503
            outcomes.append(e.response["Error"]["Code"])
    client.head_bucket(Bucket=s3_bucket)  # not a list request: never picked
    assert outcomes == ["SlowDown", "SlowDown", "ok", "ok", "ok", "SlowDown", "SlowDown"]
    assert s3_faults.fired(name) == 4


def test_a_request_reset_drops_the_connection_mid_response(
    s3_faults: FaultLayer, s3_bucket: str, s3_sandbox: Any
) -> None:
    from botocore.exceptions import BotoCoreError

    s3_sandbox.client().put_object(Bucket=s3_bucket, Key="obj", Body=b"x" * 200_000)
    name = s3_faults.add(reset(after_bytes=1000, on="get", nth=1))
    client = _one_shot(s3_faults)
    with pytest.raises(BotoCoreError):
        client.get_object(Bucket=s3_bucket, Key="obj")["Body"].read()
    assert s3_faults.fired(name) == 1
    assert len(client.get_object(Bucket=s3_bucket, Key="obj")["Body"].read()) == 200_000


def test_latency_delays_every_response(s3_faults: FaultLayer, s3_bucket: str) -> None:
    client = make_client(s3_faults.endpoint)
    client.list_objects_v2(Bucket=s3_bucket)  # connect first
    with s3_faults.active(latency(150)):
        began = time.perf_counter()
        client.list_objects_v2(Bucket=s3_bucket)
        delayed = time.perf_counter() - began
    assert delayed >= 0.150  # a lower bound the fault guarantees, not a speed claim
    assert [f["name"] for f in s3_faults.faults()] == []  # active() switched it off


def test_s3_faults_switches_faults_on_and_off_around_an_invoke(
    s3_faults: FaultLayer, s3_sandbox: Any, s3_bucket: str, lambda_invoke: Any, tmp_path: Path
) -> None:
    _put_pdfs(s3_sandbox.client(), s3_bucket, 5)
    env = {**s3_faults.env(), "BUCKET_NAME": s3_bucket, "PREFIX": "2026/04/"}
    event = {"bucket": s3_bucket, "prefix": "2026/04/"}

    with s3_faults.active(internal_error(on="list", nth=1)) as (name,):
        retried = lambda_invoke(event, env=env)
        assert s3_faults.fired(name) == 1
    assert retried.ok, retried.error  # the SDK retried the 500
    assert retried.response["count"] == 5

    with s3_faults.active(slowdown(on="list")):  # every list request, every retry
        throttled = lambda_invoke(event, env=env)
    assert throttled.error is not None and throttled.error["errorType"] == "ListingFailed"
    assert "SlowDown" in throttled.error["errorMessage"]

    after = lambda_invoke(event, env=env)  # warm, faults off
    assert after.ok and after.response["count"] == 5


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="needs Linux /proc")
def test_every_fault_layer_process_listens_on_loopback_only(s3_faults: FaultLayer) -> None:
    assert s3_faults.endpoint.url.startswith("http://127.0.0.1:")
    for what, pid in s3_faults.pids().items():
        addresses = _listening_addresses(pid)
        assert addresses, f"{what} listens on nothing?"
        assert addresses <= LOOPBACK, f"{what} listens beyond loopback: {addresses - LOOPBACK}"


def test_a_stopped_layer_leaves_no_process_and_no_files(s3_sandbox: Any) -> None:
    layer = FaultLayer.start(s3_sandbox.endpoint)
    workdir = Path(layer.handle.workdir).parent
    pids = layer.pids()
    layer.stop()
    layer.stop()  # idempotent
    assert not workdir.exists()
    for pid in pids.values():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 0)
            raise AssertionError(f"process {pid} survived stop()")
