"""One invocation's outcome and the figures Lambda would log and bill for it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sandbox.runtime.limits import InvocationType, timeout_message

__all__ = ["Invocation", "Status"]

Status = Literal["ok", "error", "timeout"]
_MB = 1024 * 1024


@dataclass(frozen=True)
class Invocation:
    """What happened, as Lambda would report it.

    ``response`` is the handler's return value after a JSON round trip (what the caller would
    receive); ``error`` is Lambda's error body (``errorType``, ``errorMessage``...) when the
    handler raised, timed out, could not be imported, or returned something Lambda refuses.
    """

    request_id: str
    status: Status
    response: Any
    error: dict[str, Any] | None
    duration_ms: float
    init_duration_ms: float | None  # set on the cold start only
    memory_size_mb: int
    max_memory_used_bytes: int
    timeout_s: float
    tmp_size_mb: int
    tmp_peak_bytes: int
    response_bytes: int
    invocation_type: InvocationType = "RequestResponse"
    function_version: str = "$LATEST"
    memory_method: str = ""
    tmp_mode: str = ""
    traceback: str = ""
    # How the handler's CPU was limited (sandbox.runtime.cpu); not part of the REPORT line.
    cpu_mode: str = ""
    # Process CPU seconds (user + system, every thread) while the handler ran: what Lambda's
    # CPU share makes scarce. Not billed by Lambda; reported by the harness.
    cpu_s: float = 0.0

    @property
    def cold(self) -> bool:
        return self.init_duration_ms is not None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def billed_duration_ms(self) -> int:
        """Rounded up to the next 1 ms; includes the INIT phase on a cold start (since
        August 2025 Lambda bills INIT for managed runtimes on on-demand functions)."""
        return math.ceil(self.duration_ms + (self.init_duration_ms or 0.0))

    @property
    def max_memory_used_mb(self) -> int:
        return math.ceil(self.max_memory_used_bytes / _MB)

    @property
    def would_be_killed(self) -> bool:
        """Lambda ends an environment whose memory goes past Memory Size (Runtime.OutOfMemory)."""
        return self.max_memory_used_mb > self.memory_size_mb

    @property
    def status_code(self) -> int:
        """What the Invoke API answers: 202 for Event, 200 otherwise (errors included)."""
        return 202 if self.invocation_type == "Event" else 200

    def start_line(self) -> str:
        return f"START RequestId: {self.request_id} Version: {self.function_version}"

    def end_line(self) -> str:
        return f"END RequestId: {self.request_id}"

    def timeout_line(self) -> str:
        return f"{self.request_id} {timeout_message(self.timeout_s)}"

    def report_line(self) -> str:
        """Lambda's REPORT line (tab-separated), then what Lambda does not print: the /tmp
        peak and, when memory went past the configured size, that Lambda would kill it."""
        parts = [
            f"REPORT RequestId: {self.request_id}",
            f"Duration: {self.duration_ms:.2f} ms",
            f"Billed Duration: {self.billed_duration_ms} ms",
            f"Memory Size: {self.memory_size_mb} MB",
            f"Max Memory Used: {self.max_memory_used_mb} MB",
        ]
        if self.init_duration_ms is not None:
            parts.append(f"Init Duration: {self.init_duration_ms:.2f} ms")
        if self.status == "timeout":
            parts.append("Status: timeout")
        parts.append(f"Tmp Used: {self.tmp_peak_bytes / _MB:.2f} MB of {self.tmp_size_mb} MB")
        if self.would_be_killed:
            parts.append(
                "Max Memory Used is over Memory Size: would be killed on Lambda "
                "(Runtime.OutOfMemory)"
            )
        return "\t".join(parts)

    def lines(self) -> list[str]:
        """START, the timeout line when there was one, END, REPORT."""
        out = [self.start_line()]
        if self.status == "timeout":
            out.append(self.timeout_line())
        return [*out, self.end_line(), self.report_line()]

    def to_dict(self) -> dict[str, Any]:
        """Every figure, JSON-ready (for ``invoke.py --json``)."""
        d = asdict(self)
        d.update(
            cold=self.cold,
            billed_duration_ms=self.billed_duration_ms,
            max_memory_used_mb=self.max_memory_used_mb,
            would_be_killed=self.would_be_killed,
            status_code=self.status_code,
            report=self.report_line(),
        )
        return d
