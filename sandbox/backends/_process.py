"""What the backends that run one local server process share: the launch sequence and teardown.

A subclass says only what is specific to its server: where the binary is (`_server_binary`),
how to run it (`_launch`: argv, env, files beside it, the readiness check), how to stop it
(`_stop_process`) and what to tidy afterwards (`_remove_launch_files`). Spawning, logging and
pid bookkeeping are in :mod:`sandbox._procs`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from sandbox import _procs
from sandbox.backends._base import Backend, Endpoint, Handle, Reporter, quiet


@dataclass
class Launch:
    """One server process to start, as a backend describes it before it is spawned."""

    argv: list[str]
    endpoint: Endpoint
    log_path: Path
    #: ``None`` once the server at the endpoint serves, else what was seen; polled until ready.
    ready: Callable[[Endpoint], str | None]
    #: What ``ready`` waits for, in words, for the error raised on a timeout or early exit.
    waiting_for: str
    env: dict[str, str] | None = None
    #: Backend-specific facts kept in the handle (and the state file) for ``stop`` to use.
    extra: dict[str, Any] = field(default_factory=dict)


class ProcessBackend(Backend):
    """A backend whose server is one local process, started from a binary on this machine."""

    #: How the server is named to the user ("starting MinIO (...) on ...").
    label: ClassVar[str]

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
        binary = self._server_binary(report)
        if reuse is not None and reuse.data_dir is not None:
            data_dir = reuse.data_dir
            access, secret = reuse.endpoint.access_key, reuse.endpoint.secret_key
        else:
            data_dir = workdir / "data" / self.name
            access, secret = _procs.random_credentials()
        data_dir.mkdir(parents=True, exist_ok=True)
        launch = self._launch(
            binary,
            workdir,
            data_dir=data_dir,
            access_key=access,
            secret_key=secret,
            region=region,
        )
        endpoint, log_path = launch.endpoint, launch.log_path
        where = urlsplit(endpoint.url).netloc
        report(f"starting {self.label} ({binary}) on {where}, log {log_path}")
        process = _procs.spawn(launch.argv, log_path=log_path, env=launch.env, detached=detached)
        handle = Handle(
            backend=self.name,
            endpoint=endpoint,
            data_dir=data_dir,
            log_path=log_path,
            pid=process.pid,
            pid_start_time=process.start_time,
            extra=launch.extra,
        )
        try:
            _procs.wait_until(
                lambda: launch.ready(endpoint),
                what=launch.waiting_for,
                timeout=timeout,
                process=process,
                log_path=log_path,
            )
        except BaseException:
            self._stop_process(handle, process, keep_data=False)
            raise
        if detached:
            process.detach()
        else:
            handle.live = process
        return handle

    def alive(self, handle: Handle) -> str | None:
        if handle.pid is None:
            return "no pid recorded"
        return _procs.pid_state(handle.pid, handle.pid_start_time)

    def stop(self, handle: Handle, *, keep_data: bool = False) -> None:
        process, handle.live = handle.live, None
        self._stop_process(handle, process, keep_data=keep_data)
        self._remove_launch_files(handle)
        if not keep_data and handle.data_dir is not None:
            _procs.remove_data_dir(handle.data_dir)

    @abc.abstractmethod
    def _server_binary(self, report: Reporter) -> Path:
        """The server binary to run; raises BackendUnavailable when there is none."""

    @abc.abstractmethod
    def _launch(
        self,
        binary: Path,
        workdir: Path,
        *,
        data_dir: Path,
        access_key: str,
        secret_key: str,
        region: str,
    ) -> Launch:
        """Choose ports and write any files the server needs; say how to run and check it."""

    @abc.abstractmethod
    def _stop_process(
        self, handle: Handle, process: _procs.Process | None, *, keep_data: bool
    ) -> str:
        """Stop the server process (``process`` when it is ours in memory); say what happened.

        Also called, with ``keep_data=False``, when a start fails.
        """

    @abc.abstractmethod
    def _remove_launch_files(self, handle: Handle) -> None:
        """Delete what `_launch` wrote outside the data directory, once the server is stopped."""
