"""MinIO in a container, through the ``docker`` SDK, when an engine answers ``ping()``.

The image is pinned (``$SANDBOX_MINIO_IMAGE`` overrides it), host ports are bound to 127.0.0.1
only and chosen by the engine, and containers and volumes carry labels so leftovers can be found
and removed. The data lives in a named volume, as with ``docker compose``: stopping with the data
kept (``down``) removes the container and keeps the volume, and the next ``up`` mounts it in a new
container with the same credentials; ``down --purge`` removes the volume too.
"""

from __future__ import annotations

import contextlib
import gc
import os
import secrets
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox import _procs
from sandbox.backends._base import (
    Availability,
    Backend,
    BackendUnavailable,
    Endpoint,
    Handle,
    Reporter,
    StartupError,
    quiet,
)
from sandbox.backends.minio import SANDBOX_MINIO_ENV, readiness_problem

DEFAULT_IMAGE = "quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z"
IMAGE_ENV = "SANDBOX_MINIO_IMAGE"
LABEL = "lambda_local_runner.sandbox"
LABEL_WORKDIR = "lambda_local_runner.workdir"
STOP_GRACE_SECONDS = 10


def _docker_client(timeout: float = 5.0) -> Any:
    """A ``docker.DockerClient`` that answered ``ping()``; raises BackendUnavailable otherwise."""
    try:
        import docker
    except ImportError as e:
        raise BackendUnavailable("the `docker` Python package is not installed") from e
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://") and not Path(host.removeprefix("unix://")).exists():
        raise BackendUnavailable(f"no Docker engine: the socket {host} does not exist")
    client = None
    try:
        client = docker.from_env(timeout=max(1, int(timeout)))
        client.ping()
    except Exception as e:  # DockerException, or requests errors some engines leak untranslated
        if client is not None:
            client.close()
        # A failed connect leaves the SDK's socket unclosed; collect it here, quietly, rather
        # than at a random later point where it turns into an unraisable ResourceWarning.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        raise BackendUnavailable(f"no Docker engine answers ping() ({e})") from e
    return client


@dataclass
class DockerBackend(Backend):
    """MinIO from a pinned image, one container per sandbox."""

    name = "docker"
    image: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def _image(self) -> str:
        return self.image or os.environ.get(IMAGE_ENV) or DEFAULT_IMAGE

    def _ensure_image(self, client: Any, report: Reporter) -> str:
        """The image to run, present in the engine: pulled, or built locally when offline.

        An explicit image (argument or ``$SANDBOX_MINIO_IMAGE``) wins and is never replaced by
        a local build. The pinned image is used when present or pullable; otherwise the local
        ``FROM scratch`` image of this project's MinIO binary (tagged with its version).
        """
        from docker.errors import DockerException

        from sandbox.backends._docker_image import build_local_image, local_tag
        from sandbox.backends._minio_binary import MINIO_VERSION, ensure_minio

        explicit = self.image or os.environ.get(IMAGE_ENV)
        wanted = explicit or DEFAULT_IMAGE
        for candidate in (wanted,) if explicit else (wanted, local_tag(MINIO_VERSION)):
            try:
                client.images.get(candidate)
                return candidate
            except DockerException:
                pass
        try:
            report(f"pulling {wanted} (once)")
            client.images.pull(wanted)
            return wanted
        except DockerException as e:
            if explicit:
                source = "the argument" if self.image else IMAGE_ENV
                raise StartupError(
                    f"docker: the image {wanted} (from {source}) is not in the engine and cannot "
                    f"be pulled: {e}. Load or build it, or "
                    f"unset {IMAGE_ENV} to use a locally built MinIO image"
                ) from e
            why = str(getattr(e, "explanation", None) or e)
            report(f"cannot pull {wanted} ({why[:300]}); building a local image instead")
        binary = ensure_minio(report)
        return build_local_image(client, binary, MINIO_VERSION, report)

    def probe(self) -> Availability:
        try:
            client = _docker_client(timeout=3)
        except BackendUnavailable as e:
            return Availability(False, str(e))
        client.close()
        explicit = self.image or os.environ.get(IMAGE_ENV)
        image = explicit or f"{DEFAULT_IMAGE}, or a local build when it cannot be pulled"
        return Availability(True, f"Docker engine answers; image {image}")

    def start(
        self,
        workdir: Path,
        *,
        region: str,
        timeout: float,
        report: Reporter = quiet,
        detached: bool = False,
        reuse: Handle | None = None,
    ) -> Handle:
        from docker.errors import DockerException, NotFound

        client = _docker_client()
        image = self._image()
        log_path = workdir / "docker-minio.log"
        container: Any = None
        volume: Any = None
        created_volume = False
        labels = {LABEL: "1", LABEL_WORKDIR: str(workdir), **self.labels}
        try:
            if reuse is not None and reuse.container_id:
                try:  # a container kept stopped by an earlier version of this tool
                    container = client.containers.get(reuse.container_id)
                except NotFound:
                    container = None
            kept_volume = reuse.extra.get("volume") if reuse is not None else None
            if container is None and kept_volume:
                try:
                    volume = client.volumes.get(kept_volume)
                except NotFound:
                    report(f"the kept volume {kept_volume} is gone; starting with empty data")
            if container is not None and reuse is not None:
                access, secret = reuse.endpoint.access_key, reuse.endpoint.secret_key
                report(f"restarting the kept container {container.short_id}")
                container.start()
            else:
                if volume is not None and reuse is not None:
                    access, secret = reuse.endpoint.access_key, reuse.endpoint.secret_key
                    report(f"a new container on the kept volume {volume.name}")
                else:
                    access, secret = _procs.random_credentials()
                    volume = client.volumes.create(
                        name=f"llr-minio-{secrets.token_hex(6)}", labels=labels
                    )
                    created_volume = True
                image = self._ensure_image(client, report)
                container = client.containers.run(
                    image,
                    command=["server", "/data", "--console-address", ":9001"],
                    environment={
                        "MINIO_ROOT_USER": access,
                        "MINIO_ROOT_PASSWORD": secret,
                        "MINIO_REGION": region,
                        **SANDBOX_MINIO_ENV,
                    },
                    # Host port None: the engine picks a free one, bound to loopback only.
                    ports={"9000/tcp": ("127.0.0.1", None), "9001/tcp": ("127.0.0.1", None)},
                    volumes={volume.name: {"bind": "/data", "mode": "rw"}},
                    labels=labels,
                    detach=True,
                )
            api = _host_port(container, "9000/tcp", timeout=10, image=image)
            endpoint = Endpoint(f"http://127.0.0.1:{api}", access, secret, region, self.name)
            report(f"started container {container.short_id} ({image}) on {endpoint.url}")
            handle = Handle(
                backend=self.name,
                endpoint=endpoint,
                log_path=log_path,
                container_id=container.id,
                extra={"image": image, **({"volume": volume.name} if volume is not None else {})},
            )

            def problem() -> str | None:
                container.reload()
                if container.status != "running":
                    log_path.write_bytes(container.logs())
                    raise StartupError(_cannot_run(container, image))
                return readiness_problem(endpoint)

            try:
                _procs.wait_until(
                    problem,
                    what=f"/minio/health/cluster = 200 and a signed ListBuckets on {endpoint.url}",
                    timeout=timeout,
                    log_path=log_path,
                    interval=0.25,
                )
            finally:
                log_path.write_bytes(container.logs())
        except BaseException as e:
            if container is not None:
                _remove(container)
            if created_volume:  # a kept volume is the user's data: never removed by a failed up
                _remove_volume(client, volume.name)
            client.close()
            if isinstance(e, DockerException):
                raise StartupError(
                    f"docker: the engine at {_engine_host()} answered but could not run MinIO "
                    f"from {image}: {e}. Check that the image runs here (`docker run --rm "
                    f"{image} --version`), unset {IMAGE_ENV} to use the pinned or locally built "
                    "image, or choose --backend minio"
                ) from e
            raise
        client.close()
        return handle

    def alive(self, handle: Handle) -> str | None:
        from docker.errors import DockerException, NotFound

        try:
            client = _docker_client()
        except BackendUnavailable as e:
            return str(e)
        try:
            container = client.containers.get(handle.container_id)
        except NotFound:
            return f"container {handle.container_id} was removed"
        except DockerException as e:
            return f"container {handle.container_id}: {e}"
        finally:
            client.close()
        return None if container.status == "running" else f"container is {container.status}"

    def stop(self, handle: Handle, *, keep_data: bool = False) -> None:
        """Remove the container; remove its volume too unless ``keep_data``."""
        from docker.errors import NotFound

        try:
            client = _docker_client()
        except BackendUnavailable:
            return
        try:
            if handle.container_id is not None:
                with contextlib.suppress(NotFound):
                    _remove(client.containers.get(handle.container_id))
            volume = handle.extra.get("volume")
            if volume and not keep_data:
                _remove_volume(client, volume)
        finally:
            client.close()


