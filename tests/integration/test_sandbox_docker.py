"""MinIO in Docker. Skipped, with the reason, when no Docker engine answers."""

from __future__ import annotations

import io
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import Sandbox
from sandbox.backends.docker import LABEL, LABEL_WORKDIR, DockerBackend, _docker_client

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def docker_sandbox() -> Iterator[Sandbox]:
    availability = DockerBackend().probe()
    if not availability.ok:
        pytest.skip(f"docker backend not tested: {availability.reason}")
    with Sandbox.start("docker") as sb:
        yield sb


def test_the_container_serves_signed_requests(docker_sandbox: Sandbox) -> None:
    client = docker_sandbox.client()
    client.create_bucket(Bucket="docker-bucket")
    client.put_object(Bucket="docker-bucket", Key="k", Body=b"v")
    assert client.get_object(Bucket="docker-bucket", Key="k")["Body"].read() == b"v"


def test_the_container_publishes_its_ports_on_loopback_only_and_is_labelled(
    docker_sandbox: Sandbox,
) -> None:
    client = _docker_client()
    try:
        container = client.containers.get(docker_sandbox.handle.container_id)
        assert container.labels.get(LABEL) == "1"
        for bindings in container.ports.values():
            for binding in bindings or []:
                assert binding["HostIp"] == "127.0.0.1"
    finally:
        client.close()


def test_stopping_removes_the_container_and_its_volume() -> None:
    availability = DockerBackend().probe()
    if not availability.ok:
        pytest.skip(f"docker backend not tested: {availability.reason}")
    from docker.errors import NotFound

    with Sandbox.start("docker") as sb:
        container_id, volume = sb.handle.container_id, sb.handle.extra["volume"]
    client = _docker_client()
    try:
        with pytest.raises(NotFound):
            client.containers.get(container_id)
        with pytest.raises(NotFound):
            client.volumes.get(volume)
    finally:
        client.close()


def test_the_main_job_passes_against_the_container(tmp_path: Path) -> None:
    availability = DockerBackend().probe()
    if not availability.ok:
        pytest.skip(f"docker backend not tested: {availability.reason}")
    from tests.integration.test_main_job import sandbox_cli

    state_dir = tmp_path / "state"
    mine = {"label": f"{LABEL_WORKDIR}={state_dir}"}
    client = _docker_client()
    try:
        done = sandbox_cli("run", "--backend", "docker", "--count", "60", state_dir=state_dir)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "S3 backend: docker" in done.stdout
        assert "count 60 == ground truth 60" in done.stdout
        assert "All checks passed" in done.stdout
        status = sandbox_cli("status", state_dir=state_dir)
        assert status.returncode == 0 and "docker" in status.stdout, status.stderr

        # `down` as with docker compose: the container goes, the named volume stays ...
        down = sandbox_cli("down", state_dir=state_dir)
        assert down.returncode == 0, down.stderr
        assert client.containers.list(all=True, filters=mine) == []
        volumes = client.volumes.list(filters=mine)
        assert len(volumes) == 1 and "data kept in volume" in down.stdout, down.stdout
        # ... and the next `up` serves the same data from a new container.
        again = sandbox_cli("run", "--backend", "docker", "--count", "60", state_dir=state_dir)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "kept volume" in again.stdout + again.stderr, again.stderr
        assert "0 uploaded" in again.stdout, again.stdout
    finally:
        purged = sandbox_cli("down", "--purge", state_dir=state_dir)
        try:
            assert purged.returncode == 0, purged.stderr
            assert client.containers.list(all=True, filters=mine) == []
            assert client.volumes.list(filters=mine) == []
        finally:
            client.close()


def test_an_image_the_engine_cannot_run_gives_a_clear_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    availability = DockerBackend().probe()
    if not availability.ok:
        pytest.skip(f"docker backend not tested: {availability.reason}")
    from sandbox.backends import StartupError

    client = _docker_client()
    tag = f"lambda-local-runner/not-minio:{uuid.uuid4().hex[:8]}"
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in (
            (
                "Dockerfile",
                b'FROM scratch\nCOPY minio /usr/bin/minio\nENTRYPOINT ["/usr/bin/minio"]\n',
            ),
            ("minio", b"this is not an executable\n"),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True)
    monkeypatch.setenv("SANDBOX_MINIO_IMAGE", tag)
    try:
        with pytest.raises(StartupError) as caught:
            Sandbox.start("docker", timeout=20)
        message = str(caught.value)
        assert tag in message
        assert "could not run MinIO" in message or "stopped (status exited)" in message
        assert "SANDBOX_MINIO_IMAGE" in message
        assert client.containers.list(all=True, filters={"ancestor": tag}) == []
    finally:
        client.images.remove(tag, force=True)
        client.close()


def test_a_local_image_build_from_a_file_that_is_not_minio_says_what_to_do(
    tmp_path: Path,
) -> None:
    availability = DockerBackend().probe()
    if not availability.ok:
        pytest.skip(f"docker backend not tested: {availability.reason}")
    from sandbox.backends import StartupError
    from sandbox.backends._docker_image import build_local_image

    fake = tmp_path / "minio"
    fake.write_text("#!/bin/sh\necho not minio\n")
    fake.chmod(0o755)
    client = _docker_client()
    try:
        with pytest.raises(StartupError, match="ensure-minio") as caught:
            build_local_image(client, fake, "v-test-broken", lambda _m: None)
        assert str(fake) in str(caught.value)
        assert "lambda-local-runner/minio:v-test-broken" not in [
            t for image in client.images.list() for t in image.tags
        ]
    finally:
        client.close()
