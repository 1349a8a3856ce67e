"""``python invoke.py`` end to end against the S3 sandbox, and the in-process fixtures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox import state as state_mod

# The fixtures come from the project's pytest plugin (entry point pytest11).

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "2026/04/"
PDF = b"%PDF-1.4\n%fake\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _seed(client: Any, bucket: str) -> list[str]:
    keys = [f"{PREFIX}report {i}.pdf" for i in range(3)]
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=PDF, ContentType="application/pdf")
    client.put_object(Bucket=bucket, Key=f"{PREFIX}notes.txt", Body=b"not a pdf")
    return keys


def _run_invoke(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "invoke.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def test_invoke_py_with_an_s3_event_runs_the_function_against_the_running_sandbox(
    s3_sandbox: Any, s3_bucket: str, tmp_path: Path
) -> None:
    client = s3_sandbox.client()
    _seed(client, s3_bucket)
    state_mod.save(tmp_path, state_mod.State(s3_sandbox.handle))  # what `sandbox up` records
    done = _run_invoke(
        [
            "--event",
            "s3",
            "--bucket",
            s3_bucket,
            "--prefix",
            PREFIX,
            "--json",
            "--state-dir",
            str(tmp_path),
        ],
        _clean_env(),
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["ok"] and out["target"] == "sandbox"
    response = out["response"]
    assert response["count"] == 3
    assert response["bucket"] == s3_bucket and response["prefix"] == PREFIX
    head = client.head_object(Bucket=s3_bucket, Key=response["manifest_key"])
    assert head["ContentLength"] > 0
    (inv,) = out["invocations"]
    assert inv["cold"] and inv["init_duration_ms"] > 0
    assert inv["billed_duration_ms"] >= inv["duration_ms"] + inv["init_duration_ms"]
    assert 0 < inv["max_memory_used_mb"] < inv["memory_size_mb"]
    assert inv["tmp_peak_bytes"] > 0  # the manifest was spooled in the function's /tmp


def test_the_s3_event_describes_the_real_object(
    s3_sandbox: Any, s3_bucket: str, tmp_path: Path
) -> None:
    client = s3_sandbox.client()
    key = _seed(client, s3_bucket)[0]
    state_mod.save(tmp_path, state_mod.State(s3_sandbox.handle))
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "event", "s3", "--bucket", s3_bucket, "--key", key],
        cwd=ROOT,
        env={**_clean_env(), "SANDBOX_STATE_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    obj = json.loads(done.stdout)["Records"][0]["s3"]["object"]
    head = client.head_object(Bucket=s3_bucket, Key=key)
    assert obj["size"] == head["ContentLength"] == len(PDF)
    assert obj["eTag"] == head["ETag"].strip('"')
    assert obj["key"] == key.replace(" ", "+")


def test_repeat_shows_one_cold_and_then_warm_report_lines_with_target_env(
    s3_sandbox: Any, s3_bucket: str
) -> None:
    _seed(s3_sandbox.client(), s3_bucket)
    done = _run_invoke(
        [
            "--event",
            "sfn",
            "--bucket",
            s3_bucket,
            "--prefix",
            PREFIX,
            "--repeat",
            "3",
            "--target",
            "env",
        ],
        {**_clean_env(), **s3_sandbox.env()},
    )
    assert done.returncode == 0, done.stderr
    reports = [line for line in done.stdout.splitlines() if line.startswith("REPORT")]
    assert len(reports) == 3
    assert "Init Duration" in reports[0]
    assert all("Init Duration" not in r for r in reports[1:])
    assert done.stdout.count('"count": 3') == 3


def test_target_sandbox_with_no_recorded_sandbox_exits_2_and_says_how_to_start_one(
    tmp_path: Path,
) -> None:
    done = _run_invoke(
        ["--event", "direct", "--target", "sandbox", "--state-dir", str(tmp_path)], _clean_env()
    )
    assert done.returncode == 2
    assert "python -m sandbox up" in done.stderr


def test_a_handler_that_raises_exits_1() -> None:
    done = _run_invoke(
        ["--handler", "tests.unit.handlers.probes.boom", "--target", "none", "--json"],
        _clean_env(),
    )
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"]["errorType"] == "ValueError"


def test_an_oversized_event_exits_2_with_lambdas_error(tmp_path: Path) -> None:
    payload = tmp_path / "big.json"
    payload.write_text(json.dumps("A" * 1_100_000))
    done = _run_invoke(
        [
            "--handler",
            "tests.unit.handlers.noop.handler",
            "--target",
            "none",
            "--payload",
            str(payload),
            "--invocation-type",
            "Event",
        ],
        _clean_env(),
    )
    assert done.returncode == 2
    assert "RequestEntityTooLargeException" in done.stderr


def test_the_invoke_fixture_runs_the_function_in_process(
    s3_sandbox: Any,
    s3_bucket: str,
    lambda_invoke: Any,
    lambda_event: Any,
) -> None:
    _seed(s3_sandbox.client(), s3_bucket)
    event = lambda_event("apigw-v2", bucket=s3_bucket, prefix=PREFIX)
    inv = lambda_invoke(event, env=s3_sandbox.env(), fresh_modules=("s3_manifest",))
    assert inv.ok, inv.error
    assert inv.response["statusCode"] == 200
    assert json.loads(inv.response["body"])["count"] == 3
    assert inv.cold


@pytest.mark.parametrize("kind", ["apigw", "direct"])
def test_other_callers_get_the_same_count(
    s3_sandbox: Any,
    s3_bucket: str,
    lambda_invoke: Any,
    lambda_event: Any,
    kind: str,
) -> None:
    _seed(s3_sandbox.client(), s3_bucket)
    inv = lambda_invoke(lambda_event(kind, bucket=s3_bucket, prefix=PREFIX), env=s3_sandbox.env())
    assert inv.ok, inv.error
    body = inv.response if kind == "direct" else json.loads(inv.response["body"])
    assert body["count"] == 3
