"""Starting, finding, asking and stopping a service process from outside it.

`start_service` writes the config (0600), spawns ``python -m sandbox.service`` with its output
in ``<run dir>/service.log`` and waits until ``GET /_sandbox/status`` answers. A service that
is not ``detached`` dies with the Python process that started it (``PR_SET_PDEATHSIG``, as the
S3 servers do); a detached one (``python -m sandbox up``) is recorded in the state file as a
`ServiceRecord` and stopped by ``down`` with `stop_recorded`. Stopping the service stops its
workers: it ends them itself on SIGTERM, and the kernel kills any left if it is SIGKILLed.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from sandbox import _procs
from sandbox.backends._base import Reporter, SandboxError, quiet
from sandbox.service.config import ServiceConfig

__all__ = ["RunningService", "ServiceRecord", "fetch_status", "start_service", "stop_recorded"]

STOP_GRACE_S = 10.0


@dataclass(frozen=True)
class ServiceRecord:
    """A running service as the state file keeps it (plain data)."""

    pid: int
    pid_start_time: int | None
    url: str
    api_url: str
    port: int
    api_port: int
    run_dir: str
    config_path: str
    log_path: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceRecord:
        return cls(**data)

    def alive(self) -> str | None:
        """``None`` when the recorded process still runs, else what was found."""
        return _procs.pid_state(self.pid, self.pid_start_time)


def fetch_status(url: str, timeout: float = 3.0) -> dict[str, Any]:
    """``GET /_sandbox/status`` of the service at ``url``; OSError when it does not answer."""
    with urllib.request.urlopen(f"{url}/_sandbox/status", timeout=timeout) as response:
        data: dict[str, Any] = json.loads(response.read())
    return data


def _status_problem(url: str) -> str | None:
    try:
        fetch_status(url, timeout=2.0)
    except (urllib.error.URLError, OSError, ValueError) as e:
        return f"GET /_sandbox/status: {getattr(e, 'reason', e)}"
    return None


class RunningService:
    """A started service. As a context manager it is stopped on exit."""

    def __init__(
        self, config: ServiceConfig, process: _procs.Process, record: ServiceRecord
    ) -> None:
        self.config = config
        self.process = process
        self.record = record

    @property
    def url(self) -> str:
        return self.config.url

    @property
    def api_url(self) -> str:
        return self.config.api_url

    @property
    def pid(self) -> int:
        return self.process.pid

    def status(self) -> dict[str, Any]:
        return fetch_status(self.url)

    def env(self) -> dict[str, str]:
        """``AWS_ENDPOINT_URL_LAMBDA``, for boto3 and the AWS CLI."""
        return {"AWS_ENDPOINT_URL_LAMBDA": self.url}

    def stop(self) -> str:
        """SIGTERM, then SIGKILL after a grace period; say what happened. Idempotent."""
        return _procs.terminate(
            self.process.pid,
            start_time=self.process.start_time,
            grace=STOP_GRACE_S,
            popen=self.process.popen,
        )

    def __enter__(self) -> RunningService:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_service(
    config: ServiceConfig,
    *,
    detached: bool = False,
    timeout: float = 60.0,
    report: Reporter = quiet,
) -> RunningService:
    """Spawn the service for ``config`` and wait until it answers; stop it if it does not."""
    run_dir = Path(config.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    run_dir.chmod(0o700)
    config_path = config.save(run_dir / "service.json")
    log_path = run_dir / "service.log"
    report(f"starting the Lambda service on {config.url} (API {config.api_url}), log {log_path}")
    process = _procs.spawn(
        [sys.executable, "-m", "sandbox.service", "--config", str(config_path)],
        log_path=log_path,
        detached=detached,
        cwd=Path(config.project).parent
        if config.project and Path(config.project).is_file()
        else None,
    )
    try:
        _procs.wait_until(
            lambda: _status_problem(config.url),
            what=f"the Lambda service to answer on {config.url}",
            timeout=timeout,
            process=process,
            log_path=log_path,
        )
    except BaseException:
        _procs.terminate(process.pid, start_time=process.start_time, popen=process.popen)
        raise
    record = ServiceRecord(
        pid=process.pid,
        pid_start_time=process.start_time,
        url=config.url,
        api_url=config.api_url,
        port=config.port,
        api_port=config.api_port,
        run_dir=str(run_dir),
        config_path=str(config_path),
        log_path=str(log_path),
    )
    if detached:
        process.detach()
    return RunningService(config, process, record)


def stop_recorded(record: ServiceRecord) -> str:
    """Stop a recorded (detached) service and, through it, its workers."""
    outcome = _procs.terminate(record.pid, start_time=record.pid_start_time, grace=STOP_GRACE_S)
    if outcome.startswith("process") and "survived" in outcome:
        raise SandboxError(f"the Lambda service (pid {record.pid}) {outcome}")
    return outcome
