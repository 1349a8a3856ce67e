"""The Invoke API: ``POST /2015-03-31/functions/{FunctionName}/invocations``.

As botocore's ``lambda`` service model defines ``Invoke`` (rest-json): the function name (or
a full or partial ARN, optionally with ``:qualifier``) in the path, ``Qualifier`` in the query,
``X-Amz-Invocation-Type`` (RequestResponse | Event | DryRun), ``X-Amz-Log-Type`` (None | Tail),
``X-Amz-Client-Context`` (base64 JSON); the payload is the body. The answer carries
``X-Amz-Function-Error``, ``X-Amz-Log-Result``, ``X-Amz-Executed-Version`` and the payload.

Errors are rest-json errors: the status of the model's shape, ``x-amzn-ErrorType`` and a body
with ``__type`` and the shape's message member, so botocore raises its modelled exception
(``client.exceptions.ResourceNotFoundException`` ...).

Decisions:
* Only ``$LATEST`` exists locally (no published versions or aliases): another qualifier is a
  404 that says so.
* An oversized request is ``RequestTooLargeException`` (the model's 413 shape, which botocore
  turns into a modelled exception); AWS's own message text is kept.
* SigV4 is verified before this module sees a request (``sandbox.service.auth``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.runtime import ASYNC_REQUEST_LIMIT, SYNC_REQUEST_LIMIT
from sandbox.runtime.context import new_request_id
from sandbox.service.asyncq import AsyncEvent
from sandbox.service.logs import log_result
from sandbox.service.pool import Throttled, WorkerFailed

if TYPE_CHECKING:
    from sandbox.service.app import Service

__all__ = [
    "ACCOUNT_ID",
    "InvokeError",
    "aws_error",
    "function_arn",
    "handle_invoke",
    "resolve_name",
]

ACCOUNT_ID = "123456789012"
INVOKE_PATH = "/2015-03-31/functions/{name}/invocations"
# NamespacedFunctionName's pattern from the model, anchored, with the parts named.
_NAME = re.compile(
    r"^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?"
    r"(?P<region>[a-z]{2}(?:(?:-gov)|(?:-iso(?:[a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(?P<account>\d{12}:)?(?:function:)?"
    r"(?P<name>[a-zA-Z0-9-_\.]+)"
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$"
)
_CLIENT_CONTEXT_LIMIT = 3583
# Error shapes whose message member is spelt "Message" in the model (others: "message").
_CAPITAL_MESSAGE = {"ResourceNotFoundException", "ServiceException"}


class InvokeError(Exception):
    """An Invoke API error: the HTTP status, the model's error shape name, the message."""

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.headers = headers or {}
        self.extra = extra


def aws_error(
    status: int, error_type: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> web.Response:
    member = "Message" if error_type in _CAPITAL_MESSAGE else "message"
    body = {"__type": error_type, "Type": "User" if status < 500 else "Service", member: message}
    body.update(extra)
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        content_type="application/json",
        headers={
            "x-amzn-ErrorType": error_type,
            "x-amzn-RequestId": new_request_id(),
            **(headers or {}),
        },
    )


