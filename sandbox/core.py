"""``Sandbox``: one started S3 server, its workdir and (optionally) its state file.

Ephemeral sandboxes (the Python API, tests) die with this process: a context manager, an atexit
hook and a SIGTERM/SIGHUP handler stop them. Detached sandboxes (``python -m sandbox up``)
outlive it and are found again through the state file.
"""

from __future__ import annotations

import atexit
import dataclasses
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from sandbox import state as state_mod
from sandbox._s3 import S3Client, list_buckets_problem, make_client
from sandbox.backends import default_backends
from sandbox.backends._base import (
    Backend,
    Endpoint,
    Handle,
    Reporter,
    SandboxError,
    StartupError,
    quiet,
)
from sandbox.backends._selection import Selection, select_backend

if TYPE_CHECKING:
    from sandbox.service.notifications import WebhookTarget

DEFAULT_REGION = "us-east-1"
DEFAULT_TIMEOUT = 90.0
_PORT_RACE_ATTEMPTS = 3


class Sandbox:
    """A running S3 server, from :meth:`start` (or :meth:`up` / :meth:`attach` for the CLI)."""

    def __init__(
        self,
        backend: Backend,
        handle: Handle,
        *,
        workdir: Path,
        state_dir: Path | None = None,
        owns_workdir: bool = False,
        selection: Selection | None = None,
        started_in: float | None = None,
    ) -> None:
        self.backend = backend
        self.handle = handle
        self.workdir = workdir
        self.state_dir = state_dir
        self.selection = selection
        #: Seconds from launch to "serves a signed ListBuckets" (``None`` when attached/reused).
        self.started_in = started_in
        self._owns_workdir = owns_workdir
        self._client: S3Client | None = None
        self._stopped = False

    # -- creation ---------------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        backend: str = "auto",
        *,
        state_dir: Path | str | None = None,
        region: str = DEFAULT_REGION,
        timeout: float = DEFAULT_TIMEOUT,
        detached: bool = False,
        report: Reporter = quiet,
        backends: Sequence[Backend] | None = None,
        webhook: WebhookTarget | None = None,
    ) -> Sandbox:
        """Choose and start a backend; wait until it serves signed requests.

        Without ``state_dir`` everything lives in a temporary directory removed on :meth:`stop`.
        With it, the state file is written there (``detached`` requires it).

        ``webhook`` makes MinIO POST bucket events there (S3 triggers). Other backends cannot;
        they start without it and say so through ``report`` and :meth:`triggers_problem`.
        """
        if detached and state_dir is None:
            raise ValueError("a detached sandbox needs a state_dir to be found again")
        selection = select_backend(backend, backends or default_backends(report=report))
        report(selection.explain())
        selection = _with_webhook(selection, webhook, report)
        sdir = Path(state_dir).absolute() if state_dir is not None else None
        return cls._launch(selection, sdir, region, timeout, detached, report, reuse=None)

    @classmethod
    def _launch(
        cls,
        selection: Selection,
        state_dir: Path | None,
        region: str,
        timeout: float,
        detached: bool,
        report: Reporter,
        reuse: Handle | None,
    ) -> Sandbox:
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
            state_dir.chmod(0o700)
            workdir, owns = state_dir, False
        else:
            workdir, owns = Path(tempfile.mkdtemp(prefix="s3-sandbox-")), True
        began = time.monotonic()
        try:
            for attempt in range(1, _PORT_RACE_ATTEMPTS + 1):
                try:
                    handle = selection.backend.start(
                        workdir,
                        region=region,
                        timeout=timeout,
                        report=report,
                        detached=detached,
                        reuse=reuse,
                    )
                    break
                except StartupError as e:
                    # Ports are chosen free, then bound by the server: another process may take
                    # one in between. Rare; a fresh set of ports fixes it.
                    if "address already in use" not in str(e) or attempt == _PORT_RACE_ATTEMPTS:
                        raise
                    report(f"a port was taken before the server bound it; retrying ({attempt})")
        except BaseException:
            if owns:
                _remove_all_but_logs(workdir)
            raise
        sandbox = cls(
            selection.backend,
            handle,
            workdir=workdir,
            state_dir=state_dir,
            owns_workdir=owns,
            selection=selection,
            started_in=time.monotonic() - began,
        )
        if not detached:
            _reaper.add(sandbox)
        if state_dir is not None:
            try:
                state_mod.save(state_dir, state_mod.State(handle, running=True))
            except BaseException:
                sandbox.stop()
                raise
        return sandbox

    @classmethod
    def attach(
        cls, state_dir: Path | str | None = None, *, backends: Sequence[Backend] | None = None
    ) -> Sandbox | None:
        """The sandbox recorded in ``state_dir`` (running or not), or ``None`` if there is none."""
        sdir = (
            Path(state_dir).absolute() if state_dir is not None else state_mod.default_state_dir()
        )
        recorded = state_mod.load(sdir)
        if recorded is None:
            return None
        backend = _backend_named(recorded.handle.backend, backends)
        return cls(backend, recorded.handle, workdir=sdir, state_dir=sdir)

    @classmethod
    def up(
        cls,
        backend: str = "auto",
        *,
        state_dir: Path | str | None = None,
        region: str = DEFAULT_REGION,
        timeout: float = DEFAULT_TIMEOUT,
        report: Reporter = quiet,
        backends: Sequence[Backend] | None = None,
        webhook: WebhookTarget | None = None,
    ) -> Sandbox:
        """Start a detached sandbox, or reuse the recorded one if it is healthy (idempotent).

        ``webhook`` as in :meth:`start`. A reused running sandbox keeps the webhook target it
        was started with (read it back from :attr:`webhook`).

        Stale state (process gone, container removed, server not answering) is cleaned up and a
        new server started. Data kept by ``down`` (without ``--purge``) is reused with its
        credentials.
        """
        sdir = (
            Path(state_dir).absolute() if state_dir is not None else state_mod.default_state_dir()
        )
        candidates = list(backends or default_backends(report=report))
        existing = cls.attach(sdir, backends=candidates)
        reuse: Handle | None = None
        if existing is not None:
            recorded = state_mod.load(sdir)
            if recorded is not None and recorded.running:
                problem = existing.problem()
                if problem is None:
                    if backend not in ("auto", existing.backend.name):
                        raise SandboxError(
                            f"a {existing.backend.name} sandbox is already running at "
                            f"{existing.endpoint.url}; run `python -m sandbox down` before "
                            f"starting a {backend} one"
                        )
                    report(
                        f"reusing the running {existing.backend.name} sandbox at "
                        f"{existing.endpoint.url}"
                    )
                    if webhook is not None and existing.webhook is None:
                        report(
                            "the running sandbox was started without a webhook target, so "
                            "S3 triggers are off; `python -m sandbox down` and `up` again"
                        )
                    return existing
                report(f"stale sandbox state ({problem}); cleaning it up")
                existing.backend.stop(existing.handle, keep_data=True)
            reuse = existing.handle
        if reuse is not None and backend not in ("auto", reuse.backend):
            # `down` keeps data by default now: never drop it because another backend was asked.
            where = reuse.data_location or sdir
            raise SandboxError(
                f"data and credentials kept from an earlier {reuse.backend} sandbox are in "
                f"{where}; `python -m sandbox up --backend {reuse.backend}` serves them again, "
                f"`python -m sandbox down --purge` removes them before starting a {backend} one"
            )
        # `auto` with kept data means the backend that kept it.
        selection = select_backend(reuse.backend if reuse is not None else backend, candidates)
        report(selection.explain())
        if reuse is not None:
            report(f"reusing data kept in {reuse.data_location}")
        selection = _with_webhook(selection, webhook, report)
        sandbox = cls._launch(selection, sdir, region, timeout, True, report, reuse)
        from sandbox.faults import recorded as recorded_faults

        recorded_faults.repoint(sdir, sandbox.endpoint, report=report)
        return sandbox

    # -- use --------------------------------------------------------------------------------
    @property
    def endpoint(self) -> Endpoint:
        return self.handle.endpoint

    def env(self) -> dict[str, str]:
        """``AWS_ENDPOINT_URL_S3``, credentials and region for SDKs, the AWS CLI, subprocesses."""
        return self.endpoint.env()

    def client(self, **config: Any) -> S3Client:
        """A boto3 S3 client (path-style, SigV4). Without arguments the same client is reused."""
        if config:
            return make_client(self.endpoint, **config)
        if self._client is None:
            self._client = make_client(self.endpoint)
        return self._client

    def problem(self) -> str | None:
        """``None`` when the server exists and answers a signed ListBuckets, else what is wrong."""
        if (gone := self.backend.alive(self.handle)) is not None:
            return gone
        return list_buckets_problem(self.endpoint, access_denied_ok=self.backend.name == "external")

    def healthy(self) -> bool:
        return self.problem() is None

    @property
    def webhook(self) -> WebhookTarget | None:
        """The webhook target the S3 server was started with (token included), if any."""
        recorded = self.handle.extra.get("webhook")
        if not recorded:
            return None
        from sandbox.service.notifications import WebhookTarget

        return WebhookTarget.from_json(recorded)

    def triggers_problem(self) -> str | None:
        """``None`` when S3 events reach the webhook target, else why they cannot."""
        if self.webhook is not None:
            return None
        from sandbox.service.notifications import triggers_problem

        return triggers_problem(self.backend.name) or (
            "S3 triggers are off: the sandbox was started without a webhook target"
        )

    # -- teardown ---------------------------------------------------------------------------
    def stop(self, *, keep_data: bool = False) -> None:
        """Stop the server; remove its data unless ``keep_data``. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        _reaper.discard(self)
        try:
            if self.state_dir is not None:
                _stop_recorded_faults(self.state_dir, self.endpoint)
            self.backend.stop(self.handle, keep_data=keep_data)
        finally:
            if self.state_dir is not None:
                if keep_data:
                    state_mod.save(self.state_dir, state_mod.State(self.handle, running=False))
                else:
                    state_mod.clear(self.state_dir)
            if self._owns_workdir and not keep_data:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Sandbox(backend={self.backend.name!r}, url={self.endpoint.url!r})"


def _with_webhook(
    selection: Selection, webhook: WebhookTarget | None, report: Reporter
) -> Selection:
    """The selection, its backend set to POST bucket events to ``webhook`` where it can."""
    if webhook is None:
        return selection
    from sandbox.backends.minio import MinioBackend
    from sandbox.service.notifications import triggers_problem

    backend = selection.backend
    if isinstance(backend, MinioBackend):
        return dataclasses.replace(selection, backend=dataclasses.replace(backend, webhook=webhook))
    report(triggers_problem(backend.name) or f"S3 triggers are not available on {backend.name}")
    return selection


def _backend_named(name: str, backends: Sequence[Backend] | None) -> Backend:
    for b in backends or default_backends():
        if b.name == name:
            return b
    raise SandboxError(f"the state names an unknown backend {name!r}")


def _stop_recorded_faults(state_dir: Path, endpoint: Endpoint) -> None:
    """``down`` stops the fault layer in front of the server first (see sandbox.faults)."""
    from sandbox.faults import recorded as recorded_faults

    recorded_faults.stop(state_dir, endpoint)


def _remove_all_but_logs(workdir: Path) -> None:
    """After a failed start: drop data and configs (they may hold secrets), keep ``*.log``."""
    for child in workdir.iterdir():
        if child.suffix == ".log":
            continue
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


class _Reaper:
    """Stops ephemeral sandboxes at interpreter exit and on SIGTERM/SIGHUP.

    The signal handlers are installed while at least one ephemeral sandbox runs (only if the
    current handler is the default one, and only from the main thread) and restored after.
    """

    _SIGNALS = (signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self._live: list[Sandbox] = []
        self._lock = threading.Lock()
        self._previous: dict[signal.Signals, Any] = {}
        self._atexit_registered = False

    def add(self, sandbox: Sandbox) -> None:
        with self._lock:
            self._live.append(sandbox)
            if not self._atexit_registered:
                atexit.register(self.stop_all)
                self._atexit_registered = True
            if len(self._live) == 1 and threading.current_thread() is threading.main_thread():
                for sig in self._SIGNALS:
                    if signal.getsignal(sig) is signal.SIG_DFL:
                        self._previous[sig] = signal.signal(sig, self._on_signal)

    def discard(self, sandbox: Sandbox) -> None:
        with self._lock:
            if sandbox in self._live:
                self._live.remove(sandbox)
            if not self._live and threading.current_thread() is threading.main_thread():
                for sig, previous in self._previous.items():
                    signal.signal(sig, previous)
                self._previous.clear()

    def stop_all(self) -> None:
        for sandbox in list(reversed(self._live)):
            sandbox.stop()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Unwind normally so context managers and finally blocks stop the servers.
        raise SystemExit(128 + signum)


_reaper = _Reaper()
