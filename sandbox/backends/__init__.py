"""S3 backends: one module each. ``default_backends`` lists them in ``auto`` order."""

from __future__ import annotations

from sandbox.backends._base import (
    Availability,
    Backend,
    BackendUnavailable,
    Endpoint,
    Handle,
    Reporter,
    SandboxError,
    StartupError,
    quiet,
)
from sandbox.backends._selection import AUTO_ORDER, BACKEND_NAMES, Selection, select_backend

__all__ = [
    "AUTO_ORDER",
    "BACKEND_NAMES",
    "Availability",
    "Backend",
    "BackendUnavailable",
    "Endpoint",
    "Handle",
    "Reporter",
    "SandboxError",
    "Selection",
    "StartupError",
    "default_backends",
    "quiet",
    "select_backend",
]


def default_backends(report: Reporter = quiet) -> list[Backend]:
    """One instance of each backend, configured from the environment."""
    from sandbox.backends.docker import DockerBackend
    from sandbox.backends.external import ExternalBackend
    from sandbox.backends.minio import MinioBackend
    from sandbox.backends.seaweedfs import SeaweedFSBackend

    return [DockerBackend(), MinioBackend(report=report), SeaweedFSBackend(), ExternalBackend()]
