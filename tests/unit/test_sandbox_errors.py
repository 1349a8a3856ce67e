"""Error messages say what was asked, what was found, and what to do next."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox import BackendUnavailable, StartupError
from sandbox.__main__ import main
from sandbox._procs import wait_until
from sandbox.backends._minio_binary import MINIO_BINARY_ENV, ensure_minio
from sandbox.backends.docker import DockerBackend
from sandbox.backends.minio import MinioBackend


@pytest.fixture
def no_minio_no_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH without minio or go, and an empty cache."""
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    monkeypatch.setenv("SANDBOX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(MINIO_BINARY_ENV, raising=False)
    return tmp_path


def test_a_readiness_timeout_names_what_was_awaited_what_was_seen_and_the_log(
    tmp_path: Path,
) -> None:
    log = tmp_path / "server.log"
    log.write_text("starting\nlistening on 127.0.0.1:1234\n")
    with pytest.raises(StartupError) as info:
        wait_until(
            lambda: "ListBuckets answered 503",
            what="a signed ListBuckets",
            timeout=0,
            log_path=log,
        )
    message = str(info.value)
    assert "timed out after 0s waiting for a signed ListBuckets" in message
    assert "last seen: ListBuckets answered 503" in message
    assert str(log) in message
    assert "listening on 127.0.0.1:1234" in message


def test_without_minio_or_go_ensure_says_where_it_looked_and_what_to_install(
    no_minio_no_go: Path,
) -> None:
    with pytest.raises(BackendUnavailable) as info:
        ensure_minio()
    message = str(info.value)
    assert "not on PATH" in message
    assert str(no_minio_no_go / "cache") in message
    assert "Install Go" in message


def test_without_minio_or_go_the_minio_backend_is_unavailable(no_minio_no_go: Path) -> None:
    availability = MinioBackend().probe()
    assert not availability.ok
    assert "no Go" in availability.reason


def test_a_minio_binary_env_pointing_nowhere_is_an_error_not_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MINIO_BINARY_ENV, str(tmp_path / "nope"))
    with pytest.raises(BackendUnavailable, match=r"MINIO_BINARY=.*nope is not an executable"):
        ensure_minio()


def test_docker_without_an_engine_socket_is_unavailable_with_the_socket_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/docker.sock")
    availability = DockerBackend().probe()
    assert not availability.ok
    assert f"{tmp_path}/docker.sock does not exist" in availability.reason


def test_status_without_a_sandbox_exits_1_and_says_how_to_start_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--state-dir", str(tmp_path), "status"]) == 1
    assert "python -m sandbox up" in capsys.readouterr().err


def test_env_without_a_sandbox_prints_no_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--state-dir", str(tmp_path), "env"]) == 1
    assert "export" not in capsys.readouterr().out


def test_down_without_a_sandbox_is_a_no_op(tmp_path: Path) -> None:
    assert main(["--state-dir", str(tmp_path), "down"]) == 0
    assert os.listdir(tmp_path) == []


def test_an_unknown_backend_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["up", "--backend", "ceph"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
