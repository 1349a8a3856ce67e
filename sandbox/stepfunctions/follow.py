"""Run a state machine's Lambda tasks in one local execution environment, printing each
round's START/END/REPORT lines as Lambda would log them, then the execution's totals."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.runtime import Environment, Invocation
from sandbox.runtime.context import new_request_id
from sandbox.stepfunctions.asl import ExecutionFailed, StateMachine, TaskFailed

__all__ = ["DEFAULT_STATE_MACHINE", "FollowResult", "follow"]

DEFAULT_STATE_MACHINE = Path(__file__).resolve().parents[2] / "statemachine" / "manifest.asl.json"


@dataclass
class FollowResult:
    """How the execution ended, and every invocation it made (retries included)."""

    status: str  # "SUCCEEDED" | "FAILED"
    output: Any
    invocations: list[Invocation] = field(default_factory=list)
    error: str | None = None
    cause: str | None = None

    @property
    def rounds(self) -> int:
        return len(self.invocations)

    def totals(self) -> dict[str, Any]:
        invs = self.invocations
        return {
            "status": self.status,
            "rounds": self.rounds,
            "count": self.output.get("count") if isinstance(self.output, dict) else None,
            "duration_ms": round(sum(i.duration_ms for i in invs), 2),
            "billed_duration_ms": sum(i.billed_duration_ms for i in invs),
            "max_memory_used_mb": max((i.max_memory_used_mb for i in invs), default=0),
            "tmp_peak_bytes": max((i.tmp_peak_bytes for i in invs), default=0),
        }

    def totals_line(self) -> str:
        t = self.totals()
        return (
            f"EXECUTION {t['status']}\tRounds: {t['rounds']}\tCount: {t['count']}\t"
            f"Duration: {t['duration_ms']:.2f} ms\tBilled Duration: {t['billed_duration_ms']} ms\t"
            f"Max Memory Used: {t['max_memory_used_mb']} MB\t/tmp peak: {t['tmp_peak_bytes']} bytes"
        )


def follow(
    lam: Environment,
    execution_input: Any,
    *,
    state_machine: str | Path = DEFAULT_STATE_MACHINE,
    out: Callable[[str], None] | None = print,
    sleep: Callable[[float], None] = time.sleep,
) -> FollowResult:
    """Start an execution of ``state_machine`` with ``execution_input``; every Lambda task
    invokes ``lam`` (INIT on the first, warm after, as one concurrent execution would)."""
    machine = StateMachine.load(state_machine)
    invocations: list[Invocation] = []

    def invoke(payload: Any) -> Any:
        if lam.needs_init:
            lam.init()
        rid = new_request_id()
        inv = lam.invoke(payload, request_id=rid)
        invocations.append(inv)
        if out is not None:
            out(inv.start_line())
            if inv.status == "timeout":
                out(inv.timeout_line())
            out(inv.end_line())
            out(inv.report_line())
            summary = inv.response if inv.ok else inv.error
            out(f"ROUND {len(invocations)}: {json.dumps(_brief(summary))}")
        if not inv.ok:
            error = inv.error or {}
            raise TaskFailed(str(error.get("errorType", "States.TaskFailed")), json.dumps(error))
        return inv.response

    try:
        output, _ = machine.run(execution_input, invoke, sleep=sleep)
        result = FollowResult("SUCCEEDED", output, invocations)
    except ExecutionFailed as e:
        result = FollowResult("FAILED", None, invocations, e.error, e.cause)
    if out is not None:
        out(result.totals_line())
        if result.status == "FAILED":
            out(f"[ERROR] {result.error}: {result.cause}")
    return result


def _brief(response: Any) -> Any:
    """A round's response without URLs and stack traces, for one log line."""
    if not isinstance(response, dict):
        return response
    return {k: v for k, v in response.items() if k not in ("manifest_url", "stackTrace")}
