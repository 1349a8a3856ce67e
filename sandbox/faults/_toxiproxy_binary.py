"""Finding or building the pinned Toxiproxy server binary.

Toxiproxy ships as a Go module; like MinIO it is built once with ``go install`` into the
cache (``<cache>/toxiproxy/<version>/toxiproxy-server``) and never vendored into this repo.
``$TOXIPROXY_BINARY`` or a ``toxiproxy-server`` on PATH wins over the cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from sandbox._gobuild import build_lock, executable, find_pinned, promote_build
from sandbox.backends._base import BackendUnavailable, Reporter, quiet
from sandbox.backends._minio_binary import cache_root

__all__ = [
    "TOXIPROXY_BINARY_ENV",
    "TOXIPROXY_MODULE",
    "TOXIPROXY_VERSION",
    "cached_toxiproxy_path",
    "ensure_toxiproxy",
    "find_toxiproxy",
]

TOXIPROXY_MODULE = "github.com/Shopify/toxiproxy/v2/cmd/server"
TOXIPROXY_VERSION = "v2.5.0"
TOXIPROXY_BINARY_ENV = "TOXIPROXY_BINARY"
_BUILD_TIMEOUT_S = 900


def cached_toxiproxy_path(version: str = TOXIPROXY_VERSION) -> Path:
    """``<cache>/toxiproxy/<version>/toxiproxy-server``."""
    return cache_root() / "toxiproxy" / version / "toxiproxy-server"


def find_toxiproxy(version: str = TOXIPROXY_VERSION) -> Path | None:
    """An existing binary: ``$TOXIPROXY_BINARY``, then PATH, then the cache. Never builds."""
    found = find_pinned(TOXIPROXY_BINARY_ENV, "toxiproxy-server", cached_toxiproxy_path(version))
    return found[0] if found else None


def _go() -> str | None:
    return shutil.which("go") or (
        "/usr/local/go/bin/go" if executable(Path("/usr/local/go/bin/go")) else None
    )


def ensure_toxiproxy(report: Reporter = quiet, version: str = TOXIPROXY_VERSION) -> Path:
    """Return a Toxiproxy server binary, building the pinned version with Go when none exists."""
    if found := find_toxiproxy(version):
        return found
    target = cached_toxiproxy_path(version)
    waiting = "toxiproxy: another process is building Toxiproxy; waiting for it"
    with build_lock(target.parent, report, waiting):
        if executable(target):
            return target
        go = _go()
        if go is None:
            raise BackendUnavailable(
                f"no toxiproxy-server: not in ${TOXIPROXY_BINARY_ENV}, not on PATH, not in "
                f"{target}; and Go is not installed to build it. Install Go "
                f"(https://go.dev/dl/), or set {TOXIPROXY_BINARY_ENV}"
            )
        return _build(go, target, version, report)


def _build(go: str, target: Path, version: str, report: Reporter) -> Path:
    staging = target.parent / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    log_path = target.parent / "build.log"
    argv = [go, "install", f"{TOXIPROXY_MODULE}@{version}"]
    report(f"toxiproxy: building `{' '.join(argv)}` (about a minute, once; log {log_path})")
    began = time.monotonic()
    with open(log_path, "w") as log:
        try:
            code = subprocess.run(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(os.environ, GOBIN=str(staging)),
                timeout=_BUILD_TIMEOUT_S,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            code = -1
    # `go install .../cmd/server` names the binary after its folder
    promote_build(
        staging / "server", target, what="Toxiproxy", argv=argv, code=code, log_path=log_path
    )
    report(f"toxiproxy: built {target} in {time.monotonic() - began:.0f}s")
    return target