def _engine_host() -> str:
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


def _remove(container: Any) -> None:
    from docker.errors import DockerException, NotFound

    try:
        container.stop(timeout=STOP_GRACE_SECONDS)
        container.remove(v=True)
    except NotFound:
        pass
    except DockerException:
        container.remove(v=True, force=True)


def _remove_volume(client: Any, name: str) -> None:
    from docker.errors import NotFound

    with contextlib.suppress(NotFound):
        client.volumes.get(name).remove(force=True)


def _cannot_run(container: Any, image: str) -> str:
    logs = container.logs().decode(errors="replace")[-2000:]
    return (
        f"docker: the engine at {_engine_host()} answered but the MinIO container from {image} "
        f"stopped (status {container.status}); its logs:\n{logs}\nCheck that the image runs "
        f"MinIO on this machine, unset {IMAGE_ENV} to use the pinned or locally built image, "
        "or choose --backend minio"
    )


def _host_port(container: Any, port: str, timeout: float, image: str) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        bindings = (container.ports or {}).get(port)
        if bindings:
            return int(bindings[0]["HostPort"])
        if container.status not in ("created", "running"):
            raise StartupError(_cannot_run(container, image))
        time.sleep(0.1)
    raise StartupError(
        f"container {container.short_id} from {image} published no host port for {port} within "
        f"{timeout:.0f}s (status {container.status}); logs:\n"
        f"{container.logs().decode(errors='replace')[-2000:]}"
    )


def remove_leftovers(
    workdir: Path | None = None,
    report: Reporter = quiet,
    *,
    volumes: bool = True,
    keep_volume: str | None = None,
) -> int:
    """Remove sandbox containers (all, or those of ``workdir``) a crashed run left behind.

    With ``volumes``, their labelled volumes too, except ``keep_volume`` (kept data)."""
    client = _docker_client()
    filters = {"label": [LABEL] if workdir is None else [f"{LABEL_WORKDIR}={workdir}"]}
    try:
        containers = client.containers.list(all=True, filters=filters)
        for container in containers:
            report(f"removing leftover container {container.short_id}")
            _remove(container)
        removed = len(containers)
        if volumes:
            for volume in client.volumes.list(filters=filters):
                if volume.name != keep_volume:
                    report(f"removing leftover volume {volume.name}")
                    _remove_volume(client, volume.name)
                    removed += 1
        return removed
    finally:
        client.close()
