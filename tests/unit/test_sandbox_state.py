"""The state file and the endpoint's environment."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from sandbox import Endpoint, SandboxError
from sandbox.backends import Handle
from sandbox.state import State, load, save


def _handle(tmp_path: Path) -> Handle:
    endpoint = Endpoint("http://127.0.0.1:9000", "AKEY", "SECRET", "eu-west-1", "minio")
    return Handle(
        backend="minio",
        endpoint=endpoint,
        data_dir=tmp_path / "data",
        log_path=tmp_path / "minio.log",
        pid=1234,
        pid_start_time=99,
        extra={"console": "http://127.0.0.1:9001"},
    )


def test_saved_state_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = save(tmp_path / ".sandbox", State(_handle(tmp_path)))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_state_round_trips_through_the_file(tmp_path: Path) -> None:
    state_dir = tmp_path / ".sandbox"
    save(state_dir, State(_handle(tmp_path), running=False))
    loaded = load(state_dir)
    assert loaded is not None
    assert loaded.running is False
    assert loaded.handle.endpoint == _handle(tmp_path).endpoint
    assert loaded.handle.pid == 1234
    assert loaded.handle.pid_start_time == 99
    assert loaded.handle.data_dir == tmp_path / "data"
    assert loaded.handle.extra == {"console": "http://127.0.0.1:9001"}


def test_missing_state_means_no_sandbox(tmp_path: Path) -> None:
    assert load(tmp_path) is None


def test_a_corrupt_state_file_says_where_it_is_and_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text(json.dumps({"version": 99}))
    with pytest.raises(SandboxError, match=r"state.json is unreadable.*delete it"):
        load(tmp_path)


def test_endpoint_env_has_what_aws_sdks_read() -> None:
    endpoint = Endpoint("http://127.0.0.1:9000", "AKEY", "SECRET", "eu-west-1", "minio")
    assert endpoint.env() == {
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000",
        "AWS_ACCESS_KEY_ID": "AKEY",
        "AWS_SECRET_ACCESS_KEY": "SECRET",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }


def test_endpoint_env_carries_a_session_token_only_when_there_is_one() -> None:
    endpoint = Endpoint("https://s3", "A", "S", "us-east-1", "external", session_token="TOKEN")
    assert endpoint.env()["AWS_SESSION_TOKEN"] == "TOKEN"


def test_endpoint_repr_never_shows_the_secret() -> None:
    endpoint = Endpoint("http://x", "AKEY", "TOPSECRET", "us-east-1", "minio", "TOKEN")
    assert "TOPSECRET" not in repr(endpoint)
    assert "TOKEN" not in repr(endpoint)