def function_arn(name: str, region: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"


def resolve_name(raw: str, qualifier: str | None, known: list[str], region: str) -> str:
    """The configured function ``raw`` names (name, ARN or partial ARN); raise `InvokeError`."""
    match = _NAME.match(raw)
    if match is None or len(raw) > 256:
        raise InvokeError(
            400,
            "InvalidParameterValueException",
            f"1 validation error detected: Value '{raw}' at 'functionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
            "(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
        )
    name, derived = match["name"], match["qualifier"]
    if derived and qualifier and derived != qualifier:
        raise InvokeError(
            400,
            "InvalidParameterValueException",
            "The derived qualifier from the function name does not match the specified qualifier.",
        )
    version = qualifier or derived
    arn = function_arn(name, region) + (f":{version}" if version else "")
    if name not in known:
        listing = ", ".join(sorted(known)) or "none"
        raise InvokeError(
            404,
            "ResourceNotFoundException",
            f"Function not found: {arn} (this local service runs: {listing}; "
            "functions come from [tool.lambda_local_runner] in pyproject.toml)",
        )
    if version not in (None, "$LATEST"):
        raise InvokeError(
            404,
            "ResourceNotFoundException",
            f"Function not found: {arn} (only $LATEST exists locally: no published versions "
            "or aliases)",
        )
    return name


def _client_context(header: str | None) -> dict[str, Any] | None:
    if not header:
        return None
    if len(header) > _CLIENT_CONTEXT_LIMIT:
        raise InvokeError(
            400,
            "InvalidParameterValueException",
            f"Client context must be at most {_CLIENT_CONTEXT_LIMIT} bytes, got {len(header)}",
        )
    try:
        value = json.loads(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError) as e:
        raise InvokeError(
            400,
            "InvalidRequestContentException",
            f"Client context must be a valid Base64-encoded JSON object: {e}",
        ) from e
    if not isinstance(value, dict):
        raise InvokeError(
            400, "InvalidRequestContentException", "Client context must be a JSON object"
        )
    return value


def check_payload(body: bytes, invocation_type: str) -> bytes:
    """The payload to run: size within Lambda's limit and JSON (empty means ``{}``)."""
    limit = ASYNC_REQUEST_LIMIT if invocation_type == "Event" else SYNC_REQUEST_LIMIT
    if len(body) > limit:
        raise InvokeError(
            413,
            "RequestTooLargeException",
            f"Request must be smaller than {limit} bytes for the InvokeFunction operation "
            f"(this {invocation_type} payload is {len(body)} bytes)",
        )
    if not body.strip():
        return b"{}"
    try:
        json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # RecursionError: too deep
        raise InvokeError(
            400,
            "InvalidRequestContentException",
            f"Could not parse request body into json: {e}. The payload must be a JSON "
            "document (AWS CLI v2: add --cli-binary-format raw-in-base64-out to pass "
            "--payload as text)",
        ) from e
    return body


async def handle_invoke(request: web.Request) -> web.Response:
    service: Service = request.app["service"]
    try:
        return await _invoke(service, request)
    except InvokeError as e:
        return aws_error(e.status, e.error_type, str(e), e.headers, **e.extra)


async def _invoke(service: Service, request: web.Request) -> web.Response:
    # The body first, whatever the answer: a client still sending 7 MB to a refused request
    # would otherwise see its connection reset instead of the error.
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge as e:
        raise InvokeError(
            413,
            "RequestTooLargeException",
            f"Request must be smaller than {SYNC_REQUEST_LIMIT} bytes for the InvokeFunction "
            f"operation ({e.text})",
        ) from e
    name = resolve_name(
        request.match_info["name"],
        request.query.get("Qualifier"),
        list(service.pools.functions),
        service.config.region,
    )
    invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
    if invocation_type not in ("RequestResponse", "Event", "DryRun"):
        raise InvokeError(
            400,
            "InvalidParameterValueException",
            f"InvocationType {invocation_type!r}: expected RequestResponse, Event or DryRun",
        )
    log_type = request.headers.get("X-Amz-Log-Type", "None")
    if log_type not in ("None", "Tail"):
        raise InvokeError(
            400, "InvalidParameterValueException", f"LogType {log_type!r}: expected None or Tail"
        )
    context = _client_context(request.headers.get("X-Amz-Client-Context"))
    payload = check_payload(body, "Event" if invocation_type == "Event" else "RequestResponse")
    headers = {"X-Amz-Executed-Version": "$LATEST"}
    if invocation_type == "DryRun":
        return web.Response(status=204, headers=headers)
    request_id = new_request_id()
    headers["x-amzn-RequestId"] = request_id
    if invocation_type == "Event":
        service.async_invoker.submit(AsyncEvent(name, payload, request_id))
        return web.Response(status=202, headers=headers)
    try:
        outcome = await service.pools.invoke(
            name, payload, request_id=request_id, client_context=context
        )
    except Throttled as e:
        raise InvokeError(
            429, "TooManyRequestsException", str(e), {"Retry-After": "1"}, Reason=e.reason
        ) from e
    except WorkerFailed as e:
        raise InvokeError(500, "ServiceException", str(e)) from e
    inv = outcome.invocation
    if inv.error is not None:
        headers["X-Amz-Function-Error"] = "Unhandled"
    if log_type == "Tail":
        headers["X-Amz-Log-Result"] = log_result(outcome.log)
    result = inv.error if inv.error is not None else inv.response
    return web.Response(
        status=200,
        body=json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode("utf-8"),
        content_type="application/json",
        headers=headers,
    )
