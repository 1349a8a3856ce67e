"""Lambda's log formats: the function's ``logging`` lines and the platform's own records.

Lambda's *advanced logging controls* give a function a log format (``Text`` or ``JSON``) and,
for JSON, an application log level; the Python runtime reads them from ``AWS_LAMBDA_LOG_FORMAT``
and ``AWS_LAMBDA_LOG_LEVEL`` and puts one handler on the root logger. We do the same, for the
length of one INIT or one invocation only (`FunctionLogs.scope`), and put the runner's logging
back afterwards. Sources followed:

- https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html
  (formats, levels; TRACE..FATAL; JSON's default application level is INFO)
- https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html#python-logging-advanced
  (the JSON application line: ``timestamp``, ``level``, ``message``, ``logger``,
  ``requestId``, ``extra`` keys at the top level, ``errorType``/``errorMessage``/
  ``stackTrace``/``location`` for exceptions)
- https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html
  (``platform.start``, ``platform.runtimeDone``, ``platform.report`` records; the ``time``,
  ``type``, ``record`` envelope and the ``metrics`` names)
- aws-lambda-python-runtime-interface-client (``awslambdaric``), whose ``bootstrap.py`` and
  ``lambda_runtime_log_utils.py`` are what Lambda's Python runtime runs: the text pattern
  ``[LEVEL]\\t<UTC time>.<ms>Z\\t<requestId>\\t<message>`` and the JSON keys above.

The formatters and the ``platform_*`` builders are public so the local service's worker
processes print the same lines.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from sandbox.runtime.invocation import Invocation

__all__ = [
    "LEVELS",
    "LOG_FORMAT_ENV",
    "LOG_LEVEL_ENV",
    "FunctionLogs",
    "JsonFormatter",
    "LogFormat",
    "TextFormatter",
    "error_line",
    "log_settings",
    "platform_line",
    "platform_report",
    "platform_runtime_done",
    "platform_start",
]

LOG_FORMAT_ENV = "AWS_LAMBDA_LOG_FORMAT"
LOG_LEVEL_ENV = "AWS_LAMBDA_LOG_LEVEL"
LogFormat = Literal["Text", "JSON"]
#: Lambda's application log levels and the Python level each one filters at.
LEVELS: dict[str, int] = {
    "TRACE": logging.DEBUG,  # Python has no TRACE: the runtime maps it to DEBUG
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
}
_DATE = "%Y-%m-%dT%H:%M:%S"
# LogRecord attributes that are the record itself, not an `extra=` the caller added.
_RECORD_KEYS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "aws_request_id", "taskName"}
)


def log_settings(environ: Mapping[str, str] | None = None) -> tuple[LogFormat, int | None]:
    """The format and root level the function's environment asks for. JSON without a level
    is INFO (Lambda's default application level); Text without one leaves the level alone,
    as the Python runtime does. Unknown values are ignored, as the runtime ignores them."""
    env = os.environ if environ is None else environ
    fmt: LogFormat = "JSON" if env.get(LOG_FORMAT_ENV, "").upper() == "JSON" else "Text"
    raw = env.get(LOG_LEVEL_ENV, "").upper()
    level = LEVELS.get(raw, logging._nameToLevel.get(raw) if raw else None)
    if level is None and fmt == "JSON":
        level = logging.INFO
    return fmt, level


def _utc(created: float) -> str:
    """``2026-11-28T21:40:01.123Z``: UTC, milliseconds, as Lambda stamps its lines."""
    dt = datetime.fromtimestamp(created, tz=UTC)
    return dt.strftime(_DATE) + f".{dt.microsecond // 1000:03d}Z"


class TextFormatter(logging.Formatter):
    """``[INFO]\\t2026-11-28T21:40:01.123Z\\t<requestId>\\tmessage``, one record per line
    (an exception's traceback follows on the lines after it, as on Lambda)."""

    converter = staticmethod(time.gmtime)

    def __init__(self) -> None:
        super().__init__(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", _DATE
        )

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "aws_request_id"):
            record.aws_request_id = ""
        return super().format(record) + "\n"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``timestamp``, ``level``, ``message``, ``logger``,
    ``requestId``, then every ``extra=`` key; exceptions add ``errorType``, ``errorMessage``,
    ``stackTrace`` and ``location``. Keys without a value are left out, as Lambda does."""

    def format(self, record: logging.LogRecord) -> str:
        # Lambda files custom levels under the standard one below them (e.g. 25 -> INFO).
        level = min(50, max(0, record.levelno)) // 10 * 10
        line: dict[str, Any] = {
            "timestamp": _utc(record.created),
            "level": logging.getLevelName(level),
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", None) or None,
        }
        if record.exc_info and record.exc_info[0] is not None:
            etype, evalue, tb = record.exc_info
            line.update(
                errorType=etype.__name__,
                errorMessage=str(evalue),
                stackTrace=traceback.format_tb(tb),
                location=f"{record.pathname}:{record.funcName}:{record.lineno}",
            )
        for key, value in vars(record).items():
            if key not in _RECORD_KEYS and key not in line:
                line[key] = value
        return json.dumps({k: v for k, v in line.items() if v is not None}, default=str) + "\n"


class _LambdaHandler(logging.Handler):
    """Writes to the current ``sys.stdout`` (looked up per record, so a caller's redirect, such
    as ``invoke.py --json`` sending the function's output to stderr, applies), as Lambda's
    runtime writes the function's log lines to its stdout."""

    def __init__(self, request_id: str, stream: TextIO | None) -> None:
        super().__init__()
        self.request_id = request_id
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record.aws_request_id = self.request_id
            out = self.stream if self.stream is not None else sys.stdout
            out.write(self.format(record))
            out.flush()
        except Exception:
            self.handleError(record)


class FunctionLogs:
    """The function's side of the root logger, for one execution environment.

    ``scope(request_id)`` installs Lambda's handler on the root logger and the function's root
    level for one INIT or invocation, then restores the runner's. The level the function
    leaves (``logging.getLogger().setLevel(logging.INFO)`` at import time is common) is kept
    for its next invocation, as it would persist in a real execution environment.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._level: int | None = None  # the function's root level between scopes
        self._handler: _LambdaHandler | None = None

    @contextmanager
    def scope(
        self, request_id: str = "", environ: Mapping[str, str] | None = None
    ) -> Iterator[LogFormat]:
        """Read the settings from ``environ`` (default: ``os.environ``, which is the function's
        environment inside the runtime's process scope) and yield the format in use."""
        fmt, level = log_settings(environ)
        root = logging.getLogger()
        runner_level = root.level
        if self._level is None:
            self._level = level if level is not None else runner_level
        handler = _LambdaHandler(request_id, self.stream)
        handler.setFormatter(JsonFormatter() if fmt == "JSON" else TextFormatter())
        root.setLevel(self._level)
        root.addHandler(handler)
        self._handler = handler
        try:
            yield fmt
        finally:
            self._handler = None
            root.removeHandler(handler)
            self._level = root.level
            root.setLevel(runner_level)

    @contextmanager
    def init_phase(self) -> Iterator[None]:
        """INIT run by a cold invoke: its lines carry no request id (INIT comes before the
        request, as on Lambda), then the invocation's lines do."""
        handler = self._handler
        if handler is None:
            yield
            return
        saved, handler.request_id = handler.request_id, ""
        try:
            yield
        finally:
            handler.request_id = saved


# -- the platform's records ----------------------------------------------------------------


def platform_line(kind: str, record: Mapping[str, Any], when: float | None = None) -> str:
    """``{"time": ..., "type": "platform.<kind>", "record": {...}}`` as one line."""
    envelope = {
        "time": _utc(time.time() if when is None else when),
        "type": f"platform.{kind}",
        "record": dict(record),
    }
    return json.dumps(envelope)


def platform_start(request_id: str, version: str = "$LATEST", when: float | None = None) -> str:
    """What Lambda logs where the text format has ``START RequestId: ... Version: ...``."""
    return platform_line("start", {"requestId": request_id, "version": version}, when)


def _status(inv: Invocation) -> str:
    # The Telemetry API's status values: success, failure (the function's error),
    # error (the runtime's own, e.g. INIT), timeout.
    if inv.status == "timeout":
        return "timeout"
    if inv.error is None:
        return "success"
    error_type = str(inv.error.get("errorType", ""))
    return "error" if error_type.startswith("Runtime.") else "failure"


def _outcome(inv: Invocation) -> dict[str, Any]:
    out: dict[str, Any] = {"requestId": inv.request_id, "status": _status(inv)}
    if inv.error is not None and inv.error.get("errorType"):
        out["errorType"] = inv.error["errorType"]
    return out


def platform_runtime_done(inv: Invocation, when: float | None = None) -> str:
    """Where the text format has ``END RequestId: ...``: how the runtime finished."""
    record = {
        **_outcome(inv),
        "metrics": {"durationMs": round(inv.duration_ms, 3), "producedBytes": inv.response_bytes},
    }
    return platform_line("runtimeDone", record, when)


def platform_report(inv: Invocation, when: float | None = None) -> str:
    """Where the text format has ``REPORT ...``: the billed figures (``initDurationMs`` on a
    cold start only, as on Lambda)."""
    metrics: dict[str, Any] = {
        "durationMs": round(inv.duration_ms, 2),
        "billedDurationMs": inv.billed_duration_ms,
        "memorySizeMB": inv.memory_size_mb,
        "maxMemoryUsedMB": inv.max_memory_used_mb,
    }
    if inv.init_duration_ms is not None:
        metrics["initDurationMs"] = round(inv.init_duration_ms, 2)
    return platform_line("report", {**_outcome(inv), "metrics": metrics}, when)


def error_line(inv: Invocation, when: float | None = None) -> str:
    """The handler's unhandled error as a JSON ERROR line (the fields the JSON formatter
    gives an exception), for JSON mode where text mode prints ``[ERROR] Type: message``."""
    err = inv.error or {}
    line = {
        "timestamp": _utc(time.time() if when is None else when),
        "level": "ERROR",
        "message": str(err.get("errorMessage", "")),
        "requestId": inv.request_id,
        "errorType": err.get("errorType"),
        "errorMessage": err.get("errorMessage"),
        "stackTrace": err.get("stackTrace"),
    }
    return json.dumps({k: v for k, v in line.items() if v is not None})
