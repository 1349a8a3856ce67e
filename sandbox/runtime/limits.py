"""Lambda's hard limits and the exact errors it answers with when one is crossed.

Sources (checked April 2026):

* Synchronous request over 6 MB: the Invoke API refuses it before any code runs with
  ``RequestEntityTooLargeException`` / "Request must be smaller than 6291456 bytes for the
  InvokeFunction operation" (HTTP 413).
* Response over 6 MB: the invocation has run (and is billed), then fails with
  ``Function.ResponseSizeTooLarge`` / "Response payload size exceeded maximum allowed payload
  size (6291556 bytes)." The response limit really is 100 bytes above the request limit.
* Asynchronous (``Event``) request over 1 MB (raised from 256 KB in October 2025): refused by
  the Invoke API with the same exception type, the limit in bytes in the message.
* Timeout: errorType ``Sandbox.Timedout``, errorMessage "RequestId: <id> Error: Task timed out
  after 3.00 seconds"; the log line reads "<time> <id> Task timed out after 3.00 seconds".
* Memory 128-10,240 MB, ephemeral storage (/tmp) 512-10,240 MB, timeout 1-900 s.
"""

from __future__ import annotations

import json
from typing import Any, Literal

__all__ = [
    "ASYNC_REQUEST_LIMIT",
    "MEMORY_RANGE_MB",
    "SYNC_REQUEST_LIMIT",
    "SYNC_RESPONSE_LIMIT",
    "TIMEOUT_RANGE_S",
    "TMP_RANGE_MB",
    "InvocationType",
    "PayloadTooLarge",
    "check_request",
    "encode_payload",
    "response_too_large",
    "timeout_error",
    "timeout_message",
]

InvocationType = Literal["RequestResponse", "Event"]

SYNC_REQUEST_LIMIT = 6_291_456
SYNC_RESPONSE_LIMIT = 6_291_556
ASYNC_REQUEST_LIMIT = 1_048_576
MEMORY_RANGE_MB = (128, 10_240)
TMP_RANGE_MB = (512, 10_240)
TIMEOUT_RANGE_S = (1, 900)


class PayloadTooLarge(ValueError):
    """The Invoke API refused the request: the handler never ran.

    ``error_type`` and ``str(self)`` are what AWS returns; ``size`` and ``limit`` in bytes.
    """

    error_type = "RequestEntityTooLargeException"

    def __init__(self, size: int, limit: int, invocation_type: InvocationType) -> None:
        self.size = size
        self.limit = limit
        self.invocation_type = invocation_type
        super().__init__(
            f"Request must be smaller than {limit} bytes for the InvokeFunction operation"
        )

    def detail(self) -> str:
        """The AWS message plus what was found and what to do about it."""
        return (
            f"{self.error_type}: {self} (this {self.invocation_type} event is {self.size} bytes; "
            "pass a reference to an S3 object instead of the data itself)"
        )


def encode_payload(obj: Any) -> bytes:
    """The JSON bytes Lambda would send or return (compact separators, UTF-8)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def check_request(payload: bytes, invocation_type: InvocationType) -> None:
    """Raise `PayloadTooLarge` if the Invoke API would refuse ``payload``."""
    limit = SYNC_REQUEST_LIMIT if invocation_type == "RequestResponse" else ASYNC_REQUEST_LIMIT
    # AWS says "smaller than"; whether exactly `limit` bytes passes is unverified, let it pass.
    if len(payload) > limit:
        raise PayloadTooLarge(len(payload), limit, invocation_type)


def response_too_large() -> dict[str, str]:
    """The error body Lambda returns instead of an oversized (> 6 MB) response."""
    return {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": (
            "Response payload size exceeded maximum allowed payload size "
            f"({SYNC_RESPONSE_LIMIT} bytes)."
        ),
    }


def timeout_message(timeout: float) -> str:
    """ "Task timed out after 3.00 seconds" (two decimals, as Lambda prints it)."""
    return f"Task timed out after {timeout:.2f} seconds"


def timeout_error(request_id: str, timeout: float) -> dict[str, str]:
    """The error body Lambda returns to a synchronous caller after a timeout."""
    return {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: {timeout_message(timeout)}",
    }
