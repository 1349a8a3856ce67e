"""``python -m sandbox up`` with the service, as a user runs it: the AWS CLI with nothing but
``eval "$(python -m sandbox env)"``, ``status``, ``logs``, and ``down`` leaving nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.service.conftest import wait_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
AWS = Path(sys.executable).parent / "aws"


def _sandbox(
    *args: str, state: Path, cwd: Path = REPO, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["SANDBOX_STATE_DIR"] = str(state)
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"sandbox {args} exited {done.returncode}: {done.stderr}")
    return done


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2] == "Z"


def _up_minio_or_skip(tmp_path: Path) -> Path:
    """``up --backend minio`` (with the service) in a fresh state dir; skip without MinIO."""
    state = tmp_path / "state"
    try:
        _sandbox("up", "--backend", "minio", state=state)
    except AssertionError as e:
        if "unavailable" in str(e).lower():
            pytest.skip(str(e))
        raise
    return state


@pytest.mark.slow
def test_up_serves_the_aws_cli_and_down_leaves_no_process(tmp_path: Path) -> None:
    if not AWS.exists():
        pytest.skip("the AWS CLI is not installed in this venv (pip install -e '.[dev]')")
    state = _up_minio_or_skip(tmp_path)
    pids: list[int] = []
    try:
        script = f"""
set -e
eval "$({sys.executable} -m sandbox env)"
{AWS} s3 cp - s3://my-company-reports-bucket/2026/04/cli.pdf <<< '%PDF-1.4'
{AWS} lambda invoke --function-name lambda-local-runner \
  --payload '{{"bucket": "my-company-reports-bucket", "prefix": "2026/04/"}}' \
  {tmp_path}/out.json
"""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["SANDBOX_STATE_DIR"] = str(state)
        env["HOME"] = str(tmp_path)  # no ~/.aws config of the machine's
        done = subprocess.run(
            ["bash", "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["StatusCode"] == 200
        assert json.loads((tmp_path / "out.json").read_text())["count"] >= 1

        status = json.loads(_sandbox("status", "--json", state=state).stdout)
        service = status["lambda"]
        assert service["url"].startswith("http://127.0.0.1:")
        assert service["totals"]["invocations"] >= 1
        text = _sandbox("status", state=state).stdout
        assert "lambda_url" in text and "api_url" in text and "async_queue" in text
        pids = [service["pid"], *(p for f in service["functions"].values() for p in f["pids"])]
        assert len(pids) >= 2
        # The upload above triggered the function too (MinIO -> webhook -> Event).
        wait_for(
            lambda: (
                json.loads(_sandbox("status", "--json", state=state).stdout)["lambda"]["totals"][
                    "invocations"
                ]
                >= 2
            ),
            timeout=30,
            what="the S3-triggered invocation",
        )
        logs = _sandbox("logs", "lambda-local-runner", state=state).stdout
        assert logs.count("START RequestId") >= 2 and "REPORT RequestId" in logs
        pids = [
            service["pid"],
            *(
                p
                for f in json.loads(_sandbox("status", "--json", state=state).stdout)["lambda"][
                    "functions"
                ].values()
                for p in f["pids"]
            ),
        ]
    finally:
        _sandbox("down", "--purge", state=state, check=False)
    for pid in pids:
        wait_for(lambda pid=pid: _gone(pid), timeout=15, what=f"process {pid} to end")
    leftover = sorted(p.name for p in state.iterdir()) if state.exists() else []
    assert leftover == [] or all(name.endswith(".log") for name in leftover), leftover


def test_up_with_a_malformed_config_says_where_and_starts_nothing(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.lambda_local_runner.functions.f]\nhandler = "app.handler"\nmemory = "lots"\n'
    )
    state = tmp_path / "state"
    done = _sandbox("up", "--backend", "seaweedfs", state=state, cwd=project, check=False)
    assert done.returncode == 2
    assert "pyproject.toml" in done.stderr and "functions.f.memory" in done.stderr
    assert "expected int" in done.stderr
    assert not (state / "state.json").exists()


def test_logs_without_a_name_in_a_many_function_project_asks_for_one(tmp_path: Path) -> None:
    project = Path(__file__).parent / "project"
    done = _sandbox("logs", state=tmp_path / "state", cwd=project, check=False)
    assert done.returncode == 2
    assert "name the function" in done.stderr and "echo" in done.stderr


@pytest.mark.slow
def test_functions_behind_the_service_go_through_the_fault_layer_switched_on_after_up(
    tmp_path: Path,
) -> None:
    """``up``, a warm invocation, then ``faults add slowdown``: boto3's ``lambda.invoke`` now
    gets the function's SlowDown failure (the warm environment from before is retired, as after
    a configuration update); ``faults clear`` lets it through; ``faults off`` goes direct."""
    import boto3
    from botocore.config import Config

    state = _up_minio_or_skip(tmp_path)
    try:
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in _sandbox("env", state=state).stdout.splitlines()
        )
        creds = {
            "aws_access_key_id": exports["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": exports["AWS_SECRET_ACCESS_KEY"],
            "region_name": exports["AWS_REGION"],
        }
        s3 = boto3.client("s3", endpoint_url=exports["AWS_ENDPOINT_URL_S3"], **creds)
        s3.put_object(Bucket="my-company-reports-bucket", Key="2026/05/a.pdf", Body=b"%PDF-1.4")
        lam = boto3.client(
            "lambda",
            endpoint_url=exports["AWS_ENDPOINT_URL_LAMBDA"],
            config=Config(retries={"max_attempts": 1}, read_timeout=120),
            **creds,
        )
        event = json.dumps({"bucket": "my-company-reports-bucket", "prefix": "2026/05/"})

        def invoke() -> dict[str, Any]:
            out = lam.invoke(FunctionName="lambda-local-runner", Payload=event.encode())
            return {"error": out.get("FunctionError"), "body": json.loads(out["Payload"].read())}

        assert invoke() == {"error": None, "body": ANY_MANIFEST}  # warm, direct
        _sandbox("faults", "add", "slowdown", state=state)  # every S3 request: 503 SlowDown
        failed = invoke()
        assert failed["error"] == "Unhandled" and "SlowDown" in json.dumps(failed["body"])
        _sandbox("faults", "clear", state=state)
        assert invoke()["error"] is None  # through the layer, no fault on
        _sandbox("faults", "off", state=state)
        assert invoke()["error"] is None  # direct again
    finally:
        _sandbox("down", "--purge", state=state, check=False)


class _AnyManifest:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, dict) and other.get("count") == 1 and "manifest_key" in other


ANY_MANIFEST = _AnyManifest()
