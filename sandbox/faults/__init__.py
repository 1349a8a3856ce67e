"""The fault layer: Toxiproxy (TCP faults) and an HTTP shim (S3 errors, request resets) between
a function and its S3 server, with the CLI (``python -m sandbox faults``) and the ``s3_faults``
pytest fixture. It owns nothing of the S3 server itself: an ``Endpoint`` in, an ``Endpoint`` out.
"""

from __future__ import annotations

from sandbox.faults._api import FaultApiError
from sandbox.faults.layer import DIRECT_ENDPOINT_ENV, FaultHandle, FaultLayer
from sandbox.faults.rules import Rule, RuleError
from sandbox.faults.spec import (
    Fault,
    Toxic,
    bandwidth,
    error,
    internal_error,
    latency,
    reset,
    slowdown,
    timeout,
)

__all__ = [
    "DIRECT_ENDPOINT_ENV",
    "Fault",
    "FaultApiError",
    "FaultHandle",
    "FaultLayer",
    "Rule",
    "RuleError",
    "Toxic",
    "bandwidth",
    "error",
    "internal_error",
    "latency",
    "reset",
    "slowdown",
    "timeout",
]
