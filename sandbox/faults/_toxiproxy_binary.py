"""Finding or building the pinned Toxiproxy server binary.

Toxiproxy ships as a Go module; like MinIO it is built once with ``go install`` into the
cache (``<cache>/toxiproxy/<version>/toxiproxy-server``) and never vendored into this repo.
``$TOXIPROXY_BINARY`` or a ``toxiproxy-server`` on PATH wins over the cache.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from pathlib import Path

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


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_toxiproxy(version: str = TOXIPROXY_VERSION) -> Path | None:
    """An existing binary: ``$TOXIPROXY_BINARY``, then PATH, then the cache. Never builds."""
    if explicit := os.environ.get(TOXIPROXY_BINARY_ENV):
        if not _executable(Path(explicit)):
            raise BackendUnavailable(
                f"{TOXIPROXY_BINARY_ENV}={explicit} is not an executable file; fix or unset it"
            )
        return Path(explicit)
    if on_path := shutil.which("toxiproxy-server"):
        return Path(on_path)
    cached = cached_toxiproxy_path(version)
    return cached if _executable(cached) else None


def _go() -> str | None:
    return shutil.which("go") or (
        "/usr/local/go/bin/go" if _executable(Path("/usr/local/go/bin/go")) else None
    )


def ensure_toxiproxy(report: Reporter = quiet, version: str = TOXIPROXY_VERSION) -> Path:
    """Return a Toxiproxy server binary, building the pinned version with Go when none exists."""
    if found := find_toxiproxy(version):
        return found
    target = cached_toxiproxy_path(version)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time across processes
        if _executable(target):
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
    built = staging / "server"  # `go install .../cmd/server` names the binary after the dir
    if code != 0 or not _executable(built):
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
        raise BackendUnavailable(
            f"building Toxiproxy failed (`{' '.join(argv)}` exited {code}); log {log_path}:\n{tail}"
        )
    os.replace(built, target)
    shutil.rmtree(staging, ignore_errors=True)
    report(f"toxiproxy: built {target} in {time.monotonic() - began:.0f}s")
    return target
