"""Shared helpers for integration tests: run the real handler against the sandbox."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def function_env(s3_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The sandbox's endpoint and credentials as env vars, for the handler (restored after)."""
    env = dict(s3_sandbox.env())
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@contextlib.contextmanager
def temp_dir_as(directory: str | Path) -> Iterator[None]:
    """`tempfile.gettempdir()` (the function's /tmp) is ``directory`` inside the block."""
    saved = tempfile.tempdir
    tempfile.tempdir = str(directory)
    try:
        yield
    finally:
        tempfile.tempdir = saved


@pytest.fixture
def lambda_tmp(tmp_path: Path) -> Iterator[Path]:
    """A private temp dir standing in for /tmp; restored afterwards."""
    directory = tmp_path / "lambda-tmp"
    directory.mkdir()
    with temp_dir_as(directory):
        yield directory
