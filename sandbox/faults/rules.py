"""HTTP-level fault rules: which S3 requests a rule picks, what it does to them, S3's error body.

Pure data and decisions (no I/O), shared by the shim process that applies the rules and the
CLI / Python API that send them. A rule picks requests by kind (``list``, ``get``, ``put``...)
and by position among the requests of that kind it has seen:

* ``nth=3``: the 3rd matching request only;
* ``every=5, count=2``: the first 2 of every 5 (requests 1, 2, 6, 7, 11, 12...);
* neither: every matching request.

Its action is an S3 error answered by the shim (``error``: 503 SlowDown, 500 InternalError or
any status/code) without forwarding, or a TCP reset (``reset``) after ``after_bytes`` bytes of
the request body (``during="request"``) or of the response body (``during="response"``).
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.sax.saxutils import escape

__all__ = [
    "ACTIONS",
    "REQUEST_KINDS",
    "Rule",
    "RuleError",
    "classify",
    "error_body",
]

RequestKind = Literal["any", "list", "get", "head", "put", "post", "delete", "other"]
REQUEST_KINDS: tuple[str, ...] = ("any", "list", "get", "head", "put", "post", "delete", "other")
Action = Literal["error", "reset"]
ACTIONS: tuple[str, ...] = ("error", "reset")

#: S3's own wording for the errors the CLI names.
S3_MESSAGES = {
    "SlowDown": "Please reduce your request rate.",
    "InternalError": "We encountered an internal error. Please try again.",
    "ServiceUnavailable": "Service is unable to handle request.",
}


class RuleError(ValueError):
    """A rule that cannot be applied (bad kind, counts, status)."""


@dataclass
class Rule:
    """One HTTP fault. ``seen``/``fired`` are the shim's counters, reported back by ``list``."""

    action: Action = "error"
    on: RequestKind = "any"
    nth: int | None = None
    every: int | None = None
    count: int = 1
    status: int = 503
    code: str = "SlowDown"
    message: str = ""
    after_bytes: int = 0
    during: Literal["request", "response"] = "response"
    name: str = ""
    seen: int = field(default=0, compare=False)
    fired: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise RuleError(f"action must be one of {ACTIONS}, got {self.action!r}")
        if self.on not in REQUEST_KINDS:
            raise RuleError(f"request kind must be one of {REQUEST_KINDS}, got {self.on!r}")
        if self.nth is not None and self.nth < 1:
            raise RuleError(f"nth counts from 1, got {self.nth}")
        if self.nth is not None and self.every is not None:
            raise RuleError("give nth (one request) or every/count (a pattern), not both")
        if self.every is not None and not 1 <= self.count <= self.every:
            raise RuleError(f"count must be between 1 and every ({self.every}), got {self.count}")
        if self.action == "error" and not 400 <= self.status <= 599:
            raise RuleError(f"an error status is 400-599, got {self.status}")
        if self.after_bytes < 0:
            raise RuleError(f"after_bytes must be >= 0, got {self.after_bytes}")
        if self.during not in ("request", "response"):
            raise RuleError(f"during must be request or response, got {self.during!r}")
        if not self.message and self.action == "error":
            self.message = S3_MESSAGES.get(self.code, self.code)
        if not self.name:
            self.name = f"{self.action}-{self.on}-{secrets.token_hex(3)}"

    def fires(self, kind: str) -> bool:
        """Count a request of ``kind``; True when this rule applies to it."""
        if self.on != "any" and kind != self.on:
            return False
        self.seen += 1
        if self.nth is not None:
            hit = self.seen == self.nth
        elif self.every is not None:
            hit = (self.seen - 1) % self.every < self.count
        else:
            hit = True
        if hit:
            self.fired += 1
        return hit

    def describe(self) -> str:
        which = (
            f"request {self.nth} of kind {self.on}"
            if self.nth
            else f"{self.count} of every {self.every} {self.on} requests"
            if self.every
            else f"every {self.on} request"
        )
        if self.action == "error":
            return f"{self.status} {self.code} on {which}"
        return f"TCP reset after {self.after_bytes} {self.during} body bytes on {which}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rule:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise RuleError(f"unknown rule fields {sorted(unknown)}; known: {sorted(known)}")
        try:
            return cls(**data)
        except TypeError as e:
            raise RuleError(f"bad rule {data!r}: {e}") from e


def classify(method: str, target: str) -> str:
    """The kind of an S3 request from its method and path-style target.

    ``list`` is a GET on a bucket (``/bucket?list-type=2``, the function's ListObjectsV2);
    ``get``/``head``/``put``/``delete`` act on an object (``/bucket/key``); ``post`` is
    multipart create/complete and batch delete. Service-level calls are ``other``.
    """
    parts = urlsplit(target)
    path = unquote(parts.path).lstrip("/")
    bucket, _, key = path.partition("/")
    method = method.upper()
    if not bucket:
        return "other"
    if not key:
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if method == "GET" and not (set(query) - {"list-type", "prefix", "max-keys",
                                                    "continuation-token", "start-after",
                                                    "delimiter", "encoding-type", "marker",
                                                    "fetch-owner"}):  # fmt: skip
            return "list"
        return "post" if method == "POST" else "other"
    return {"GET": "get", "HEAD": "head", "PUT": "put", "POST": "post", "DELETE": "delete"}.get(
        method, "other"
    )


def error_body(code: str, message: str, resource: str, request_id: str) -> bytes:
    """S3's XML error document (what botocore parses into ``Error.Code``)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>{request_id}</RequestId>"
        f"<HostId>{request_id}</HostId></Error>"
    ).encode()
