"""Which write path to use: MinIO snowball tars or concurrent PUTs.

Detected from the server itself (its ``Server`` response header, ``MinIO`` on every MinIO
response), not from the sandbox's backend name, so a MinIO started by hand, in Docker or
anywhere else benefits too, and a MinIO-compatible server that is not MinIO gets plain PUTs.
"""

from __future__ import annotations

from seed.errors import SeedArgumentError

__all__ = ["choose_method", "is_minio"]


def is_minio(server_header: str) -> bool:
    """True for MinIO's ``Server: MinIO`` (any case, with or without a version)."""
    return server_header.strip().lower().startswith("minio")


def choose_method(requested: str, server_header: str) -> str:
    """``"put"`` or ``"snowball"`` for ``requested`` (``auto``/``put``/``snowball``).

    ``snowball`` against a server that is not MinIO is refused: another server would store the
    tar as one object and the listing would never match.
    """
    if requested == "put":
        return "put"
    minio = is_minio(server_header)
    if requested == "snowball" and not minio:
        raise SeedArgumentError(
            f"--method snowball needs MinIO (tar auto-extract), but the server says "
            f"Server: {server_header or '(no header)'}; use --method put or auto"
        )
    return "snowball" if minio else "put"
