"""``invoke.py --watch``: invoke again, in a new execution environment, after each change.

A change to the code is a deploy: Lambda would start new execution environments for it, so
every run after a change is a cold start (INIT again, module state gone, /tmp empty). That is
also what makes re-importing safe: the runtime forgets the function's modules between
environments, so no stale module survives an edit.

Bursts (an editor writing a file twice, a ``git checkout`` touching ten) come as one change:
``watchfiles`` waits until nothing has changed for ``step_ms`` before it reports. A syntax
error is the run's problem, not the watcher's: the run reports ``Runtime.UserCodeSyntaxError``
as Lambda would, and the watch goes on. Ctrl-C ends it with exit code 0.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from watchfiles import Change, PythonFilter, watch

__all__ = ["SourceFilter", "watch_loop"]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class SourceFilter(PythonFilter):
    """Python sources (not caches, VCS or virtualenv folders) plus named extra files, such as
    the ``--payload`` event the runs read."""

    def __init__(self, extra_files: Sequence[str | os.PathLike[str]] = ()) -> None:
        super().__init__()
        self.extra_files = {str(Path(f).resolve()) for f in extra_files}

    def __call__(self, change: Change, path: str) -> bool:
        return str(Path(path).resolve()) in self.extra_files or super().__call__(change, path)


def _shown(paths: Sequence[str], roots: Sequence[str]) -> str:
    names = []
    for p in sorted(paths):
        for root in roots:
            try:
                names.append(str(Path(p).relative_to(Path(root).resolve())))
                break
            except ValueError:
                continue
        else:
            names.append(p)
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _forget_bytecode(paths: Sequence[str]) -> None:
    """Drop the cached bytecode of changed sources. A ``.pyc`` is checked against the source's
    mtime in whole seconds and its size, so an edit within the same second that keeps the size
    (``n = 1`` -> ``n = 2``) would otherwise run the old code."""
    for path in paths:
        if path.endswith(".py"):
            # no cache for it, or none we may touch: the import compiles the source anyway
            with contextlib.suppress(OSError, ValueError, NotImplementedError):
                Path(importlib.util.cache_from_source(path)).unlink(missing_ok=True)


def watch_loop(
    run_once: Callable[[], int],
    paths: Sequence[str],
    *,
    extra_files: Sequence[str | os.PathLike[str]] = (),
    say: Callable[[str], None] = _say,
    step_ms: int = 100,
    debounce_ms: int = 1600,
    stop_event: threading.Event | None = None,
) -> int:
    """Run ``run_once`` now and after every batch of changes under ``paths``, until Ctrl-C or
    ``stop_event``. ``run_once`` reports its own failures; its exit code is the last run's."""
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise FileNotFoundError(f"--watch: no such file or folder: {', '.join(missing)}")
    roots = [str(Path(p).resolve()) for p in paths]
    code = 0
    try:
        code = run_once()
        say(f"watching {', '.join(roots)} for changes (Ctrl-C to stop)")
        for changes in watch(
            *roots,
            watch_filter=SourceFilter(extra_files),
            step=step_ms,
            debounce=debounce_ms,
            stop_event=stop_event,
            raise_interrupt=False,
        ):
            changed = [p for _, p in changes]
            _forget_bytecode(changed)
            say(f"changed: {_shown(changed, roots)}; new execution environment (cold start)")
            code = run_once()
            say("watching for changes (Ctrl-C to stop)")
    except KeyboardInterrupt:
        pass
    say("stopped watching")
    return code
