"""Server crash and recovery through the CLI: ``kill -9`` MinIO while the seeder writes and
while the function lists; ``status`` says the sandbox is stale; ``up`` brings the same sandbox
back (same data dir, same credentials); nothing acknowledged is lost.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox import Sandbox
from sandbox.backends import default_backends
from sandbox.faults import recorded
from sandbox.runtime import Environment, FunctionConfig
from seed import SeedError, seed_bucket

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BUCKET = "crash-recovery"
PREFIX = "2026/04/"


def _cli(state_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SANDBOX_STATE_DIR=str(state_dir))
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def _etags(client: Any) -> dict[str, str]:
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            found[obj["Key"]] = obj["ETag"]
    return found


@pytest.fixture
def state_dir(tmp_path: Path) -> Any:
    minio = {b.name: b for b in default_backends()}["minio"]
    if not (availability := minio.probe()).ok:
        pytest.skip(f"needs MinIO: {availability.reason}")
    sdir = tmp_path / ".sandbox"
    try:
        yield sdir
    finally:
        _cli(sdir, "down", "--purge", check=False)


def _attached(state_dir: Path) -> Sandbox:
    sb = Sandbox.attach(state_dir)
    assert sb is not None
    return sb


def _kill_minio(state_dir: Path) -> int:
    pid = json.loads((state_dir / "state.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    return int(pid)


def _stale_then_up(state_dir: Path, before: dict[str, Any]) -> tuple[Sandbox, str]:
    status = _cli(state_dir, "status", check=False)
    assert status.returncode == 1
    assert "STALE" in status.stdout and "healthy       False" in status.stdout
    assert "is gone" in status.stdout or "zombie" in status.stdout

    up = _cli(state_dir, "up", "--backend", "minio")
    assert "stale sandbox state" in up.stderr
    after = json.loads((state_dir / "state.json").read_text())
    assert after["data_dir"] == before["data_dir"]
    assert after["endpoint"]["access_key"] == before["endpoint"]["access_key"]
    assert after["endpoint"]["secret_key"] == before["endpoint"]["secret_key"]
    assert _cli(state_dir, "status").returncode == 0
    return _attached(state_dir), up.stderr


def test_objects_acknowledged_before_a_kill_9_during_seeding_survive_up(state_dir: Path) -> None:
    _cli(state_dir, "up", "--backend", "minio")
    before = json.loads((state_dir / "state.json").read_text())
    sb = _attached(state_dir)

    acknowledged: dict[str, str] = {}
    lock = threading.Lock()
    failure: list[BaseException] = []

    def on_uploaded(key: str, etag: str) -> None:
        with lock:
            acknowledged[key] = etag

    def seeder() -> None:
        try:
            seed_bucket(
                sb.endpoint, bucket=BUCKET, prefix=PREFIX, count=3000, seed=5,
                method="put", on_uploaded=on_uploaded,
            )  # fmt: skip
        except BaseException as e:
            failure.append(e)

    thread = threading.Thread(target=seeder)
    thread.start()
    deadline = time.monotonic() + 120
    while len(acknowledged) < 300 and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.01)
    _kill_minio(state_dir)
    thread.join(timeout=180)
    assert not thread.is_alive()
    assert failure and isinstance(failure[0], SeedError), "the seeder did not notice the crash"
    assert len(acknowledged) >= 300

    sb, _ = _stale_then_up(state_dir, before)
    present = _etags(sb.client())
    missing = sorted(set(acknowledged) - set(present))
    assert missing == [], f"{len(missing)} acknowledged objects lost, e.g. {missing[:3]}"
    changed = [k for k, etag in acknowledged.items() if present[k] != etag]
    assert changed == [], f"{len(changed)} objects changed, e.g. {changed[:3]}"


def test_a_kill_9_while_the_function_lists_fails_cleanly_and_up_restores_everything(
    state_dir: Path,
) -> None:
    _cli(state_dir, "up", "--backend", "minio")
    before = json.loads((state_dir / "state.json").read_text())
    sb = _attached(state_dir)
    expected = seed_bucket(sb.endpoint, bucket=BUCKET, prefix=PREFIX, count=2500, seed=6).expected
    etags = _etags(sb.client())
    # The function goes through the fault layer (slow listing, so the kill lands inside it).
    _cli(state_dir, "faults", "add", "latency", "--ms", "300")
    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in _cli(state_dir, "env").stdout.splitlines()
    )
    assert exports["AWS_ENDPOINT_URL_S3"] != sb.endpoint.url
    assert exports["SANDBOX_DIRECT_ENDPOINT_S3"] == sb.endpoint.url
    layer = recorded.attach(state_dir, sb.endpoint)
    assert layer is not None
    env_vars = {**layer.env(), "BUCKET_NAME": BUCKET, "PREFIX": PREFIX}
    config = FunctionConfig(env=env_vars, timeout=120, lambda_limits=False)
    with Environment(config) as env:
        layer.clear()  # zero the request counters (and switch the latency off)...
        _cli(state_dir, "faults", "add", "latency", "--ms", "300")  # ...and on again

        def kill_on_second_page() -> None:
            end = time.monotonic() + 60
            while layer.requests("list") < 2 and time.monotonic() < end:
                time.sleep(0.01)
            _kill_minio(state_dir)

        killer = threading.Thread(target=kill_on_second_page)
        killer.start()
        failed = env.invoke({})
        killer.join()
        assert failed.status == "error"
        assert failed.error is not None and failed.error["errorType"] == "ListingFailed"
        assert os.listdir(env.tmp_path) == []

        sb, said = _stale_then_up(state_dir, before)
        assert f"now forwards to {sb.endpoint.url}" in said  # the function's URL is unchanged
        _cli(state_dir, "faults", "clear")
        assert _etags(sb.client()) == etags  # the failed run wrote nothing, lost nothing
        again = env.invoke({})
        assert again.ok, again.error
        assert again.response["count"] == expected.count
