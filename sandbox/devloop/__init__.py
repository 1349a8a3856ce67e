"""The developer's loop around ``invoke.py``: re-invoke on every source change (``watch``) and
hold the handler for a Debug Adapter Protocol client (``debug``)."""

from __future__ import annotations

from sandbox.devloop.debug import DEFAULT_DEBUG_PORT, DebuggerError, wait_for_debugger
from sandbox.devloop.watch import SourceFilter, watch_loop

__all__ = [
    "DEFAULT_DEBUG_PORT",
    "DebuggerError",
    "SourceFilter",
    "wait_for_debugger",
    "watch_loop",
]
