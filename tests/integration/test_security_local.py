"""Security of the local endpoints, through the CLI as a user drives it: every server the
sandbox starts (S3, Toxiproxy, the shim) listens on 127.0.0.1 only; the state files are 0600;
the secret key appears in no log and in ``status`` only with ``--show-credentials``; the
seeder keeps the direct endpoint while the function goes through the faults; ``down`` stops
every process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox._procs import pid_state
from sandbox.backends import default_backends
from tests.integration.test_sandbox_backends import LOOPBACK, _listening_addresses

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "security-check"


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


def _backend() -> str:
    for b in default_backends():
        if b.name in ("minio", "seaweedfs") and b.probe().ok:
            return b.name
    pytest.skip("no local S3 backend")


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="needs Linux /proc")
def test_the_cli_sandbox_with_faults_stays_on_loopback_and_keeps_its_secret_out_of_logs(
    tmp_path: Path,
) -> None:
    sdir = tmp_path / ".sandbox"
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    base["SANDBOX_STATE_DIR"] = str(sdir)
    said: list[str] = []  # every CLI output that must not show the secret

    def cli(*args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        done = _run(["-m", "sandbox", *args], base)
        assert done.returncode == expect, done.stderr
        return done

    try:
        up = cli("up", "--backend", _backend())
        said += [up.stdout, up.stderr]
        state = json.loads((sdir / "state.json").read_text())
        secret = state["endpoint"]["secret_key"]
        added = cli("faults", "add", "slowdown")  # every request through the faults: 503
        said += [added.stdout, added.stderr]
        faults = json.loads((sdir / "faults.json").read_text())
        for name in ("state.json", "faults.json"):
            assert (sdir / name).stat().st_mode & 0o777 == 0o600, name

        # Every process the sandbox started listens on loopback only.
        pids = {
            "s3": state["pid"],
            "toxiproxy": faults["toxiproxy_pid"],
            "shim": faults["shim_pid"],
        }
        for what, pid in pids.items():
            addresses = _listening_addresses(pid)
            assert addresses and addresses <= LOOPBACK, f"{what}: {addresses}"

        # The shell env: the function through the faults, the seeder direct.
        exports = dict(
            line.removeprefix("export ").split("=", 1) for line in cli("env").stdout.splitlines()
        )
        assert exports["AWS_ENDPOINT_URL_S3"] == faults["url"]
        assert exports["SANDBOX_DIRECT_ENDPOINT_S3"] == state["endpoint"]["url"]
        shell = {**base, **exports}
        seeded = _run(["-m", "seed", "--count", "20", "--bucket", BUCKET, "--seed", "3"], shell)
        assert seeded.returncode == 0, seeded.stderr  # through the faults it would get 503s
        said += [seeded.stdout, seeded.stderr]

        throttled = _run(["invoke.py", "--bucket", BUCKET, "--prefix", "2026/04/"], base)
        assert throttled.returncode == 1 and "SlowDown" in throttled.stdout + throttled.stderr
        cli("faults", "clear")
        invoked = _run(["invoke.py", "--bucket", BUCKET, "--prefix", "2026/04/"], base)
        assert invoked.returncode == 0, invoked.stderr
        said += [throttled.stdout, throttled.stderr, invoked.stdout, invoked.stderr]

        status = cli("status")
        said += [status.stdout, status.stderr]
        assert "faults" in status.stdout and state["endpoint"]["access_key"] not in status.stdout
        assert secret in cli("status", "--show-credentials").stdout

        down = cli("down", "--purge")
        said += [down.stdout, down.stderr]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(
            pid_state(p, None) is None for p in pids.values()
        ):
            time.sleep(0.1)
        assert all(pid_state(p, None) is not None for p in pids.values()), "a process survived down"
        assert not (sdir / "faults.json").exists()

        logs = [p for p in sdir.rglob("*") if p.is_file()]
        assert any(p.name == "shim.log" for p in logs) and any(
            p.name == "toxiproxy.log" for p in logs
        )
        for path in logs:
            assert secret not in path.read_text(errors="replace"), f"the secret is in {path}"
        for text in said:
            assert secret not in text
    finally:
        _run(["-m", "sandbox", "down", "--purge"], base)
