"""Where the function's AWS calls go: the running sandbox, or real AWS.

Lambda gives the function credentials (from its execution role) and a region in environment
variables; here they come from the running sandbox (``python -m sandbox up`` recorded it in
``.sandbox/state.json``) or, with ``--target aws``, from the standard AWS credential chain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["TargetError", "aws_env", "running_sandbox", "sandbox_client"]


class TargetError(RuntimeError):
    """No endpoint or credentials to give the function."""


def running_sandbox(state_dir: Path | str | None = None) -> Any:
    """The sandbox recorded in the state dir if it answers, else ``None``."""
    from sandbox.core import Sandbox

    sb = Sandbox.attach(state_dir)
    if sb is None or sb.problem() is not None:
        return None
    return sb


def sandbox_client(state_dir: Path | str | None = None) -> Any:
    """A boto3 S3 client for the running sandbox, or ``None``."""
    sb = running_sandbox(state_dir)
    return None if sb is None else sb.client()


def aws_env(region: str | None = None) -> dict[str, str]:
    """Credentials from the standard chain (env, profile, SSO, IMDS...) as Lambda would set them."""
    import boto3

    session = boto3.Session(region_name=region)
    creds = session.get_credentials()
    if creds is None:
        raise TargetError(
            "--target aws found no AWS credentials (env vars, ~/.aws, SSO or instance role); "
            "configure some, e.g. `aws configure` or AWS_PROFILE=..."
        )
    frozen = creds.get_frozen_credentials()
    resolved = session.region_name or "us-east-1"
    env = {
        "AWS_ACCESS_KEY_ID": frozen.access_key,
        "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
        "AWS_REGION": resolved,
        "AWS_DEFAULT_REGION": resolved,
    }
    if frozen.token:
        env["AWS_SESSION_TOKEN"] = frozen.token
    return env
