"""Execution environments as on Lambda: parallel cold starts, warm reuse, reserved
concurrency, idle reaping, and Lambda's async retry policy."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox._procs import free_ports
from sandbox.service import ServiceConfig, start_service
from tests.integration.service.conftest import PROJECT, wait_for

pytestmark = pytest.mark.integration


def _concurrently(count: int, call: Any) -> list[Any]:
    """``call(i)`` from ``count`` threads released together; results (or exceptions) in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call(i)
        except Exception as e:
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_eight_concurrent_calls_run_in_eight_environments_each_a_cold_start(
    service: Any, new_client: Any
) -> None:
    clients = [new_client(service.url) for _ in range(8)]
    before = service.status()["functions"]["hold"]
    results = _concurrently(
        8,
        lambda i: json.loads(
            clients[i].invoke(FunctionName="hold", Payload=b'{"seconds": 3}')["Payload"].read()
        ),
    )
    pids = {r["pid"] for r in results}
    assert len(pids) == 8, results
    after = service.status()["functions"]["hold"]
    assert after["cold_starts"] - before["cold_starts"] == 8
    assert set(after["pids"]) >= pids  # kept warm
    # A ninth call now finds a warm environment.
    again = json.loads(
        clients[0].invoke(FunctionName="hold", Payload=b'{"seconds": 0}')["Payload"].read()
    )
    assert again["pid"] in pids and again["calls"] == 2
    assert service.status()["functions"]["hold"]["warm_starts"] == after["warm_starts"] + 1


def test_reserved_concurrency_2_throttles_the_rest_with_429(service: Any, new_client: Any) -> None:
    clients = [new_client(service.url) for _ in range(5)]

    def call(i: int) -> dict[str, Any]:
        response: dict[str, Any] = clients[i].invoke(FunctionName="pair", Payload=b'{"seconds": 2}')
        response["Body"] = response["Payload"].read()  # releases the connection
        return response

    results = _concurrently(5, call)
    ok = [r for r in results if isinstance(r, dict)]
    throttled = [
        r for r in results if isinstance(r, clients[0].exceptions.TooManyRequestsException)
    ]
    assert len(ok) == 2 and len(throttled) == 3, results
    error = throttled[0].response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert error["retryAfterSeconds"] == "1"
    assert service.status()["functions"]["pair"]["throttles"] >= 3


def test_a_failing_event_is_retried_twice_with_the_same_request_id_then_succeeds(
    lam: Any, service: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "attempts"
    response = lam.invoke(
        FunctionName="flaky",
        InvocationType="Event",
        Payload=json.dumps({"marker": str(marker), "fail": 2}),
    )
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    lines = wait_for(
        lambda: (
            marker.exists()
            and len(marker.read_text().splitlines()) == 3
            and marker.read_text().splitlines()
        ),
        timeout=30,
        what="three attempts",
    )
    assert len(set(lines)) == 1  # retries keep the request id
    wait_for(
        lambda: service.status()["async"]["running"] == 0, timeout=10, what="the queue to drain"
    )
    time.sleep(1)  # no fourth attempt comes
    assert len(marker.read_text().splitlines()) == 3


def test_an_event_failing_three_times_is_given_up_recorded_and_listed(
    lam: Any, service: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "attempts"
    before = service.status()["async"]["failed"]
    response = lam.invoke(
        FunctionName="flaky", InvocationType="Event", Payload=json.dumps({"marker": str(marker)})
    )
    assert response["Payload"].read() == b""
    wait_for(
        lambda: service.status()["async"]["failed"] == before + 1, timeout=30, what="the give-up"
    )
    assert len(marker.read_text().splitlines()) == 3  # 1 attempt + 2 retries
    import urllib.request

    with urllib.request.urlopen(f"{service.url}/_sandbox/async-failures") as r:
        failures = json.loads(r.read())
    mine = [f for f in failures if str(marker) in f["payload"]]
    assert len(mine) == 1
    assert mine[0]["attempts"] == 3
    assert [e["errorType"] for e in mine[0]["errors"]] == ["RuntimeError"] * 3
    jsonl = Path(service.config.run_dir) / "async-failures.jsonl"
    assert str(marker) in jsonl.read_text()
    assert jsonl.stat().st_mode & 0o777 == 0o600


def test_idle_environments_are_reaped_after_the_idle_timeout(
    minio: Any, tmp_path: Path, new_client: Any
) -> None:
    sb, _, _ = minio
    port, api_port = free_ports(2)
    config = ServiceConfig(
        port=port, api_port=api_port, run_dir=str(tmp_path / "svc"), project=str(PROJECT),
        function_env=sb.env(), idle_timeout=0.5,
    )  # fmt: skip
    with start_service(config) as svc:
        client = new_client(svc.url)
        pid = json.loads(
            client.invoke(FunctionName="hold", Payload=b'{"seconds": 0}')["Payload"].read()
        )["pid"]
        assert svc.status()["functions"]["hold"]["pids"] == [pid]
        wait_for(
            lambda: svc.status()["functions"]["hold"]["pids"] == [], timeout=10, what="the reaper"
        )
        wait_for(lambda: not Path(f"/proc/{pid}").exists(), timeout=5, what=f"pid {pid} to exit")


def test_the_service_wide_cap_evicts_idle_environments_then_throttles(
    minio: Any, tmp_path: Path, new_client: Any
) -> None:
    sb, _, _ = minio
    port, api_port = free_ports(2)
    config = ServiceConfig(
        port=port, api_port=api_port, run_dir=str(tmp_path / "svc"), project=str(PROJECT),
        function_env=sb.env(), max_environments=1,
    )  # fmt: skip
    with start_service(config) as svc:
        client = new_client(svc.url)
        client.invoke(FunctionName="echo", Payload=b"{}")["Payload"].read()
        (echo_pid,) = svc.status()["functions"]["echo"]["pids"]
        # The only slot is held by an idle `echo`: `hold` evicts it rather than throttling.
        client.invoke(FunctionName="hold", Payload=b'{"seconds": 0}')["Payload"].read()
        assert svc.status()["functions"]["echo"]["pids"] == []
        wait_for(lambda: not Path(f"/proc/{echo_pid}").exists(), timeout=10, what="eviction")
        # With the slot busy, a second concurrent call is throttled at the account level.
        clients = [new_client(svc.url) for _ in range(2)]

        def call(i: int) -> Any:
            response = clients[i].invoke(FunctionName="hold", Payload=b'{"seconds": 2}')
            response["Payload"].read()
            return response

        results = _concurrently(2, call)
        throttled = [r for r in results if isinstance(r, Exception)]
        assert len(throttled) == 1, results
        assert throttled[0].response["Reason"] == "ConcurrentInvocationLimitExceeded"
