"""Where to seed: the S3 endpoint and credentials, from arguments or the standard env vars.

An explicit argument wins over the environment. ``SANDBOX_DIRECT_ENDPOINT_S3`` (set by
``python -m sandbox env`` when the fault layer is on: the S3 server itself) wins over
``AWS_ENDPOINT_URL_S3`` (then the function's endpoint, through the faults), which wins over
``AWS_ENDPOINT_URL`` (botocore's own order). The seeder never goes through the faults.
``eval "$(python -m sandbox env)"`` exports them.
With no endpoint at all the seeder refuses to run rather than write thousands of objects to
real AWS; pass ``--endpoint-url https://s3.amazonaws.com`` to mean it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from seed.errors import SeedArgumentError

__all__ = ["ENV", "Connection"]

ENV = {
    "direct": "SANDBOX_DIRECT_ENDPOINT_S3",
    "endpoint_s3": "AWS_ENDPOINT_URL_S3",
    "endpoint": "AWS_ENDPOINT_URL",
    "access_key": "AWS_ACCESS_KEY_ID",
    "secret_key": "AWS_SECRET_ACCESS_KEY",
    "session_token": "AWS_SESSION_TOKEN",
    "region": "AWS_REGION",
    "default_region": "AWS_DEFAULT_REGION",
}
_HINT = (
    'start the sandbox and export its settings: eval "$(python -m sandbox env)", '
    "or pass --endpoint-url"
)


@dataclass(frozen=True, slots=True)
class Connection:
    """An S3 endpoint and credentials (``None`` credentials: botocore's default chain)."""

    endpoint_url: str
    access_key: str | None = None
    secret_key: str | None = None
    region: str = "us-east-1"
    session_token: str | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SeedArgumentError(
                f"endpoint URL {self.endpoint_url!r} is not an http(s) URL with a host; "
                f"expected something like http://127.0.0.1:9000"
            )
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as e:
            raise SeedArgumentError(f"endpoint URL {self.endpoint_url!r}: {e}") from e

    def __repr__(self) -> str:  # never print the secret
        return f"Connection(endpoint_url={self.endpoint_url!r}, region={self.region!r})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str], endpoint_url: str | None = None) -> Connection:
        """Build from ``environ`` (pass ``os.environ``); ``endpoint_url`` overrides the env."""
        url = (
            endpoint_url
            or environ.get(ENV["direct"])
            or environ.get(ENV["endpoint_s3"])
            or environ.get(ENV["endpoint"])
        )
        if not url:
            raise SeedArgumentError(
                f"no S3 endpoint: neither --endpoint-url nor {ENV['endpoint_s3']} / "
                f"{ENV['endpoint']} is set; {_HINT}"
            )
        return cls(
            endpoint_url=url,
            access_key=environ.get(ENV["access_key"]) or None,
            secret_key=environ.get(ENV["secret_key"]) or None,
            region=environ.get(ENV["region"]) or environ.get(ENV["default_region"]) or "us-east-1",
            session_token=environ.get(ENV["session_token"]) or None,
        )

    @classmethod
    def coerce(cls, target: Any, environ: Mapping[str, str]) -> Connection:
        """Accept a Connection, a URL, a sandbox ``Endpoint`` or ``Sandbox``, or ``None`` (env).

        ``Endpoint``-like objects have ``url``, ``access_key``, ``secret_key`` and ``region``.
        """
        if isinstance(target, Connection):
            return target
        if target is None or isinstance(target, str):
            return cls.from_env(environ, target)
        endpoint = getattr(target, "endpoint", target)
        url = getattr(endpoint, "url", None)
        if not isinstance(url, str):
            raise SeedArgumentError(
                f"cannot get an S3 endpoint from {type(target).__name__}: expected a URL, a "
                f"seed.Connection, or an object with .url/.access_key/.secret_key/.region"
            )
        return cls(
            endpoint_url=url,
            access_key=getattr(endpoint, "access_key", None),
            secret_key=getattr(endpoint, "secret_key", None),
            region=getattr(endpoint, "region", None) or "us-east-1",
        )

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``session.client("s3", ...)`` (boto3 or aioboto3)."""
        kwargs: dict[str, Any] = {"endpoint_url": self.endpoint_url, "region_name": self.region}
        if self.access_key and self.secret_key:
            kwargs["aws_access_key_id"] = self.access_key
            kwargs["aws_secret_access_key"] = self.secret_key
            if self.session_token:
                kwargs["aws_session_token"] = self.session_token
        return kwargs
