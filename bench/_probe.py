"""One execution environment in a fresh process: ``python -m bench._probe < spec.json``.

Memory figures from one long-lived pytest process are coloured by what ran before (freed
memory the allocator keeps, the pytest process itself). A fresh process per measurement is what
Lambda gives a cold execution environment, so the memory-vs-N points run here:

1. INIT runs ahead of the first event (imports are not in the invocation's peak, as on Lambda
   where INIT is its own phase);
2. a baseline invocation that does nothing (an S3 notification for a key under ``manifests/``,
   which the function skips, or ``{"noop": true}`` for the bench handler): Max Memory Used of
   the runtime with the handler imported and idle;
3. the measured invocation(s).

Prints one JSON object: the runtime's figures for the baseline and each measured invocation,
and the CPU mode. ``"cpu"`` in the spec: ``"lambda"`` (the default: memory / 1769 vCPU, INIT
boosted) or ``"full"``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from sandbox.events import s3_event
from sandbox.runtime import Environment, FunctionConfig

__all__ = ["run_spec"]


def run_spec(spec: dict[str, Any]) -> dict[str, Any]:
    handler = spec.get("handler", "lambda_function.handler")
    config = FunctionConfig(
        handler=handler,
        memory_mb=int(spec.get("memory_mb", 1024)),
        timeout=float(spec.get("timeout", 900)),
        tmp_size_mb=int(spec.get("tmp_size_mb", 1024)),
        env=dict(spec["env"]),
        cpu=spec.get("cpu", "lambda"),
    )
    if handler == "lambda_function.handler":
        baseline_event: Any = s3_event(spec["event"]["bucket"], "manifests/baseline.jsonl")
    else:
        baseline_event = {"noop": True}
    with Environment(config) as env:
        init_ms, init_error = env.init()
        if init_error is not None:
            raise RuntimeError(f"INIT of {handler} failed: {init_error}")
        baseline = env.invoke(baseline_event)
        runs = [env.invoke(spec["event"]) for _ in range(int(spec.get("invocations", 1)))]
        return {
            "init_ms": init_ms,
            "cpu_mode": env.cpu_mode,
            "vcpus": env.cpu_vcpus,
            "memory_method": env.memory_method,
            "tmp_mode": env.tmp_mode,
            "baseline": _figures(baseline),
            "runs": [_figures(inv) for inv in runs],
        }


def _figures(inv: Any) -> dict[str, Any]:
    if not inv.ok:
        raise RuntimeError(f"invocation failed ({inv.status}): {inv.error}")
    return {
        "duration_ms": inv.duration_ms,
        "init_duration_ms": inv.init_duration_ms,
        "max_memory_used_bytes": inv.max_memory_used_bytes,
        "tmp_peak_bytes": inv.tmp_peak_bytes,
        "response": inv.response,
    }


def main(argv: list[str]) -> int:
    # The spec comes on stdin, not argv: it holds the sandbox's credentials, and a process's
    # arguments are readable by every user of the machine (`ps`).
    if argv:
        print("usage: python -m bench._probe < spec.json", file=sys.stderr)
        return 2
    print(json.dumps(run_spec(json.loads(sys.stdin.read()))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
