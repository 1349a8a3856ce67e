"""Backends without webhook notifications say so plainly; nothing pretends to be a trigger."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.backends.seaweedfs import SeaweedFSBackend
from sandbox.core import Sandbox
from sandbox.service.notifications import new_webhook_target

pytestmark = pytest.mark.integration


def test_seaweedfs_starts_without_triggers_and_says_why(tmp_path: Path) -> None:
    backend = SeaweedFSBackend()
    availability = backend.probe()
    if not availability.ok:
        pytest.skip(f"SeaweedFS is not available here: {availability.reason}")
    said: list[str] = []
    target = new_webhook_target(tmp_path / "queue")
    with Sandbox.start(
        "seaweedfs", backends=[backend], webhook=target, report=said.append
    ) as sandbox:
        assert sandbox.webhook is None
        problem = sandbox.triggers_problem()
        assert problem is not None and "SeaweedFS has no webhook" in problem
        assert problem in said
        assert "webhook" not in sandbox.handle.extra
        assert not (tmp_path / "queue").exists()
