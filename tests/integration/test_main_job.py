"""`python -m sandbox run`, the main job behind `make sandbox`, end to end in subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def sandbox_cli(
    *args: str, state_dir: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SANDBOX_STATE_DIR": str(state_dir)}
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_main_job_seeds_invokes_checks_and_leaves_the_sandbox_running(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    try:
        done = sandbox_cli("run", "--backend", "seaweedfs", "--count", "60", state_dir=state_dir)
        assert done.returncode == 0, done.stdout + done.stderr
        out = done.stdout
        assert "S3 backend: seaweedfs" in out
        assert "REPORT RequestId:" in out and "Init Duration:" in out
        assert "count 60 == ground truth 60" in out
        assert "a 2-page PDF" in out or "-page PDF" in out
        assert "All checks passed" in out

        status = sandbox_cli("status", state_dir=state_dir)
        assert status.returncode == 0, status.stderr

        again = sandbox_cli("run", "--backend", "seaweedfs", "--count", "60", state_dir=state_dir)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "reusing the running seaweedfs sandbox" in again.stdout + again.stderr
        assert "0 uploaded" in again.stdout
    finally:
        down = sandbox_cli("down", "--purge", state_dir=state_dir)
    assert down.returncode == 0, down.stderr


def test_main_job_refuses_a_count_below_one(tmp_path: Path) -> None:
    done = sandbox_cli("run", "--count", "0", state_dir=tmp_path / "state")
    assert done.returncode == 2
    assert "--count must be at least 1" in done.stderr
