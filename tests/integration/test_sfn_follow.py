"""``python invoke.py --event sfn --follow``: the state machine's loop, round by round."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sandbox import state as state_mod
from tests.integration.test_function import manifest_lines, put
from tests.integration.test_invoke_e2e import _clean_env, _run_invoke

PREFIX = "2026/04/"


def test_follow_drives_the_asl_loop_to_done_with_a_report_per_round(
    s3_sandbox: Any, s3_bucket: str, tmp_path: Path
) -> None:
    client = s3_sandbox.client()
    keys = [f"{PREFIX}r{i:03d}.pdf" for i in range(120)]
    put(client, s3_bucket, [*keys, f"{PREFIX}notes.txt"])
    state_mod.save(tmp_path, state_mod.State(s3_sandbox.handle))
    args = ["--event", "sfn", "--bucket", s3_bucket, "--prefix", PREFIX, "--follow"]
    args += ["--state-dir", str(tmp_path), "--timeout", "60"]
    args += ["--handler", "tests.integration.handlers.paged_deadline.handler"]
    args += ["--env", "PAGE_SIZE=10", "--env", "ROUND_PAGES=4"]  # 13 pages, 4 a round

    done = _run_invoke(args, _clean_env())

    assert done.returncode == 0, done.stderr + done.stdout
    lines = done.stdout.splitlines()
    reports = [line for line in lines if line.startswith("REPORT RequestId:")]
    assert len(reports) == 4 and "Init Duration" in reports[0]
    assert any(line.startswith("EXECUTION SUCCEEDED\tRounds: 4\tCount: 120") for line in lines)
    output = json.loads(done.stdout[done.stdout.rindex("\n{") :])
    assert output["done"] is True and output["count"] == 120 and output["parts"] == 4
    index = json.loads(client.get_object(Bucket=s3_bucket, Key=output["index_key"])["Body"].read())
    got = [line["key"] for key in index["parts"] for line in manifest_lines(client, s3_bucket, key)]
    assert got == keys


def test_follow_ends_failed_through_the_catch_when_no_round_can_make_progress(
    s3_sandbox: Any, s3_bucket: str, tmp_path: Path
) -> None:
    put(s3_sandbox.client(), s3_bucket, [f"{PREFIX}a.pdf"])
    state_mod.save(tmp_path, state_mod.State(s3_sandbox.handle))
    args = ["--event", "sfn", "--bucket", s3_bucket, "--prefix", PREFIX, "--follow"]
    args += ["--state-dir", str(tmp_path), "--timeout", "1", "--json"]

    done = _run_invoke(args, _clean_env())

    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert (result["status"], result["rounds"], result["error"]) == ("FAILED", 1, "RunAborted")
    assert "REPORT RequestId:" in done.stderr and "EXECUTION FAILED" in done.stderr
