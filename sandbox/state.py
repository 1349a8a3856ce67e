"""The state file: what a detached sandbox is, so ``status``/``env``/``down`` can find it later.

``<state dir>/state.json``, mode 0600 (it holds credentials). The directory is ``.sandbox/`` in
the current directory unless ``SANDBOX_STATE_DIR`` or an explicit argument says otherwise.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.backends._base import Endpoint, Handle, SandboxError

STATE_DIR_ENV = "SANDBOX_STATE_DIR"
DEFAULT_STATE_DIR = ".sandbox"
STATE_FILE = "state.json"
FORMAT_VERSION = 1


def default_state_dir() -> Path:
    """``$SANDBOX_STATE_DIR`` if set, else ``./.sandbox``."""
    return Path(os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR).absolute()


@dataclass
class State:
    """A sandbox as recorded on disk. ``running`` is false after ``down`` (data kept)."""

    handle: Handle
    running: bool = True
    created_at: float = 0.0
    #: The local Lambda service started beside the server (`sandbox.service.ServiceRecord`
    #: as plain data), if any.
    service: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        h = self.handle
        e = h.endpoint
        return {
            "version": FORMAT_VERSION,
            "running": self.running,
            "created_at": self.created_at or time.time(),
            "backend": h.backend,
            "endpoint": {
                "url": e.url,
                "access_key": e.access_key,
                "secret_key": e.secret_key,
                "session_token": e.session_token,
                "region": e.region,
            },
            "data_dir": str(h.data_dir) if h.data_dir else None,
            "log_path": str(h.log_path) if h.log_path else None,
            "pid": h.pid,
            "pid_start_time": h.pid_start_time,
            "container_id": h.container_id,
            "extra": h.extra,
            "service": self.service,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"state format {data.get('version')!r}, expected {FORMAT_VERSION}")
        e = data["endpoint"]
        endpoint = Endpoint(
            url=e["url"],
            access_key=e["access_key"],
            secret_key=e["secret_key"],
            region=e["region"],
            backend=data["backend"],
            session_token=e.get("session_token"),
        )
        handle = Handle(
            backend=data["backend"],
            endpoint=endpoint,
            data_dir=Path(data["data_dir"]) if data.get("data_dir") else None,
            log_path=Path(data["log_path"]) if data.get("log_path") else None,
            pid=data.get("pid"),
            pid_start_time=data.get("pid_start_time"),
            container_id=data.get("container_id"),
            extra=dict(data.get("extra") or {}),
        )
        return cls(
            handle,
            bool(data.get("running", True)),
            float(data.get("created_at", 0.0)),
            service=data.get("service"),
        )


def state_path(state_dir: Path) -> Path:
    return state_dir / STATE_FILE


def load(state_dir: Path) -> State | None:
    """The recorded state, or ``None`` when there is none. A corrupt file is an error."""
    path = state_path(state_dir)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        return State.from_json(json.loads(text))
    except (ValueError, KeyError, TypeError) as e:
        raise SandboxError(
            f"the state file {path} is unreadable ({e}); stop any server it describes by hand, "
            f"then delete it"
        ) from e


def save(state_dir: Path, state: State) -> Path:
    """Write the state atomically with mode 0600 (the directory 0700); return its path."""
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(0o700)
    path = state_path(state_dir)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(state.to_json(), f, indent=2)
    os.chmod(tmp, 0o600)  # O_CREAT's mode does not apply to a file that already existed
    os.replace(tmp, path)
    return path


def clear(state_dir: Path) -> None:
    """Forget the recorded sandbox."""
    state_path(state_dir).unlink(missing_ok=True)


# -- parts: what other components add to a sandbox (the fault layer, ...) ----------------------
# Each is its own ``<state dir>/<name>.json`` (0600), so components never rewrite each other's
# records; ``down`` stops them before the S3 server.


def part_path(state_dir: Path, name: str) -> Path:
    return state_dir / f"{name}.json"


def save_part(state_dir: Path, name: str, data: dict[str, Any]) -> Path:
    """Record a component of the sandbox atomically, mode 0600."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = part_path(state_dir, name)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def load_part(state_dir: Path, name: str) -> dict[str, Any] | None:
    """A recorded component, or ``None``. A corrupt record is an error."""
    path = part_path(state_dir, name)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError as e:
        raise SandboxError(
            f"{path} is unreadable ({e}); stop what it describes, then delete it"
        ) from e
    if not isinstance(data, dict):
        raise SandboxError(f"{path} holds {type(data).__name__}, expected an object; delete it")
    return data


def clear_part(state_dir: Path, name: str) -> None:
    part_path(state_dir, name).unlink(missing_ok=True)
