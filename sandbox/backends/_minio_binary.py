"""Finding or building the pinned MinIO server binary.

MinIO's community edition ships as source only, so when no binary is on PATH or in the cache
and Go is installed, ``go install`` builds the pinned version into the cache (minutes, once).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox._gobuild import build_lock, executable, find_pinned, promote_build
from sandbox.backends._base import BackendUnavailable, Reporter, quiet

MINIO_MODULE = "github.com/minio/minio"
#: The pinned MinIO version (a Go pseudo-version of the upstream repository).
MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"
MINIO_BINARY_ENV = "MINIO_BINARY"
CACHE_DIR_ENV = "SANDBOX_CACHE_DIR"
_HEARTBEAT_SECONDS = 15.0


def cache_root() -> Path:
    """``$SANDBOX_CACHE_DIR``, else ``$XDG_CACHE_HOME/lambda_local_runner`` (or ~/.cache)."""
    if explicit := os.environ.get(CACHE_DIR_ENV):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lambda_local_runner"


def cached_binary_path(version: str = MINIO_VERSION) -> Path:
    """Where the pinned build lives: ``<cache>/minio/<version>/minio``."""
    return cache_root() / "minio" / version / "minio"


@dataclass(frozen=True)
class Found:
    path: Path
    source: str  # where it came from, for messages


def built_version(binary: Path) -> str | None:
    """The MinIO module version recorded in a Go-built binary (``go version -m``), if readable."""
    go = shutil.which("go")
    if go is None:
        return None
    try:
        out = subprocess.run(
            [go, "version", "-m", str(binary)], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "mod" and parts[1] == MINIO_MODULE:
            return parts[2]
    return None


def find_minio(version: str = MINIO_VERSION) -> Found | None:
    """An existing binary: ``$MINIO_BINARY``, then PATH, then the cache. Never builds."""
    found = find_pinned(MINIO_BINARY_ENV, "minio", cached_binary_path(version))
    return Found(*found) if found else None


def build_plan() -> str | None:
    """How a missing binary would be built (``None`` if it cannot: no Go)."""
    go = shutil.which("go")
    if go is None:
        return None
    return f"go install {MINIO_MODULE}@{MINIO_VERSION} with {go}"


def ensure_minio(report: Reporter = quiet, version: str = MINIO_VERSION) -> Path:
    """Return a MinIO binary, building the pinned version with Go when none exists.

    Raises :class:`BackendUnavailable` saying what was looked for when there is none and no Go.
    """
    if found := find_minio(version):
        report(f"minio: using {found.path} (from {found.source})")
        return found.path
    target = cached_binary_path(version)
    waiting = "minio: another process is building MinIO; waiting for it"
    with build_lock(target.parent.parent, report, waiting):
        if executable(target):  # built by whoever held the lock before us
            report(f"minio: using {target} (built by another process)")
            return target
        if adopted := _adopt_legacy_build(target, version):
            report(
                f"minio: using {adopted} (pinned build found in {adopted.parent.parent / 'bin'})"
            )
            return adopted
        if build_plan() is None:
            raise BackendUnavailable(
                f"no minio binary: not in ${MINIO_BINARY_ENV}, not on PATH, not in {target}; "
                "and Go is not installed to build it. Install Go (https://go.dev/dl/) and run "
                "`python -m sandbox ensure-minio`, or set MINIO_BINARY."
            )
        return _build(target, version, report)


def _adopt_legacy_build(target: Path, version: str) -> Path | None:
    """A pinned build left by ``GOBIN=<cache>/minio/bin go install`` is linked into the layout."""
    legacy = target.parent.parent / "bin" / "minio"
    if not executable(legacy) or built_version(legacy) != version:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name("minio.adopting")
    tmp.unlink(missing_ok=True)
    try:
        os.link(legacy, tmp)
    except OSError:
        shutil.copy2(legacy, tmp)
    os.replace(tmp, target)
    return target


def _build(target: Path, version: str, report: Reporter) -> Path:
    go = shutil.which("go")
    assert go is not None  # checked by the caller
    staging = target.parent / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    log_path = target.parent / "build.log"
    argv = [go, "install", "-v", f"{MINIO_MODULE}@{version}"]
    report(
        f"minio: no binary found; building {MINIO_MODULE}@{version} with `{' '.join(argv)}` "
        f"(takes minutes, once; log {log_path})"
    )
    env = dict(os.environ, GOBIN=str(staging))
    began = time.monotonic()
    lines = 0

    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
        )

        def pump() -> None:
            nonlocal lines
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                lines += 1

        reader = threading.Thread(target=pump, name="go-install-log", daemon=True)
        reader.start()
        # A reporter that can show a live status (the CLI's, on a terminal: a spinner) gets one;
        # any other gets a line every _HEARTBEAT_SECONDS.
        live = getattr(report, "activity", None)
        step = live("minio: building") if live else contextlib.nullcontext(None)
        try:
            with step as status:
                while True:
                    try:
                        code = proc.wait(timeout=1.0 if status else _HEARTBEAT_SECONDS)
                        break
                    except subprocess.TimeoutExpired:
                        so_far = f"{lines} packages downloaded or compiled so far"
                        if status:
                            status(so_far)
                        else:
                            report(
                                f"minio: still building ({time.monotonic() - began:.0f}s, {so_far})"
                            )
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            reader.join(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
    promote_build(staging / "minio", target, what="MinIO", argv=argv, code=code, log_path=log_path)
    report(f"minio: built {target} in {time.monotonic() - began:.0f}s")
    return target
