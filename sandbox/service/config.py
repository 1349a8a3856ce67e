"""How one service runs: where it listens, which project, limits, and what functions see.

Written by whoever starts the service (``python -m sandbox up``, a test, a benchmark) to a
JSON file (mode 0600: it carries the S3 credentials the functions get and the webhook token)
and read by ``python -m sandbox.service --config FILE``. Secrets never go on a command line,
where any user of the machine could read them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sandbox.service.asyncq import DEFAULT_RETRY_DELAYS

__all__ = ["HOST", "ServiceConfig"]

#: Every listener binds here and nowhere else.
HOST = "127.0.0.1"


@dataclass(frozen=True)
class ServiceConfig:
    """One local Lambda service."""

    port: int
    api_port: int
    run_dir: str  # logs/, envs/, async-failures.jsonl, service.log
    project: str | None = None  # pyproject.toml (or its folder); None: the nearest to the cwd
    function_env: Mapping[str, str] = field(default_factory=dict)  # S3 endpoint + credentials
    region: str = "us-east-1"
    webhook_token: str | None = None  # MinIO's bearer token; None: the webhook route is off
    default_bucket: str = "my-company-reports-bucket"  # for triggers that name no bucket
    idle_timeout: float = 300.0
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    max_environments: int = 16
    async_concurrency: int = 4
    api_function: str | None = None  # the function behind the API port (default: see app)
    # The sandbox's credentials: the Invoke API verifies SigV4 signatures against them
    # (``auth``). None: no verification (a service started without a sandbox, e.g. a bench).
    access_key: str | None = None
    secret_key: str | None = None
    # The sandbox's state dir: while a fault layer is recorded there (`python -m sandbox
    # faults ...`), new execution environments get its endpoint as AWS_ENDPOINT_URL_S3, as
    # invoke.py does. None: always function_env's endpoint.
    faults_state_dir: str | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.api_port}"

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(asdict(self), f, indent=2)
        os.chmod(path, 0o600)
        return path

    @classmethod
    def load(cls, path: Path) -> ServiceConfig:
        data: dict[str, Any] = json.loads(path.read_text())
        data["retry_delays"] = tuple(data.get("retry_delays", DEFAULT_RETRY_DELAYS))
        data["function_env"] = dict(data.get("function_env") or {})
        return cls(**data)
