"""Stale-state detection: dead or reused pids, and ``up`` replacing what is gone."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox import Endpoint, Sandbox, SandboxError
from sandbox._procs import pid_state, process_start_time
from sandbox.backends import Availability, Backend, Handle, Reporter, quiet
from sandbox.state import State, load, save

NO_SUCH_PID = 2**31 - 1  # above any pid_max, so never a live process


@dataclass
class RecordingBackend(Backend):
    """A backend without a server: it records what the sandbox asked of it."""

    name: str  # type: ignore[misc]
    gone: str | None = None
    calls: list[str] = field(default_factory=list)
    reused: list[Handle | None] = field(default_factory=list)

    def probe(self) -> Availability:
        return Availability(True, "fake")

    def start(
        self,
        workdir: Path,
        *,
        region: str,
        timeout: float,
        report: Reporter = quiet,
        detached: bool = False,
        reuse: Handle | None = None,
    ) -> Handle:
        self.calls.append("start")
        self.reused.append(reuse)
        endpoint = Endpoint("http://127.0.0.1:1", "NEW", "new-secret", region, self.name)
        return Handle(backend=self.name, endpoint=endpoint, data_dir=workdir / "data", pid=1)

    def alive(self, handle: Handle) -> str | None:
        return self.gone

    def stop(self, handle: Handle, *, keep_data: bool = False) -> None:
        self.calls.append(f"stop(keep_data={keep_data})")


def _record(state_dir: Path, backend: str, *, running: bool = True) -> Handle:
    endpoint = Endpoint("http://127.0.0.1:2", "OLD", "old-secret", "us-east-1", backend)
    handle = Handle(backend=backend, endpoint=endpoint, data_dir=state_dir / "data", pid=42)
    save(state_dir, State(handle, running=running))
    return handle


def test_our_own_process_is_alive() -> None:
    pid = os.getpid()
    assert pid_state(pid, process_start_time(pid)) is None


def test_a_pid_that_does_not_exist_is_reported_gone() -> None:
    assert pid_state(NO_SUCH_PID, None) == f"process {NO_SUCH_PID} is gone"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_pid_reused_by_another_process_is_not_mistaken_for_the_server() -> None:
    pid = os.getpid()
    start = process_start_time(pid)
    assert start is not None
    assert "pid reused" in (pid_state(pid, start + 1) or "")


def test_up_replaces_a_sandbox_whose_process_is_gone_and_keeps_its_data(tmp_path: Path) -> None:
    old = _record(tmp_path, "seaweedfs")
    backend = RecordingBackend("seaweedfs", gone="process 42 is gone")
    messages: list[str] = []
    sandbox = Sandbox.up("auto", state_dir=tmp_path, backends=[backend], report=messages.append)
    assert backend.calls == ["stop(keep_data=True)", "start"]
    assert backend.reused == [old]
    assert any("stale sandbox state (process 42 is gone)" in m for m in messages)
    recorded = load(tmp_path)
    assert recorded is not None and recorded.running
    assert recorded.handle.endpoint == sandbox.endpoint


def test_up_after_down_keep_data_restarts_with_the_kept_data(tmp_path: Path) -> None:
    old = _record(tmp_path, "seaweedfs", running=False)
    backend = RecordingBackend("seaweedfs")
    Sandbox.up("seaweedfs", state_dir=tmp_path, backends=[backend])
    assert backend.calls == ["start"]
    assert backend.reused == [old]


def test_up_with_another_backend_refuses_and_keeps_the_data_of_the_previous_one(
    tmp_path: Path,
) -> None:
    _record(tmp_path, "minio", running=False)
    minio, seaweedfs = RecordingBackend("minio"), RecordingBackend("seaweedfs")
    with pytest.raises(SandboxError) as caught:
        Sandbox.up("seaweedfs", state_dir=tmp_path, backends=[minio, seaweedfs])
    message = str(caught.value)
    assert "kept from an earlier minio sandbox" in message
    assert "up --backend minio" in message and "down --purge" in message
    assert minio.calls == [] and seaweedfs.calls == []
    recorded = load(tmp_path)
    assert recorded is not None and recorded.handle.backend == "minio"


def test_up_auto_with_kept_data_restarts_the_backend_that_kept_it(tmp_path: Path) -> None:
    old = _record(tmp_path, "seaweedfs", running=False)
    minio, seaweedfs = RecordingBackend("minio"), RecordingBackend("seaweedfs")
    Sandbox.up("auto", state_dir=tmp_path, backends=[minio, seaweedfs])  # minio comes first
    assert minio.calls == [] and seaweedfs.reused == [old]


def test_down_with_keep_data_records_a_stopped_sandbox(tmp_path: Path) -> None:
    backend = RecordingBackend("seaweedfs")
    sandbox = Sandbox.up("seaweedfs", state_dir=tmp_path, backends=[backend])
    sandbox.stop(keep_data=True)
    recorded = load(tmp_path)
    assert recorded is not None and recorded.running is False
    sandbox.stop()  # idempotent: nothing happens the second time
    assert backend.calls == ["start", "stop(keep_data=True)"]
