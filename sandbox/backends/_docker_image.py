"""A local MinIO image, built offline from the MinIO binary the project already builds or finds.

No registry is reachable on CI machines, so when the pinned image cannot be pulled the docker
backend builds ``FROM scratch`` an image holding the binary, the shared libraries it links
(``ldd``: for a Go build with cgo only ``libc.so.6`` and ``ld-linux-x86-64.so.2``), a one-line
``/etc/passwd``, ``/data`` and ``/tmp``. It builds in seconds and is tagged with the MinIO
version, so a second run finds it and a new pinned version gets a new image.
"""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from sandbox.backends._base import Reporter, StartupError, quiet

__all__ = ["LOCAL_REPOSITORY", "build_local_image", "check_minio", "libraries_of", "local_tag"]

LOCAL_REPOSITORY = "lambda-local-runner/minio"
_DOCKERFILE = b"""FROM scratch
COPY rootfs/ /
USER 0
ENTRYPOINT ["/usr/bin/minio"]
CMD ["server", "/data"]
"""
_LDD_LINE = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)")


def local_tag(version: str) -> str:
    """``lambda-local-runner/minio:<version>`` (tags allow ``[A-Za-z0-9_.-]``, 128 chars)."""
    clean = re.sub(r"[^A-Za-z0-9_.-]", "_", version)[:128] or "local"
    return f"{LOCAL_REPOSITORY}:{clean}"


def libraries_of(binary: Path) -> list[Path]:
    """The shared libraries ``binary`` loads (empty for a static binary)."""
    try:
        done = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        raise StartupError(f"cannot run ldd on {binary} to find its libraries: {e}") from e
    text = done.stdout + done.stderr
    if "not a dynamic executable" in text or "statically linked" in text:
        return []
    if done.returncode != 0:
        raise StartupError(
            f"{binary} is not a Linux executable ldd understands ({text.strip()[:300]}); "
            "point MINIO_BINARY at a MinIO server binary or run `python -m sandbox ensure-minio`"
        )
    if "not found" in text:
        raise StartupError(f"{binary} needs libraries this machine lacks:\n{text.strip()}")
    return [Path(m.group(1)) for m in _LDD_LINE.finditer(done.stdout)]


def check_minio(binary: Path) -> str:
    """``binary --version`` must say it is MinIO; return that line (what goes in the image)."""
    try:
        done = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=30
        )
        out = (done.stdout + done.stderr).strip()
    except (OSError, subprocess.SubprocessError) as e:
        out = str(e)
    if "minio version" not in out.lower():
        raise StartupError(
            f"{binary} is not a MinIO server binary (`{binary.name} --version` said: "
            f"{out[:200]!r}), so no image was built from it; point MINIO_BINARY at MinIO or "
            "run `python -m sandbox ensure-minio`"
        )
    return out.splitlines()[0]


def _context(binary: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:

        def add_bytes(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))

        def add_dir(name: str, mode: int = 0o755) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)

        add_bytes("Dockerfile", _DOCKERFILE)
        add_dir("rootfs/data")
        add_dir("rootfs/tmp", 0o1777)
        add_bytes("rootfs/etc/passwd", b"root:x:0:0:root:/root:/sbin/nologin\n")
        add_bytes("rootfs/etc/group", b"root:x:0:\n")
        tar.add(str(binary), arcname="rootfs/usr/bin/minio")
        for lib in libraries_of(binary):
            # Keep the path the binary asks for (the loader's path is baked into it).
            tar.add(str(lib.resolve()), arcname=f"rootfs{lib}")
    return buf.getvalue()


def build_local_image(client: Any, binary: Path, version: str, report: Reporter = quiet) -> str:
    """Build (or find) the local image for ``binary``; return its tag."""
    from docker.errors import APIError, BuildError

    tag = local_tag(version)
    check_minio(binary)
    report(f"building the local image {tag} FROM scratch with {binary} (offline, seconds)")
    try:
        context = _context(binary)
    except OSError as e:
        raise StartupError(f"cannot read {binary} or its libraries to build {tag}: {e}") from e
    try:
        client.images.build(
            fileobj=io.BytesIO(context),
            custom_context=True,
            tag=tag,
            rm=True,
            forcerm=True,
            pull=False,
            labels={"lambda_local_runner.minio_version": version},
        )
    except BuildError as e:
        log = "".join(str(chunk.get("stream", chunk.get("error", ""))) for chunk in e.build_log)
        raise StartupError(
            f"building the local MinIO image {tag} from {binary} failed: {e.msg}\n"
            f"{log.strip()[-1500:]}\nCheck the binary (`python -m sandbox ensure-minio`) and the "
            f"engine's disk space, or set SANDBOX_MINIO_IMAGE to an image you have"
        ) from e
    except APIError as e:
        raise StartupError(
            f"the Docker engine refused to build {tag} from {binary}: {e}; check the engine's "
            "log and disk space, or set SANDBOX_MINIO_IMAGE to an image you have"
        ) from e
    return tag
