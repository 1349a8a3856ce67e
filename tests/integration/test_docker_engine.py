"""The private dockerd a test run starts: it runs MinIO and leaves nothing behind.

Needs root and an installed dockerd (``make test`` under ``CI=true`` installs docker.io);
skipped with the reason otherwise. It starts its own engine next to any other, so it also
proves that an existing ``docker0`` (another engine's) is left alone.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from sandbox.backends._base import BackendUnavailable
from sandbox.backends._docker_image import build_local_image
from sandbox.backends._minio_binary import MINIO_VERSION, find_minio
from sandbox.backends.minio import health_problem
from sandbox.docker_engine import (
    DEFAULT_BRIDGE,
    _mounts_under,
    _processes_under,
    dockerd_path,
    leftovers,
    private_engine,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def test_a_private_engine_runs_minio_and_teardown_leaves_no_container_process_mount_or_link() -> (
    None
):
    if os.geteuid() != 0:
        pytest.skip("a private dockerd needs root")
    if dockerd_path() is None:
        pytest.skip("dockerd is not installed (make test installs docker.io under CI=true)")
    try:
        found = find_minio()
    except BackendUnavailable as e:
        pytest.skip(str(e))
    if found is None:
        pytest.skip("no MinIO binary to build the image from (python -m sandbox ensure-minio)")
    import docker

    bridge_before = _link_exists(DEFAULT_BRIDGE)
    with private_engine() as engine:
        client = docker.DockerClient(base_url=engine.host, timeout=60)
        try:
            tag = build_local_image(client, found.path, MINIO_VERSION)
            container = client.containers.run(
                tag,
                command=["server", "/data"],
                ports={"9000/tcp": ("127.0.0.1", None)},
                detach=True,
            )
            deadline = time.monotonic() + 30
            problem: str | None = "not started"
            while problem and time.monotonic() < deadline:
                container.reload()
                bindings = (container.ports or {}).get("9000/tcp")
                if bindings:
                    problem = health_problem(f"http://127.0.0.1:{bindings[0]['HostPort']}")
                time.sleep(0.2)
            assert problem is None, problem
            # Left running on purpose: the teardown must take it down with the engine.
        finally:
            client.close()
        pid, root, bridge = engine.pid, engine.root, engine.bridge
        # What the teardown must remove exists now: the engine's processes (dockerd, its
        # containerd, the container's shim), its mounts (the data root, the container's
        # rootfs; the nsfs netns/default when dockerd makes one) and its link.
        assert len(_processes_under(root)) >= 3
        assert _mounts_under(root)
        assert _link_exists(bridge)

    assert leftovers(engine) == []
    assert not Path(f"/proc/{pid}").exists()
    assert not root.exists()
    if bridge_before:
        assert bridge != DEFAULT_BRIDGE, "an existing docker0 must not be shared and deleted"
        assert _link_exists(DEFAULT_BRIDGE), "the docker0 that existed before was removed"
    assert not _link_exists(bridge) or (bridge == DEFAULT_BRIDGE and bridge_before)
