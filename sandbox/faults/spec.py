"""What a user asks for: TCP faults (Toxiproxy toxics) and HTTP faults (shim rules).

::

    from sandbox.faults import latency, bandwidth, timeout, reset, slowdown, internal_error
    layer.add(latency(40, jitter=10))            # every response 40 +- 10 ms later
    layer.add(reset(after_bytes=4096, on="list", nth=3))   # RST inside the 3rd list page
    layer.add(slowdown(on="list", every=5, count=2))        # 503 SlowDown, 2 of every 5 lists

TCP faults act on every connection through the layer; HTTP faults pick requests by kind and
position (see :mod:`sandbox.faults.rules`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from sandbox.faults.rules import Rule, RuleError

__all__ = [
    "Fault",
    "Toxic",
    "bandwidth",
    "error",
    "internal_error",
    "latency",
    "reset",
    "slowdown",
    "timeout",
]

Stream = Literal["downstream", "upstream"]


@dataclass(frozen=True)
class Toxic:
    """A Toxiproxy toxic: ``type`` and ``attributes`` as Toxiproxy's HTTP API spells them."""

    type: str
    attributes: dict[str, int]
    stream: Stream = "downstream"
    toxicity: float = 1.0
    name: str = field(default_factory=lambda: f"toxic-{secrets.token_hex(3)}")

    def __post_init__(self) -> None:
        if not 0.0 <= self.toxicity <= 1.0:
            raise RuleError(f"toxicity is a probability 0..1, got {self.toxicity}")
        for key, value in self.attributes.items():
            if value < 0:
                raise RuleError(f"{self.type} {key} must be >= 0, got {value}")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": dict(self.attributes),
        }

    def describe(self) -> str:
        attrs = ", ".join(f"{k}={v}" for k, v in self.attributes.items())
        return f"{self.type}({attrs}) on {self.stream}"


Fault = Toxic | Rule


def latency(ms: int, jitter: int = 0, *, stream: Stream = "downstream") -> Toxic:
    """Every response (``stream="upstream"``: every request) arrives ``ms`` +- ``jitter`` later."""
    return Toxic("latency", {"latency": ms, "jitter": jitter}, stream=stream)


def bandwidth(kbps: int, *, stream: Stream = "downstream") -> Toxic:
    """Throughput capped at ``kbps`` kilobytes per second (Toxiproxy's unit, KB/s)."""
    if kbps < 1:
        raise RuleError(f"bandwidth must be at least 1 KB/s, got {kbps}")
    return Toxic("bandwidth", {"rate": kbps}, stream=stream)


def timeout(ms: int = 0) -> Toxic:
    """Data stops flowing; the connection is closed after ``ms`` (0: held open, never answers)."""
    return Toxic("timeout", {"timeout": ms})


def reset(
    after_bytes: int | None = None,
    *,
    after_ms: int | None = None,
    on: str | None = None,
    nth: int | None = None,
    every: int | None = None,
    count: int = 1,
    during: str | None = None,
) -> Fault:
    """A dropped connection.

    Without a request selector (``on``/``nth``/``every``) it is a TCP fault on every
    connection: closed after ``after_bytes`` bytes from the server (Toxiproxy ``limit_data``),
    or reset ``after_ms`` after it opened (``reset_peer``). With one it is an HTTP fault: the
    picked requests get a TCP RST after ``after_bytes`` bytes of their body (the response's
    by default, the request's for ``put``/``post`` or ``during="request"``).
    """
    if on is None and nth is None and every is None:
        if (after_bytes is None) == (after_ms is None):
            raise RuleError("a TCP reset needs exactly one of after_bytes or after_ms")
        if after_bytes is not None:
            return Toxic("limit_data", {"bytes": after_bytes})
        assert after_ms is not None
        return Toxic("reset_peer", {"timeout": after_ms})
    if after_ms is not None:
        raise RuleError("after_ms is a TCP reset; a request reset counts body bytes (after_bytes)")
    kind = on or "any"
    phase = during or ("request" if kind in ("put", "post") else "response")
    return Rule(
        action="reset",
        on=kind,  # type: ignore[arg-type]  # checked by Rule
        nth=nth,
        every=every,
        count=count,
        after_bytes=after_bytes or 0,
        during=phase,  # type: ignore[arg-type]
    )


def error(
    status: int,
    code: str,
    *,
    on: str = "any",
    nth: int | None = None,
    every: int | None = None,
    count: int = 1,
    message: str = "",
) -> Rule:
    """The picked requests get S3's XML error ``code`` with HTTP ``status`` (not forwarded)."""
    return Rule(
        action="error",
        on=on,  # type: ignore[arg-type]  # checked by Rule
        nth=nth,
        every=every,
        count=count,
        status=status,
        code=code,
        message=message,
    )


def slowdown(
    *, on: str = "any", nth: int | None = None, every: int | None = None, count: int = 1
) -> Rule:
    """503 SlowDown, S3's throttling answer (SDKs back off and retry it)."""
    return error(503, "SlowDown", on=on, nth=nth, every=every, count=count)


def internal_error(
    *, on: str = "any", nth: int | None = None, every: int | None = None, count: int = 1
) -> Rule:
    """500 InternalError, S3's "try again" (SDKs retry it)."""
    return error(500, "InternalError", on=on, nth=nth, every=every, count=count)
