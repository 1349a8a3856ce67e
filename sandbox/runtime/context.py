"""The `context` object Lambda's Python runtime passes to the handler.

Attribute for attribute it follows ``awslambdaric.lambda_context.LambdaContext`` (the runtime
interface client AWS ships in its Python base images), including two details that surprise
people: ``memory_limit_in_mb`` is a *string* (the runtime copies it from the environment
variable), and ``identity`` is always an object whose two fields are ``None`` unless the caller
was a Cognito identity. The deadline is measured on an injectable clock so tests never sleep.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Client",
    "ClientContext",
    "CognitoIdentity",
    "LambdaContext",
    "function_arn",
    "log_stream_name",
    "new_request_id",
]

Clock = Callable[[], float]  # seconds, monotonic


def new_request_id() -> str:
    """A fresh request id, shaped like Lambda's (a random UUID)."""
    return str(uuid.uuid4())


def function_arn(name: str, region: str, account: str = "123456789012", qualifier: str = "") -> str:
    """The ARN the caller used. Lambda appends the alias/version when one was invoked."""
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def log_stream_name(version: str = "$LATEST", *, now: float | None = None) -> str:
    """``2026/04/30/[$LATEST]<32 hex>``: one stream per execution environment."""
    day = time.strftime("%Y/%m/%d", time.gmtime(time.time() if now is None else now))
    return f"{day}/[{version}]{uuid.uuid4().hex}"


@dataclass
class CognitoIdentity:
    """Set when the caller was authorised through Amazon Cognito (mobile SDKs)."""

    cognito_identity_id: str | None = None
    cognito_identity_pool_id: str | None = None


@dataclass
class Client:
    """The calling mobile app, as reported by the AWS Mobile SDK."""

    installation_id: str | None = None
    app_title: str | None = None
    app_version_name: str | None = None
    app_version_code: str | None = None
    app_package_name: str | None = None


@dataclass
class ClientContext:
    """Client context sent by a mobile SDK caller (``custom`` and ``env`` are plain dicts)."""

    client: Client | None = None
    custom: dict[str, Any] | None = None
    env: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> ClientContext | None:
        if raw is None:
            return None
        client = raw.get("client")
        return cls(
            client=Client(**client) if isinstance(client, Mapping) else None,
            custom=raw.get("custom"),
            env=raw.get("env"),
        )


@dataclass
class LambdaContext:
    """What the handler gets as its second argument.

    ``deadline`` is a reading of ``clock`` (seconds): the moment the invocation times out.
    Build one with `LambdaContext.create` unless you need to control every field.
    """

    # The request id of this invocation; also in the START/END/REPORT lines.
    aws_request_id: str
    # The function's name, as configured.
    function_name: str
    # "$LATEST" unless a published version or an alias was invoked.
    function_version: str
    # The ARN the caller used (with ":alias" or ":version" when it used a qualifier).
    invoked_function_arn: str
    # A string, like the real runtime (it copies AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
    memory_limit_in_mb: str
    # CloudWatch Logs group and stream the function writes to.
    log_group_name: str
    log_stream_name: str
    deadline: float
    clock: Clock = field(default=time.monotonic, repr=False)
    identity: CognitoIdentity = field(default_factory=CognitoIdentity)
    client_context: ClientContext | None = None
    # Set only for functions in tenant isolation mode.
    tenant_id: str | None = None

    @classmethod
    def create(
        cls,
        *,
        function_name: str = "lambda-local-runner",
        function_version: str = "$LATEST",
        memory_mb: int = 512,
        timeout: float = 30.0,
        region: str = "us-east-1",
        request_id: str | None = None,
        stream: str | None = None,
        clock: Clock = time.monotonic,
        identity: Mapping[str, Any] | None = None,
        client_context: Mapping[str, Any] | None = None,
    ) -> LambdaContext:
        """A context whose deadline is ``timeout`` seconds from now on ``clock``."""
        ident = CognitoIdentity()
        if identity is not None:
            ident.cognito_identity_id = identity.get("cognitoIdentityId")
            ident.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")
        qualifier = "" if function_version == "$LATEST" else function_version
        return cls(
            aws_request_id=request_id or new_request_id(),
            function_name=function_name,
            function_version=function_version,
            invoked_function_arn=function_arn(function_name, region, qualifier=qualifier),
            memory_limit_in_mb=str(memory_mb),
            log_group_name=f"/aws/lambda/{function_name}",
            log_stream_name=stream or log_stream_name(function_version),
            deadline=clock() + timeout,
            clock=clock,
            identity=ident,
            client_context=ClientContext.from_dict(client_context),
        )

    def get_remaining_time_in_millis(self) -> int:
        """Whole milliseconds left before the timeout; 0 once it has passed."""
        remaining = int((self.deadline - self.clock()) * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg: object) -> None:
        """Write to the function's log (stdout here, CloudWatch on Lambda)."""
        sys.stdout.write(str(msg))
