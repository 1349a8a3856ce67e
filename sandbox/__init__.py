"""lambda_local_runner's harness: S3 backends, sandbox lifecycle, Lambda runtime emulation."""

from __future__ import annotations

from sandbox.backends._base import (
    BackendUnavailable,
    Endpoint,
    SandboxError,
    StartupError,
)
from sandbox.backends._selection import Selection
from sandbox.core import Sandbox

__all__ = [
    "BackendUnavailable",
    "Endpoint",
    "Sandbox",
    "SandboxError",
    "Selection",
    "StartupError",
]
