"""Backend selection: explicit choices, the ``auto`` order, and the reasons given."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.backends import (
    Availability,
    Backend,
    BackendUnavailable,
    Endpoint,
    Handle,
    Reporter,
    quiet,
    select_backend,
)


@dataclass
class FakeBackend(Backend):
    name: str  # type: ignore[misc]  # a per-instance name is enough for fakes
    ok: bool
    reason: str = ""

    def probe(self) -> Availability:
        return Availability(self.ok, self.reason or ("ready" if self.ok else "missing"))

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
        endpoint = Endpoint("http://127.0.0.1:1", "a", "s", region, self.name)
        return Handle(backend=self.name, endpoint=endpoint)

    def alive(self, handle: Handle) -> str | None:
        return None

    def stop(self, handle: Handle, *, keep_data: bool = False) -> None:
        pass


def test_auto_prefers_docker_then_minio_then_seaweedfs() -> None:
    backends = [
        FakeBackend("seaweedfs", True),
        FakeBackend("minio", True),
        FakeBackend("docker", True),
    ]
    assert select_backend("auto", backends).backend.name == "docker"


def test_auto_says_why_each_earlier_backend_was_passed_over() -> None:
    backends = [
        FakeBackend("docker", False, "no Docker engine answers ping()"),
        FakeBackend("minio", False, "no minio binary and no Go"),
        FakeBackend("seaweedfs", True, "weed binary at /x/weed"),
    ]
    selection = select_backend("auto", backends)
    assert selection.backend.name == "seaweedfs"
    assert selection.skipped == (
        ("docker", "no Docker engine answers ping()"),
        ("minio", "no minio binary and no Go"),
    )
    explained = selection.explain()
    assert "backend: seaweedfs (weed binary at /x/weed)" in explained
    assert "skipped docker: no Docker engine answers ping()" in explained


def test_auto_never_chooses_the_external_backend() -> None:
    backends = [FakeBackend("external", True), FakeBackend("seaweedfs", False)]
    with pytest.raises(BackendUnavailable, match="external"):
        select_backend("auto", backends)


def test_auto_with_nothing_available_lists_every_reason_and_what_to_install() -> None:
    backends = [
        FakeBackend("docker", False, "no engine"),
        FakeBackend("minio", False, "no binary"),
        FakeBackend("seaweedfs", False, "no weed"),
    ]
    with pytest.raises(BackendUnavailable) as info:
        select_backend("auto", backends)
    message = str(info.value)
    for fragment in ("docker: no engine", "minio: no binary", "seaweedfs: no weed", "Go"):
        assert fragment in message


def test_an_explicit_backend_that_cannot_run_is_an_error_not_a_fallback() -> None:
    backends = [FakeBackend("docker", False, "no engine"), FakeBackend("seaweedfs", True)]
    with pytest.raises(BackendUnavailable, match=r"'docker' cannot start here: no engine"):
        select_backend("docker", backends)


def test_an_unknown_backend_name_lists_the_valid_ones() -> None:
    with pytest.raises(BackendUnavailable, match=r"unknown backend 'ceph'.*seaweedfs"):
        select_backend("ceph", [FakeBackend("seaweedfs", True)])


def test_an_explicit_available_backend_is_chosen_even_if_auto_would_prefer_another() -> None:
    backends = [FakeBackend("docker", True), FakeBackend("seaweedfs", True)]
    selection = select_backend("seaweedfs", backends)
    assert selection.backend.name == "seaweedfs"
    assert selection.reason.startswith("requested")
