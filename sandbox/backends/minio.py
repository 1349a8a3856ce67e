"""MinIO from a local binary (``$MINIO_BINARY``, PATH, or the pinned build in the cache)."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox import _procs
from sandbox._s3 import list_buckets_problem
from sandbox.backends._base import (
    Availability,
    BackendUnavailable,
    Endpoint,
    Handle,
    Reporter,
    quiet,
)
from sandbox.backends._minio_binary import build_plan, ensure_minio, find_minio
from sandbox.backends._process import Launch, ProcessBackend

if TYPE_CHECKING:
    from sandbox.service.notifications import WebhookTarget

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


#: Settings every sandbox MinIO (binary or container) runs with. The data scanner walks every
#: object on a cycle for lifecycle, healing and usage figures, none of which a sandbox uses;
#: "slowest" sleeps 100x what each step took (MinIO's `internal/config/scanner`) so it does not
#: compete with the function and the seeder for CPU. Measured on a bucket of 1M objects with no
#: request in flight: 0.16 of a core at the default speed an hour after start, 0.0003 with
#: "slowest" (the scanner does not run in the first minutes after a start either way).
SANDBOX_MINIO_ENV = {"MINIO_SCANNER_SPEED": "slowest"}


@dataclass
class MinioBackend(ProcessBackend):
    """``minio server DIR`` on 127.0.0.1 with random root credentials."""

    name = "minio"
    label = "MinIO"
    binary: Path | None = None
    #: Build the pinned version with Go when no binary exists (the ``auto`` path does).
    build: bool = True
    report: Reporter = field(default=quiet, repr=False)
    #: Where to POST bucket events (S3 triggers); MinIO reads it from its env at start only.
    webhook: WebhookTarget | None = None

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

    def _server_binary(self, report: Reporter) -> Path:
        found = find_minio()
        return self.binary or (
            found.path if found else ensure_minio(report if report is not quiet else self.report)
        )

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
        certs = workdir / "minio-certs"  # keep MinIO away from ~/.minio
        certs.mkdir(exist_ok=True)
        api, console = _procs.free_ports(2)
        endpoint = Endpoint(f"http://127.0.0.1:{api}", access_key, secret_key, region, self.name)
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
            "MINIO_ROOT_USER": access_key,
            "MINIO_ROOT_PASSWORD": secret_key,
            "MINIO_REGION": region,
            "MINIO_UPDATE": "off",
            **SANDBOX_MINIO_ENV,
        }
        extra: dict[str, Any] = {"console": f"http://127.0.0.1:{console}", "certs_dir": str(certs)}
        if self.webhook is not None:
            from sandbox.service.notifications import minio_env

            queue = Path(self.webhook.queue_dir)
            # MinIO refuses to start without the queue dir. Ours to remove if we make it now
            # or it lies in our workdir (made by an earlier start, kept by `down`).
            extra["webhook_queue_created"] = not queue.exists() or queue.resolve().is_relative_to(
                workdir.resolve()
            )
            queue.mkdir(mode=0o700, parents=True, exist_ok=True)
            env.update(minio_env(self.webhook))
            # The token is in the 0600 state file (the service checks it), never in a log.
            extra["webhook"] = self.webhook.to_json()
        return Launch(
            argv=argv,
            endpoint=endpoint,
            log_path=workdir / "minio.log",
            ready=readiness_problem,
            waiting_for=f"/minio/health/cluster = 200 and a signed ListBuckets on {endpoint.url}",
            env=env,
            extra=extra,
        )

    def _stop_process(
        self, handle: Handle, process: _procs.Process | None, *, keep_data: bool
    ) -> str:
        if handle.pid is None:
            return "no process"
        outcome = _procs.terminate(
            handle.pid,
            start_time=handle.pid_start_time,
            grace=STOP_GRACE_SECONDS,  # the same whether the data is kept or not
            popen=process.popen if process else None,
        )
        webhook = handle.extra.get("webhook")
        if not keep_data and webhook and handle.extra.get("webhook_queue_created"):
            # Undelivered events belong with the data: kept by ``down``, gone with ``down --purge``.
            shutil.rmtree(webhook["queue_dir"], ignore_errors=True)
        return outcome

    def _remove_launch_files(self, handle: Handle) -> None:
        if certs := handle.extra.get("certs_dir"):
            shutil.rmtree(certs, ignore_errors=True)
