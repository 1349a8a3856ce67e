"""``invoke.py --debug``: hold the function before INIT until a debugger attaches.

debugpy (the Debug Adapter Protocol server VS Code's Python debugger speaks) listens on
127.0.0.1 only; we print how to attach, then wait for the client to finish configuring
(breakpoints set) before INIT, so a breakpoint at import time is hit too. The handler runs on
the runtime's worker thread, which is created after ``listen`` and so is traced.

The timeout clock: while the debugger holds the handler at a breakpoint, Lambda's timeout
would fire and end the environment. Like SAM in debug mode, we do not enforce the INIT or the
invocation timeout while debugging (``Environment(timeouts=False)``); Duration and Billed
Duration still report wall time, pauses included.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

__all__ = ["DEFAULT_DEBUG_PORT", "DebuggerError", "attach_instructions", "wait_for_debugger"]

DEFAULT_DEBUG_PORT = 5678
HOST = "127.0.0.1"


class DebuggerError(Exception):
    """The debugger could not be started (debugpy missing, port taken)."""


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def attach_instructions(port: int) -> str:
    """What to tell the user: a VS Code launch configuration that attaches to ``port``."""
    config = {
        "name": "Attach to invoke.py",
        "type": "debugpy",
        "request": "attach",
        "connect": {"host": HOST, "port": port},
        "justMyCode": True,
    }
    return (
        f"debug: waiting for a debugger on {HOST}:{port} before INIT (the timeout is not "
        "enforced while debugging).\n"
        "debug: VS Code: Run and Debug > 'Python Debugger: Remote Attach' with host "
        f"{HOST} and port {port}, or add to .vscode/launch.json:\n" + json.dumps(config, indent=2)
    )


def wait_for_debugger(port: int = DEFAULT_DEBUG_PORT, say: Callable[[str], None] = _say) -> int:
    """Listen on 127.0.0.1:``port`` (0: any free port), print how to attach, and block until a
    client has attached and sent ``configurationDone``. Returns the port listened on."""
    try:
        import debugpy
    except ImportError as e:
        raise DebuggerError(
            "--debug needs debugpy: pip install 'lambda-local-runner[sandbox]' (or debugpy)"
        ) from e
    try:
        _, bound = debugpy.listen((HOST, port))
    except Exception as e:  # debugpy raises RuntimeError / OSError subclasses for a taken port
        raise DebuggerError(
            f"cannot listen for a debugger on {HOST}:{port}: {e}; pick another --debug-port"
        ) from e
    say(attach_instructions(int(bound)))
    debugpy.wait_for_client()
    say("debug: debugger attached; running INIT")
    return int(bound)
