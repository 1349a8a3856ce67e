"""An async burst through the SigV4-verifying service: 200 ``Event`` invocations sent at once
from 20 threads, none lost, each processed exactly once.

Semantics (README "Async delivery"): AWS documents asynchronous invocation as at-least-once,
so a production handler must be idempotent. Locally the service queues each accepted event
once and runs it once; it runs it again only under Lambda's retry policy (the function
returned an error: at most 2 retries, same request id). This burst has no errors, so any
second run would be a duplicate: the test counts every run of every event and demands
exactly one, with 200 distinct request ids and the queue drained with no give-ups.

The handler is ``flaky`` with ``fail=0``: it appends its request id to the event's own
marker file before returning, so a run is recorded even if the answer were lost.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from sandbox import Sandbox
from sandbox.service import RunningService
from tests.integration.service.conftest import wait_for
from tests.integration.service.verified import signed_client, verified_service

pytestmark = pytest.mark.integration

EVENTS = 200
SENDERS = 20


@pytest.fixture(scope="module")
def burst_service(
    minio: tuple[Sandbox, int, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    run_dir = tmp_path_factory.mktemp("burst")
    with verified_service(minio[0], run_dir, async_concurrency=4) as svc:
        yield svc


def test_200_event_invocations_are_each_run_exactly_once(
    burst_service: RunningService, minio: tuple[Sandbox, int, int], tmp_path: Path
) -> None:
    sb = minio[0]
    client = signed_client(burst_service, sb, max_pool_connections=SENDERS)
    before = burst_service.status()["async"]
    markers = [tmp_path / f"event-{i:03d}.log" for i in range(EVENTS)]
    barrier = threading.Barrier(SENDERS)

    def send(i: int) -> tuple[int, str]:
        if i < SENDERS:
            barrier.wait()  # the first 20 leave together; the rest follow as threads free up
        payload = json.dumps({"marker": str(markers[i]), "fail": 0, "n": i}).encode()
        out = client.invoke(FunctionName="flaky", InvocationType="Event", Payload=payload)
        return out["StatusCode"], out["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]

    try:
        with ThreadPoolExecutor(SENDERS) as pool:
            answers = list(pool.map(send, range(EVENTS)))
    finally:
        client.close()
    assert [status for status, _ in answers] == [202] * EVENTS
    accepted_ids = {request_id for _, request_id in answers}
    assert len(accepted_ids) == EVENTS

    def drained() -> Any:
        state = burst_service.status()["async"]
        done = state["succeeded"] - before["succeeded"]
        return done >= EVENTS and state["queue_depth"] == 0 and state["running"] == 0

    wait_for(drained, timeout=240, what=f"{EVENTS} queued events to run")
    runs = {path.name: path.read_text().splitlines() for path in markers if path.exists()}
    lost = [m.name for m in markers if m.name not in runs]
    duplicated = {name: ids for name, ids in runs.items() if len(ids) != 1}
    assert not lost, f"{len(lost)} events never ran: {lost[:5]}"
    assert not duplicated, f"events run more than once: {list(duplicated.items())[:5]}"
    # Each run carries the request id the Invoke API answered with (202's x-amzn-RequestId).
    assert {ids[0] for ids in runs.values()} == accepted_ids
    after = burst_service.status()["async"]
    assert after["succeeded"] - before["succeeded"] == EVENTS
    assert after["retried"] == before["retried"] and after["failed"] == before["failed"]
