"""MinIO from a local binary (``$MINIO_BINARY``, PATH, or the pinned build in the cache)."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from sandbox import _procs
from sandbox._s3 import list_buckets_problem
from sandbox.backends._base import (
    Availability,
    Backend,
    BackendUnavailable,
    Endpoint,
    Handle,
    Reporter,
    quiet,
)
from sandbox.backends._minio_binary import build_plan, ensure_minio, find_minio

STOP_GRACE_SECONDS = 10.0


def health_problem(url: str, path: str = "/minio/health/cluster") -> str | None:
    """``None`` when MinIO's cluster health answers 200 (storage is up), else what was seen.

    ``/minio/health/live`` and ``/ready`` answer 200 before storage is usable, so they are not
    enough on their own.
    """
    try:
        with urllib.request.urlopen(url + path, timeout=2) as response:
            status = response.status
    except urllib.error.HTTPError as e:
        status = e.code
    except (urllib.error.URLError, OSError) as e:
        return f"GET {path}: {getattr(e, 'reason', e)}"
    return None if status == 200 else f"GET {path} answered {status}"


def readiness_problem(endpoint: Endpoint) -> str | None:
    """Cluster health first, then a signed ListBuckets."""
    return health_problem(endpoint.url) or list_buckets_problem(endpoint)


@dataclass
class MinioBackend(Backend):
    """``minio server DIR`` on 127.0.0.1 with random root credentials."""

    name = "minio"
    binary: Path | None = None
    #: Build the pinned version with Go when no binary exists (the ``auto`` path does).
    build: bool = True
    report: Reporter = field(default=quiet, repr=False)

    def probe(self) -> Availability:
        if self.binary is not None:
            return Availability(True, f"minio binary {self.binary}")
        try:
            found = find_minio()
        except BackendUnavailable as e:
            return Availability(False, str(e))
        if found is not None:
            return Availability(True, f"minio binary {found.path} (from {found.source})")
        plan = build_plan()
        if plan is not None and self.build:
            return Availability(True, f"no minio binary yet; will build it: {plan}")
        return Availability(
            False, "no minio binary (MINIO_BINARY, PATH, cache) and no Go to build one"
        )

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
        found = find_minio()
        binary = self.binary or (
            found.path if found else ensure_minio(report if report is not quiet else self.report)
        )
        if reuse is not None and reuse.data_dir is not None:
            data_dir = reuse.data_dir
            access, secret = reuse.endpoint.access_key, reuse.endpoint.secret_key
        else:
            data_dir = workdir / "data" / self.name
            access, secret = _procs.random_credentials()
        data_dir.mkdir(parents=True, exist_ok=True)
        certs = workdir / "minio-certs"  # keep MinIO away from ~/.minio
        certs.mkdir(exist_ok=True)
        log_path = workdir / "minio.log"
        api, console = _procs.free_ports(2)
        endpoint = Endpoint(f"http://127.0.0.1:{api}", access, secret, region, self.name)
        argv = [
            str(binary),
            "server",
            str(data_dir),
            "--address",
            f"127.0.0.1:{api}",
            "--console-address",
            f"127.0.0.1:{console}",
            "--certs-dir",
            str(certs),
        ]
        env = {
            "MINIO_ROOT_USER": access,
            "MINIO_ROOT_PASSWORD": secret,
            "MINIO_REGION": region,
            "MINIO_UPDATE": "off",
        }
        report(f"starting MinIO ({binary}) on 127.0.0.1:{api}, log {log_path}")
        process = _procs.spawn(argv, log_path=log_path, env=env, detached=detached)
        handle = Handle(
            backend=self.name,
            endpoint=endpoint,
            data_dir=data_dir,
            log_path=log_path,
            pid=process.pid,
            pid_start_time=process.start_time,
            extra={"console": f"http://127.0.0.1:{console}", "certs_dir": str(certs)},
        )
        try:
            _procs.wait_until(
                lambda: readiness_problem(endpoint),
                what=f"/minio/health/cluster = 200 and a signed ListBuckets on {endpoint.url}",
                timeout=timeout,
                process=process,
                log_path=log_path,
            )
        except BaseException:
            self._terminate(handle, process)
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

    def _terminate(self, handle: Handle, process: _procs.Process | None) -> str:
        if handle.pid is None:
            return "no process"
        return _procs.terminate(
            handle.pid,
            start_time=handle.pid_start_time,
            grace=STOP_GRACE_SECONDS,
            popen=process.popen if process else None,
        )

    def stop(self, handle: Handle, *, keep_data: bool = False) -> None:
        process, handle.live = handle.live, None
        self._terminate(handle, process)
        if certs := handle.extra.get("certs_dir"):
            shutil.rmtree(certs, ignore_errors=True)
        if not keep_data and handle.data_dir is not None:
            _procs.remove_data_dir(handle.data_dir)
