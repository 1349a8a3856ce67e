"""The CLI sandbox's fault layer: started detached, recorded beside the sandbox state
(``<state dir>/faults.json``, 0600), found again by later commands, stopped by ``down``.
"""

from __future__ import annotations

from pathlib import Path

from sandbox import state as state_mod
from sandbox.backends._base import Endpoint, Reporter, SandboxError, quiet
from sandbox.faults.layer import FaultHandle, FaultLayer

__all__ = [
    "PART",
    "attach",
    "function_endpoint",
    "layer_url",
    "record_version",
    "repoint",
    "start",
    "stop",
]

PART = "faults"


def attach(state_dir: Path, upstream: Endpoint) -> FaultLayer | None:
    """The recorded fault layer in front of ``upstream`` (running or not), or ``None``."""
    data = state_mod.load_part(state_dir, PART)
    if data is None:
        return None
    try:
        handle = FaultHandle.from_json(data)
    except TypeError as e:
        raise SandboxError(
            f"{state_mod.part_path(state_dir, PART)} is not a fault layer record ({e}); delete it"
        ) from e
    return FaultLayer(upstream, handle)


def layer_url(state_dir: Path) -> str | None:
    """The recorded layer's URL (what functions use instead of S3), or ``None``; no liveness
    check (the local service calls this per new environment)."""
    data = state_mod.load_part(state_dir, PART)
    return None if data is None else FaultHandle.from_json(data).url


def record_version(state_dir: Path) -> int | None:
    """Changes when the layer is switched on or off: the record's mtime, or ``None``."""
    try:
        return state_mod.part_path(state_dir, PART).stat().st_mtime_ns
    except FileNotFoundError:
        return None


def start(
    state_dir: Path, upstream: Endpoint, *, report: Reporter = quiet
) -> tuple[FaultLayer, bool]:
    """The running recorded layer, or a new detached one; (layer, True when newly started)."""
    existing = attach(state_dir, upstream)
    if existing is not None:
        problem = existing.problem()
        if problem is None:
            if existing.handle.upstream_url != upstream.url:
                existing.repoint(upstream)
                state_mod.save_part(state_dir, PART, existing.handle.to_json())
            return existing, False
        report(f"the recorded fault layer is stale ({problem}); starting a new one")
        existing.stop()
        state_mod.clear_part(state_dir, PART)
    layer = FaultLayer.start(upstream, state_dir, detached=True, report=report)
    try:
        state_mod.save_part(state_dir, PART, layer.handle.to_json())
    except BaseException:
        layer.stop()
        raise
    return layer, True


def stop(state_dir: Path, upstream: Endpoint) -> bool:
    """Stop and forget the recorded layer; True when there was one."""
    layer = attach(state_dir, upstream)
    if layer is None:
        return False
    try:
        layer.stop()
    finally:
        state_mod.clear_part(state_dir, PART)
    return True


def repoint(state_dir: Path, upstream: Endpoint, *, report: Reporter = quiet) -> None:
    """After ``up`` restarted the S3 server: point a live recorded layer at it, or forget it."""
    layer = attach(state_dir, upstream)
    if layer is None:
        return
    if layer.problem() is not None:
        layer.stop()
        state_mod.clear_part(state_dir, PART)
        report("the recorded fault layer was gone; `python -m sandbox faults on` starts a new one")
        return
    layer.repoint(upstream)
    state_mod.save_part(state_dir, PART, layer.handle.to_json())
    report(f"fault layer {layer.handle.url} now forwards to {upstream.url}")


def function_endpoint(state_dir: Path, upstream: Endpoint) -> Endpoint:
    """What the function should use: through the recorded fault layer when it runs."""
    layer = attach(state_dir, upstream)
    if layer is None:
        return upstream
    if (problem := layer.problem()) is not None:
        raise SandboxError(
            f"the fault layer is recorded but not working ({problem}); run "
            "`python -m sandbox faults on` to restart it or `python -m sandbox faults off`"
        )
    return layer.endpoint
