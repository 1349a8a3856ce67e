"""The process-wide state a function's handler sees, set only while it runs.

Set before INIT and each invocation, restored in ``finally``; what the handler changes is kept
for its next warm invocation: ``os.environ`` (Lambda's reserved variables + the function's own;
not the runner's, unless ``inherit_env``), ``sys.path`` (task root first), the cwd (the task
root, like /var/task), ``tempfile.tempdir`` and ``$TMPDIR`` (the size-limited dir), ``TZ``
(``:UTC``, with tzset).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sandbox.runtime._config import FunctionConfig
from sandbox.runtime.tmpdir import TmpDir

__all__ = ["RUNTIME_DIR", "ProcessState", "lambda_environ"]

# The runner's own code: LAMBDA_RUNTIME_DIR, and frames left out of a handler's traceback.
RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))
# Variables passed through from the runner even without inherit_env (Lambda sets its own).
_PASSTHROUGH = ("PATH", "LD_LIBRARY_PATH", "SSL_CERT_FILE", "SSL_CERT_DIR")


def lambda_environ(config: FunctionConfig, log_stream: str, tmp_path: str) -> dict[str, str]:
    """The variables Lambda sets for the runtime process, then the function's own."""
    if config.inherit_env:
        env = dict(os.environ)
    else:
        env = {k: os.environ[k] for k in _PASSTHROUGH if k in os.environ}
    py = f"python{sys.version_info.major}.{sys.version_info.minor}"
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": config.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": config.version,
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
            "AWS_REGION": config.region,
            "AWS_DEFAULT_REGION": config.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{py}",
            "LAMBDA_TASK_ROOT": config.task_root,
            "LAMBDA_RUNTIME_DIR": RUNTIME_DIR,
            "_HANDLER": config.handler,
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "TMPDIR": tmp_path,
        }
    )
    env.update(config.env)
    return env


def _replace_environ(target: Mapping[str, str]) -> None:
    current = os.environ
    for key in [k for k in current if k not in target]:
        del current[key]
    for key, value in target.items():
        if current.get(key) != value:
            current[key] = value


def _swap_boto3_session(session: Any) -> Any:
    """Put ``session`` in as boto3's module-level default session; return the one it replaced.
    ``boto3.client()`` caches its credentials there, so without this a second environment in
    this process (another sandbox, other keys) would reuse the first one's. Each environment
    keeps its own, as each Lambda execution environment is its own process."""
    boto3: Any = sys.modules.get("boto3")
    if boto3 is None:
        return None
    previous = getattr(boto3, "DEFAULT_SESSION", None)
    boto3.DEFAULT_SESSION = session
    return previous


class ProcessState:
    """The handler's view of the process for one execution environment, kept between calls."""

    def __init__(self, config: FunctionConfig, log_stream: str, tmp: TmpDir) -> None:
        self._tmp = tmp
        self.environ = lambda_environ(config, log_stream, tmp.path)
        root = config.task_root
        self.sys_path = [root, *(p for p in sys.path if p not in ("", root))]
        self.boto3_session: Any = None

    @contextmanager
    def scope(self, cwd: str, trace_id: str | None) -> Iterator[None]:
        """The handler's state inside the block (cwd ``cwd``); the runner's again afterwards."""
        tmp = self._tmp
        saved_env = os.environ.copy()
        saved_path = sys.path[:]
        saved_cwd = os.getcwd()
        saved_tempdir = tempfile.tempdir
        saved_session = _swap_boto3_session(self.boto3_session)
        environ = self.environ
        if trace_id is not None:
            environ = {**environ, "_X_AMZN_TRACE_ID": trace_id}
        tz_changes = saved_env.get("TZ") != environ.get("TZ")
        try:
            _replace_environ(environ)
            if tz_changes:
                time.tzset()
            sys.path[:] = self.sys_path
            os.chdir(cwd)
            tempfile.tempdir = tmp.path
            with tmp.enforce():
                yield
        finally:
            # Keep what the handler changed for its next warm invocation.
            self.environ = {k: v for k, v in os.environ.items() if k != "_X_AMZN_TRACE_ID"}
            self.sys_path = sys.path[:]
            _replace_environ(saved_env)
            if tz_changes or os.environ.get("TZ") != self.environ.get("TZ"):
                time.tzset()
            sys.path[:] = saved_path
            os.chdir(saved_cwd)
            tempfile.tempdir = saved_tempdir
            if "boto3" in sys.modules:  # it may have been imported by the handler just now
                self.boto3_session = _swap_boto3_session(saved_session)
