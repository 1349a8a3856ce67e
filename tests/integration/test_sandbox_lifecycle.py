"""Starting and stopping for real: the Python API, failed starts, signals, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sandbox import Sandbox, StartupError
from sandbox._procs import pid_state
from sandbox.backends import default_backends

LOCAL_BACKENDS = [b.name for b in default_backends() if b.name in ("minio", "seaweedfs")]


def _require(name: str) -> None:
    backend = {b.name: b for b in default_backends()}[name]
    availability = backend.probe()
    if not availability.ok:
        pytest.skip(f"{name} unavailable: {availability.reason}")


def _wait_gone(pid: int, timeout: float = 20.0) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (state := pid_state(pid, None)) is not None:
            return state
        time.sleep(0.1)
    return None


@pytest.mark.parametrize("backend", LOCAL_BACKENDS)
def test_leaving_the_with_block_stops_the_server_and_removes_its_files(backend: str) -> None:
    _require(backend)
    with Sandbox.start(backend) as sb:
        pid = sb.handle.pid
        workdir = sb.workdir
        assert pid is not None and pid_state(pid, None) is None
        assert sb.healthy()
    assert pid_state(pid, None) is not None
    assert not workdir.exists()


def test_a_start_that_times_out_kills_the_server_and_keeps_only_its_log() -> None:
    _require("seaweedfs")
    with pytest.raises(StartupError) as info:
        Sandbox.start("seaweedfs", timeout=0.01)
    message = str(info.value)
    assert "waiting for a signed ListBuckets" in message
    log_path = Path(message.split("log ", 1)[1].split(":\n", 1)[0])
    try:
        assert log_path.name == "seaweedfs.log"
        assert sorted(p.name for p in log_path.parent.iterdir()) == ["seaweedfs.log"]
        command = log_path.read_text().splitlines()[0]
        assert "weed server" in command
        port = command.split("-master.port=")[1].split()[0]
        still_running = subprocess.run(["pgrep", "-f", f"master.port={port} "], check=False)
        assert still_running.returncode == 1
    finally:
        shutil.rmtree(log_path.parent, ignore_errors=True)


_HOLDER = textwrap.dedent(
    """
    import sys, time
    from sandbox import Sandbox
    with Sandbox.start(sys.argv[1]) as sb:
        print(sb.handle.pid, sb.workdir, flush=True)
        time.sleep(120)
    """
)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_a_python_process_that_is_terminated_or_killed_leaves_no_orphan_server(
    how: str, tmp_path: Path
) -> None:
    backend = "minio" if "minio" in LOCAL_BACKENDS else "seaweedfs"
    _require(backend)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, backend], stdout=subprocess.PIPE, text=True
    )
    workdir: Path | None = None
    try:
        assert holder.stdout is not None
        pid_text, workdir_text = holder.stdout.readline().split()
        server_pid, workdir = int(pid_text), Path(workdir_text)
        holder.send_signal(getattr(signal, how))
        holder.wait(timeout=30)
        assert _wait_gone(server_pid) is not None, f"server {server_pid} survived its {how}ed owner"
        if how == "SIGTERM":  # the owner could clean up; after SIGKILL only the kernel acts
            assert not workdir.exists()
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def _cli(state_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SANDBOX_STATE_DIR=str(state_dir))
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.mark.slow  # SeaweedFS needs ~15 s to stop cleanly when its data is kept
@pytest.mark.parametrize("backend", LOCAL_BACKENDS)
def test_the_cli_lifecycle_reuses_detects_stale_state_and_keeps_data(
    backend: str, tmp_path: Path
) -> None:
    _require(backend)
    state_dir = tmp_path / ".sandbox"
    try:
        first = json.loads(_cli(state_dir, "up", "--backend", backend, "--json").stdout)
        assert (state_dir / "state.json").stat().st_mode & 0o777 == 0o600

        again = _cli(state_dir, "up", "--backend", backend)
        assert "reusing the running" in again.stderr
        assert first["endpoint"] in again.stdout

        status = _cli(state_dir, "status")
        assert "healthy       True" in status.stdout
        recorded = json.loads((state_dir / "state.json").read_text())
        assert recorded["endpoint"]["secret_key"] not in status.stdout
        assert (
            recorded["endpoint"]["secret_key"]
            in _cli(state_dir, "status", "--show-credentials").stdout
        )

        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in _cli(state_dir, "env").stdout.splitlines()
        )
        assert exports["AWS_ENDPOINT_URL_S3"] == first["endpoint"]

        sb = Sandbox.attach(state_dir)
        assert sb is not None
        sb.client().create_bucket(Bucket="kept-bucket")
        sb.client().put_object(Bucket="kept-bucket", Key="k", Body=b"kept")

        down = _cli(state_dir, "down")  # keeps data and credentials, as docker compose does
        assert "data kept" in down.stdout and "--purge" in down.stdout
        stopped = _cli(state_dir, "status", check=False)
        assert stopped.returncode == 1 and "stopped, data kept" in stopped.stdout
        assert (state_dir / "state.json").stat().st_mode & 0o777 == 0o600
        data_dir = Path(json.loads((state_dir / "state.json").read_text())["data_dir"])
        assert data_dir.is_dir()

        restarted = _cli(state_dir, "up", "--backend", backend)
        assert "reusing data kept" in restarted.stderr
        sb = Sandbox.attach(state_dir)
        assert sb is not None
        assert sb.client().get_object(Bucket="kept-bucket", Key="k")["Body"].read() == b"kept"

        assert sb.handle.pid is not None
        os.kill(sb.handle.pid, signal.SIGKILL)
        _wait_gone(sb.handle.pid)
        dead = _cli(state_dir, "status", check=False)
        assert dead.returncode == 1 and "problem" in dead.stdout
        revived = _cli(state_dir, "up", "--backend", backend)
        assert "stale sandbox state" in revived.stderr
    finally:
        purged = _cli(state_dir, "down", "--purge", check=False)
    assert purged.returncode == 0, purged.stderr
    assert "data removed" in purged.stdout
    assert not (state_dir / "state.json").exists()
    assert not data_dir.exists()


def test_down_keeps_the_data_for_the_next_up_and_purge_removes_everything(tmp_path: Path) -> None:
    """``down`` stops the server and keeps data and credentials (as ``docker compose down``
    keeps volumes); ``up`` serves the same objects again; ``down --purge`` leaves nothing."""
    _require("minio")
    state_dir = tmp_path / ".sandbox"
    refused = _cli(state_dir, "down", "--keep-data", "--purge", check=False)
    assert refused.returncode == 2 and "not allowed with" in refused.stderr
    data_dir: Path | None = None
    try:
        _cli(state_dir, "up", "--backend", "minio", "--no-service")
        sb = Sandbox.attach(state_dir)
        assert sb is not None and sb.handle.pid is not None and sb.handle.data_dir is not None
        pid, data_dir = sb.handle.pid, sb.handle.data_dir
        sb.client().create_bucket(Bucket="kept")
        sb.client().put_object(Bucket="kept", Key="k", Body=b"still here")
        secret = sb.endpoint.secret_key

        down = _cli(state_dir, "down")
        assert f"data kept in {data_dir}" in down.stdout, down.stdout
        assert _wait_gone(pid) is not None, "down left the server running"
        assert data_dir.is_dir()
        assert (state_dir / "state.json").stat().st_mode & 0o777 == 0o600
        assert secret not in down.stdout + down.stderr

        _cli(state_dir, "up", "--backend", "minio", "--no-service")
        sb = Sandbox.attach(state_dir)
        assert sb is not None and sb.endpoint.secret_key == secret
        body = sb.client().get_object(Bucket="kept", Key="k")["Body"].read()
        assert body == b"still here"
        assert sb.handle.pid is not None
        pid = sb.handle.pid
    finally:
        purged = _cli(state_dir, "down", "--purge", check=False)
    assert purged.returncode == 0, purged.stderr
    assert "data removed" in purged.stdout
    assert _wait_gone(pid) is not None
    assert not (state_dir / "state.json").exists()
    assert data_dir is not None and not data_dir.exists()
    again = _cli(state_dir, "down", "--purge")
    assert "nothing to stop" in again.stderr
