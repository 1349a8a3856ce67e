"""What every S3 backend provides: the endpoint it serves, a handle on what it started, errors."""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

#: Callback used to tell the user what is happening (progress, choices). Defaults to no-op.
Reporter = Callable[[str], None]


def quiet(_message: str) -> None:
    """A Reporter that says nothing."""


class SandboxError(Exception):
    """Base class for every error the sandbox raises on purpose."""


class BackendUnavailable(SandboxError):
    """The backend cannot run on this machine (no engine, no binary, ...)."""


class StartupError(SandboxError):
    """The server was started but did not become usable."""


@dataclass(frozen=True)
class Endpoint:
    """Where an S3 server answers and how to sign requests for it."""

    url: str
    access_key: str
    secret_key: str = field(repr=False)
    region: str
    backend: str
    session_token: str | None = field(default=None, repr=False)

    def env(self) -> dict[str, str]:
        """Environment variables that point AWS SDKs and the CLI at this endpoint."""
        env = {
            "AWS_ENDPOINT_URL_S3": self.url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env


@dataclass(frozen=True)
class Availability:
    """Whether a backend can start here, and why (or why not)."""

    ok: bool
    reason: str


@dataclass
class Handle:
    """Everything needed to find, check and stop a started server later, maybe from another process.

    Serialised into the state file, so it holds plain data only.
    """

    backend: str
    endpoint: Endpoint
    data_dir: Path | None = None
    log_path: Path | None = None
    pid: int | None = None
    pid_start_time: int | None = None
    container_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: In-process objects (a Popen, a docker Container) for the process that started the server.
    #: Never saved; a handle loaded from the state file has ``None`` here.
    live: Any = field(default=None, repr=False, compare=False)

    @property
    def data_location(self) -> str | None:
        """Where the server's data is, for messages: the data dir or the (docker) volume."""
        if self.data_dir is not None:
            return str(self.data_dir)
        volume = self.extra.get("volume")
        return f"volume {volume}" if volume else None


class Backend(abc.ABC):
    """One way of getting an S3 server. Subclasses are small and stateless between calls."""

    name: ClassVar[str]

    @abc.abstractmethod
    def probe(self) -> Availability:
        """Say, quickly and without side effects, whether ``start`` can work here."""

    @abc.abstractmethod
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
        """Start a server (data and logs under ``workdir``), wait until it serves; return a handle.

        ``detached`` servers outlive this Python process (the CLI's ``up``); others die with it.
        ``reuse`` is a previously stopped handle whose data and credentials should be kept.
        A failed start stops whatever it began before raising.
        """

    @abc.abstractmethod
    def alive(self, handle: Handle) -> str | None:
        """``None`` when the process or container still exists, else what was found instead."""

    @abc.abstractmethod
    def stop(self, handle: Handle, *, keep_data: bool = False) -> None:
        """Stop what ``start`` began. Safe to call twice or on something already gone."""
