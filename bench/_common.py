"""Shared pieces of the benchmark modules: counts, rounds, the function's settings and client."""

from __future__ import annotations

from typing import Any

import pytest

from bench._datasets import BUCKET
from s3_manifest.app import client_config
from s3_manifest.settings import Settings

__all__ = ["COUNTS", "DEFAULT_COUNTS", "MIB", "function_env", "rounds_for", "settings_for"]

MIB = 1024 * 1024
DEFAULT_COUNTS = (1_000, 10_000)
# 100,000 is in the big grid only where a point costs minutes (the sweep, the naive baseline).
COUNTS = (*DEFAULT_COUNTS, pytest.param(100_000, marks=pytest.mark.full, id="100000"))


def rounds_for(count: int) -> int:
    """Timed rounds per point: more where a round is short (the machine is shared and noisy)."""
    return 5 if count <= 1_000 else 3 if count <= 10_000 else 1


def function_env(sandbox: Any, **overrides: Any) -> dict[str, str]:
    """The function's environment variables on the bench sandbox, with overrides."""
    env = dict(sandbox.env())
    env["BUCKET_NAME"] = BUCKET
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def settings_for(sandbox: Any) -> Settings:
    return Settings.from_env(function_env(sandbox))


def s3_config(sandbox: Any) -> Any:
    """The botocore config the function's own client uses on this sandbox."""
    return client_config(settings_for(sandbox))
