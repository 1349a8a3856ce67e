"""Pinned servers built from Go modules (MinIO, Toxiproxy): the parts their builds share.

Each is found the same way (``$<NAME>_BINARY``, then PATH, then the cache), built by one
process at a time under a lock file, into a staging folder that is promoted into the cache only
once ``go install`` succeeded. The per-server modules say what is built and how it is reported.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from sandbox.backends._base import BackendUnavailable, Reporter

__all__ = ["build_lock", "executable", "find_pinned", "promote_build"]


def executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_pinned(env_var: str, name: str, cached: Path) -> tuple[Path, str] | None:
    """An existing binary and where it came from: ``$env_var``, then ``name`` on PATH, then
    ``cached``. Never builds; an ``env_var`` that names no executable is an error."""
    if explicit := os.environ.get(env_var):
        path = Path(explicit)
        if not executable(path):
            raise BackendUnavailable(
                f"{env_var}={explicit} is not an executable file; fix or unset it"
            )
        return path, f"${env_var}"
    if on_path := shutil.which(name):
        return Path(on_path), "PATH"
    if executable(cached):
        return cached, "cache"
    return None


@contextlib.contextmanager
def build_lock(directory: Path, report: Reporter, waiting: str) -> Iterator[None]:
    """One build at a time across processes (make, pytest, CLI); ``waiting`` is said when
    another process holds the lock."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".build.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            report(waiting)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def promote_build(
    built: Path,
    target: Path,
    *,
    what: str,
    argv: Sequence[str],
    code: int,
    log_path: Path,
) -> None:
    """Move a successful build from its staging folder to ``target``; otherwise raise with the
    last lines of the build log."""
    if code != 0 or not executable(built):
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
        raise BackendUnavailable(
            f"building {what} failed (`{' '.join(argv)}` exited {code}); log {log_path}:\n{tail}"
        )
    os.replace(built, target)
    shutil.rmtree(built.parent, ignore_errors=True)
