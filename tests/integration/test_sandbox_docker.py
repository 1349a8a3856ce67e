"""MinIO in Docker. Skipped, with the reason, when no Docker engine answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox import Sandbox
from sandbox.backends.docker import LABEL, DockerBackend, _docker_client

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
        container_id = sb.handle.container_id
    client = _docker_client()
    try:
        with pytest.raises(NotFound):
            client.containers.get(container_id)
    finally:
        client.close()
