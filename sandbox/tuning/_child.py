"""One memory setting of a tune, in a fresh process: ``python -m sandbox.tuning._child < SPEC``.

A fresh process per setting, because libraries a handler imports stay loaded in the process
that imported them (`sandbox.runtime._modules`): in one process only the first setting's INIT
would pay for importing aioboto3, and Max Memory Used would carry what earlier settings left.
Here every setting's cold start is a real one.

SPEC is JSON on stdin (not argv: it carries the function's credentials, and argv is visible to
every user in ``ps``): ``{"config": {FunctionConfig fields}, "event": ..., "repeat": N}``.
The handler's own output goes to stderr; stdout gets one JSON object: the CPU mode and every
invocation's figures (``Invocation.to_dict``), the cold one first. A warm run stops early when
the cold one failed or would be killed for its memory (Lambda would have ended that
environment).
"""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

from sandbox.runtime import Environment, FunctionConfig

__all__ = ["run_setting"]


def run_setting(spec: dict[str, Any]) -> dict[str, Any]:
    config = FunctionConfig(**spec["config"])
    runs: list[dict[str, Any]] = []
    with Environment(config) as env:
        cpu = {"cpu_mode": env.cpu_mode, "cpu": env.cpu_line(), "vcpus": env.cpu_vcpus}
        cpu["memory_method"] = env.memory_method
        env.init()
        for _ in range(1 + int(spec["repeat"])):
            inv = env.invoke(spec["event"])
            runs.append(inv.to_dict())
            if not inv.ok or inv.would_be_killed:
                break
    return {**cpu, "runs": runs}


def _interrupt_once(signum: int, frame: Any) -> None:
    """The first SIGINT stops the run; later ones must not break the cgroup's cleanup."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, _interrupt_once)
    if argv:
        print("usage: python -m sandbox.tuning._child < spec.json", file=sys.stderr)
        return 2
    spec = json.loads(sys.stdin.read())
    out, sys.stdout = sys.stdout, sys.stderr  # the handler's prints must not reach the JSON
    try:
        result = run_setting(spec)
    finally:
        sys.stdout = out
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
