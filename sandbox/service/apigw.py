"""API Gateway over HTTP: a real request becomes a proxy event, the handler's return a reply.

Both directions follow what API Gateway does for a Lambda proxy integration:

* The event is HTTP API payload 2.0 (the default) or REST API payload 1.0, built by the same
  builders as ``python -m sandbox event`` (`sandbox.events`), from the request's real method,
  path, query, headers, cookies and body. Every route is ``$default``: one function serves
  the whole API, as a ``$default`` route (HTTP API) or a root ``{proxy+}`` resource (REST)
  does on AWS.
* The reply follows the response format of each payload version. AWS documents the 2.0 rule
  for a plain returned value in "Create AWS Lambda proxy integrations for HTTP APIs"
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html,
  "Lambda function response format"): when the function's valid JSON output has no
  ``statusCode``, API Gateway assumes ``isBase64Encoded`` false, status 200, content-type
  ``application/json`` and the output itself as the body (a returned string is the body as
  it is, anything else its JSON text). Payload 1.0 makes no such assumption: anything but a
  proxy response object is "Malformed Lambda proxy response" and a 502
  (https://repost.aws/knowledge-center/malformed-502-api-gateway).

Binary bodies: a request body is passed as text when its content type is textual (``text/*``,
JSON, XML, JavaScript, form data) or absent, and it decodes as UTF-8; otherwise it is
base64-encoded with ``isBase64Encoded: true``. This is the HTTP API's behaviour for binary
payloads; a REST API would need ``binaryMediaTypes`` configured to do the same, and we apply
the one rule to both so binary uploads survive either way.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from sandbox.events import apigw_event, apigw_v2_event

__all__ = [
    "API_VERSIONS",
    "INTERNAL_SERVER_ERROR",
    "HttpReply",
    "MalformedProxyResponse",
    "event_from_request",
    "is_text_content_type",
    "response_to_http",
]

API_VERSIONS = ("2.0", "1.0")
#: What API Gateway answers when the function's response cannot be used (with status 502).
INTERNAL_SERVER_ERROR = b'{"message": "Internal server error"}'

_TEXT_TYPES = (
    "application/json",
    "application/javascript",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/graphql",
    "application/yaml",
)
# Set by the HTTP layer, not the function: a handler's value would contradict the real body.
_HOP_HEADERS = {"content-length", "transfer-encoding", "connection"}
_V1_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}


class MalformedProxyResponse(ValueError):
    """The function's return value is not a response API Gateway can send.

    ``reason`` says what was wrong (for the service's log line); the client gets only
    API Gateway's 502 ``{"message": "Internal server error"}`` (`INTERNAL_SERVER_ERROR`).
    """

    status = 502
    body = INTERNAL_SERVER_ERROR

    def __init__(self, reason: str) -> None:
        super().__init__(f"Malformed Lambda proxy response: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class HttpReply:
    """The HTTP response to send: status, headers in order (repeats allowed), body bytes."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def is_text_content_type(content_type: str | None) -> bool:
    """Whether a body of this media type travels as text (else base64). ``None``: text."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return (
        media.startswith("text/")
        or media in _TEXT_TYPES
        or media.endswith("+json")
        or media.endswith("+xml")
    )


def _body(body: bytes, content_type: str | None) -> tuple[str, bool]:
    if is_text_content_type(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def _host_name(headers: list[tuple[str, str]]) -> tuple[str, str | None]:
    """The Host header's name and port (``127.0.0.1`` when there is none)."""
    host = next((v for k, v in headers if k.lower() == "host"), "") or "127.0.0.1"
    if host.startswith("["):  # [::1]:8080
        name, _, rest = host[1:].partition("]")
        return name, rest.lstrip(":") or None
    name, _, port = host.partition(":")
    return name, port or None


def _forwarded(
    headers: list[tuple[str, str]], source_ip: str, port: str | None
) -> list[tuple[str, str]]:
    """The headers API Gateway adds to what the client sent (client IP, port, scheme, trace)."""
    sent = {k.lower() for k, _ in headers}
    added: list[tuple[str, str]] = []
    if "x-amzn-trace-id" not in sent:
        added.append(("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"))
    forwarded_for = [v for k, v in headers if k.lower() == "x-forwarded-for"]
    kept = [(k, v) for k, v in headers if k.lower() != "x-forwarded-for"]
    added.append(("X-Forwarded-For", ", ".join([*forwarded_for, source_ip])))
    if port is not None and "x-forwarded-port" not in sent:
        added.append(("X-Forwarded-Port", port))
    if "x-forwarded-proto" not in sent:
        added.append(("X-Forwarded-Proto", "http"))
    return kept + added


def event_from_request(
    *,
    method: str,
    path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    version: str,
    source_ip: str = "127.0.0.1",
    stage: str = "$default",
) -> dict[str, Any]:
    """The proxy event API Gateway would send the function for this HTTP request.

    ``path`` is the request path as sent (percent-decoded, without the query), ``raw_query``
    the query string as sent (without ``?``), ``headers`` every header line in order (repeats
    kept). ``version`` is ``"2.0"`` (HTTP API) or ``"1.0"`` (REST API).
    """
    if version not in API_VERSIONS:
        raise ValueError(f'API Gateway payload version {version!r}: expected "2.0" or "1.0"')
    method = method.upper()
    host, port = _host_name(headers)
    lines = _forwarded(headers, source_ip, port)
    content_type = next((v for k, v in lines if k.lower() == "content-type"), None)
    text, encoded = _body(body, content_type) if body else ("", False)
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    if version == "2.0":
        return _v2(
            method,
            path,
            raw_query,
            pairs,
            lines,
            text if body else None,
            encoded,
            source_ip=source_ip,
            stage=stage,
            host=host,
        )
    return _v1(
        method,
        path,
        pairs,
        lines,
        text if body else None,
        encoded,
        source_ip=source_ip,
        stage=stage,
        host=host,
    )


def _v2(
    method: str,
    path: str,
    raw_query: str,
    pairs: list[tuple[str, str]],
    lines: list[tuple[str, str]],
    body: str | None,
    encoded: bool,
    *,
    source_ip: str,
    stage: str,
    host: str,
) -> dict[str, Any]:
    # Payload 2.0: names lower-cased, repeats joined with commas; cookies get their own list
    # (every Cookie header split at ";") and leave the headers.
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in lines:
        key = name.lower()
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    query: dict[str, str] = {}
    for name, value in pairs:
        query[name] = f"{query[name]},{value}" if name in query else value
    return apigw_v2_event(
        method=method,
        path=path,
        query=query,
        raw_query=raw_query,
        real_headers=joined,
        cookies=cookies,
        body=body,
        is_base64_encoded=encoded,
        route_key="$default",
        stage=stage,
        source_ip=source_ip,
        domain_name=host,
    )


def _v1(
    method: str,
    path: str,
    pairs: list[tuple[str, str]],
    lines: list[tuple[str, str]],
    body: str | None,
    encoded: bool,
    *,
    source_ip: str,
    stage: str,
    host: str,
) -> dict[str, Any]:
    # Payload 1.0: names as sent; ``headers``/``queryStringParameters`` keep the last value,
    # the multiValue maps every value. The API is one greedy ``/{proxy+}`` resource.
    multi_headers: dict[str, list[str]] = {}
    for name, value in lines:
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in pairs:
        multi_query.setdefault(name, []).append(value)
    proxy = path.lstrip("/")
    return apigw_event(
        method=method,
        path=path,
        multi_query=multi_query,
        real_headers=multi_headers,
        body=body,
        is_base64_encoded=encoded,
        resource="/{proxy+}" if proxy else "/",
        path_parameters={"proxy": proxy} if proxy else None,
        context_path=path,
        stage=stage,
        source_ip=source_ip,
        domain_name=host,
    )


# -- the way back ---------------------------------------------------------------------------
def response_to_http(result: Any, version: str) -> HttpReply:
    """The HTTP response API Gateway sends for the function's return value ``result``.

    ``result`` is the handler's return value as JSON gives it back (dict, list, str, number,
    bool or ``None``). Raises `MalformedProxyResponse` when API Gateway would answer 502.
    """
    if version not in API_VERSIONS:
        raise ValueError(f'API Gateway payload version {version!r}: expected "2.0" or "1.0"')
    if version == "2.0" and not (isinstance(result, dict) and "statusCode" in result):
        # The documented 2.0 assumption for a plain value (see the module docstring).
        text = result if isinstance(result, str) else json.dumps(result)
        return HttpReply(200, [("Content-Type", "application/json")], text.encode("utf-8"))
    if not isinstance(result, dict):
        raise MalformedProxyResponse(f"expected a JSON object with statusCode, got {_kind(result)}")
    if version == "1.0":
        unknown = set(result) - _V1_RESPONSE_KEYS
        if unknown:
            raise MalformedProxyResponse(
                f"unexpected key(s) {sorted(unknown)}; a REST API proxy response has only "
                f"{sorted(_V1_RESPONSE_KEYS)}"
            )
    status = _status(result.get("statusCode"))
    headers = _header_lines(result, version)
    body = _response_body(result)
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.insert(0, ("Content-Type", "application/json"))
    return HttpReply(status, headers, body)


def _kind(value: Any) -> str:
    return "null" if value is None else f"{type(value).__name__} {json.dumps(value)[:60]}"


def _status(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedProxyResponse(f"statusCode must be an integer, got {_kind(value)}")
    if not 100 <= value <= 599:
        raise MalformedProxyResponse(f"statusCode {value} is not an HTTP status (100-599)")
    return value


def _header_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedProxyResponse(f"header {name!r} must be a string, got {_kind(value)}")


def _header_lines(result: Mapping[str, Any], version: str) -> list[tuple[str, str]]:
    single = result.get("headers") or {}
    if not isinstance(single, dict):
        raise MalformedProxyResponse(f"headers must be an object, got {_kind(single)}")
    multi: dict[str, Any] = {}
    if version == "1.0":
        multi = result.get("multiValueHeaders") or {}
        if not isinstance(multi, dict):
            raise MalformedProxyResponse(f"multiValueHeaders must be an object, got {_kind(multi)}")
    lines: list[tuple[str, str]] = []
    # API Gateway merges the two maps; where both name a header, multiValueHeaders wins.
    multi_names = {k.lower() for k in multi}
    for name, value in single.items():
        if name.lower() not in multi_names:
            lines.append((name, _header_value(name, value)))
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedProxyResponse(
                f"multiValueHeaders[{name!r}] must be a list, got {_kind(values)}"
            )
        lines += [(name, _header_value(name, v)) for v in values]
    if version == "2.0":
        cookies = result.get("cookies") or []
        if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
            raise MalformedProxyResponse(f"cookies must be a list of strings, got {_kind(cookies)}")
        lines += [("Set-Cookie", c) for c in cookies]
    return [(k, v) for k, v in lines if k.lower() not in _HOP_HEADERS]


def _response_body(result: Mapping[str, Any]) -> bytes:
    body = result.get("body")
    encoded = result.get("isBase64Encoded", False)
    if encoded is None:
        encoded = False
    if not isinstance(encoded, bool):
        raise MalformedProxyResponse(f"isBase64Encoded must be true or false, got {_kind(encoded)}")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedProxyResponse(f"body must be a string (json.dumps it), got {_kind(body)}")
    if not encoded:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as e:
        raise MalformedProxyResponse(f"isBase64Encoded is true but body is not base64 ({e})") from e
