"""An S3 endpoint the user already has: real AWS S3 or any S3-compatible server.

Nothing is started or removed. Credentials come from the standard AWS chain (environment,
profile, SSO, instance role...) unless given explicitly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.backends._base import (
    Availability,
    Backend,
    BackendUnavailable,
    Endpoint,
    Handle,
    Reporter,
    quiet,
)

#: The endpoint URL when none is passed; unset means real AWS S3 in the chosen region.
ENDPOINT_ENV = "SANDBOX_EXTERNAL_ENDPOINT"


@dataclass
class ExternalBackend(Backend):
    """Uses ``url`` (default ``$SANDBOX_EXTERNAL_ENDPOINT``, else AWS S3) as it is."""

    name = "external"
    url: str | None = None
    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    profile: str | None = None

    def _url(self, region: str) -> str:
        return self.url or os.environ.get(ENDPOINT_ENV) or f"https://s3.{region}.amazonaws.com"

    def probe(self) -> Availability:
        # Never chosen by ``auto``: using someone's real account must be asked for.
        where = self.url or os.environ.get(ENDPOINT_ENV) or "AWS S3"
        return Availability(True, f"external endpoint {where}; nothing is started")

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
        if self.access_key and self.secret_key:
            access, secret, token = self.access_key, self.secret_key, self.session_token
            source = "given explicitly"
        else:
            import boto3

            session = boto3.session.Session(profile_name=self.profile)
            credentials = session.get_credentials()
            if credentials is None:
                raise BackendUnavailable(
                    "external: no AWS credentials found in the standard chain (environment, "
                    "~/.aws profiles, SSO, instance role); configure one or pass keys"
                )
            frozen = credentials.get_frozen_credentials()
            access, secret, token = frozen.access_key, frozen.secret_key, frozen.token
            source = f"from the AWS credential chain ({credentials.method})"
        url = self._url(region)
        report(f"using the external S3 endpoint {url} (credentials {source}); nothing started")
        endpoint = Endpoint(url, access, secret, region, self.name, session_token=token)
        return Handle(backend=self.name, endpoint=endpoint)

    def alive(self, handle: Handle) -> str | None:
        return None  # nothing of ours to be gone; reachability is checked with ListBuckets

    def stop(self, handle: Handle, *, keep_data: bool = False) -> None:
        """Nothing was started, so nothing is stopped or deleted."""
