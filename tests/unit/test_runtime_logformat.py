"""Lambda's log formats: the function's logging lines (Text, JSON) and the platform records."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest

from sandbox.runtime import Environment, FunctionConfig
from sandbox.runtime.logformat import (
    FunctionLogs,
    log_settings,
    platform_report,
    platform_runtime_done,
    platform_start,
)

H = "tests.unit.handlers"
# [LEVEL]\t<UTC timestamp with ms>Z\t<requestId>\t<message>
TEXT_LINE = re.compile(
    r"^\[(DEBUG|INFO|WARNING|ERROR|CRITICAL)\]\t"
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t"
    r"([0-9a-f-]{36}|)\t(.*)$"
)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _invoke(handler: str, env: dict[str, str], times: int = 1) -> list[Any]:
    with Environment(FunctionConfig(handler=handler, env=env)) as lam:
        return [lam.invoke({}) for _ in range(times)]


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_text_format_lines_match_lambdas_pattern_with_the_request_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    (inv,) = _invoke(f"{H}.logs.handler", {"AWS_LAMBDA_LOG_LEVEL": "INFO"})
    out = capsys.readouterr().out
    rows = [m for m in map(TEXT_LINE.match, out.splitlines()) if m]
    assert [(m[1], m[3]) for m in rows] == [
        ("WARNING", "imported"),
        ("INFO", "order 7 received"),
        ("WARNING", "stock low"),
        ("ERROR", "lookup failed"),
    ]
    assert rows[0][2] == ""  # INIT: no request yet
    assert {m[2] for m in rows[1:]} == {inv.request_id}
    assert "KeyError: 'sku-9'" in out  # the traceback follows the ERROR line


def test_json_format_gives_one_parseable_object_per_line_with_lambdas_field_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    (inv,) = _invoke(f"{H}.logs.handler", {"AWS_LAMBDA_LOG_FORMAT": "JSON"})
    lines = _json_lines(capsys.readouterr().out)  # every line parses, or this raises
    assert [(x["level"], x["message"]) for x in lines] == [
        ("WARNING", "imported"),
        ("INFO", "order 7 received"),  # JSON's default level is INFO: no DEBUG line
        ("WARNING", "stock low"),
        ("ERROR", "lookup failed"),
    ]
    for line in lines:
        assert {"timestamp", "level", "message", "logger"} <= line.keys()
        assert STAMP.match(line["timestamp"]) and line["logger"] == "app"
    assert "requestId" not in lines[0]  # INIT: no request, so no key (as Lambda leaves it out)
    assert {x["requestId"] for x in lines[1:]} == {inv.request_id}
    assert lines[1]["order_id"] == 42 and lines[1]["shop"] == "north"  # extra= at top level
    error = lines[3]
    assert error["errorType"] == "KeyError" and error["errorMessage"] == "'sku-9'"
    assert isinstance(error["stackTrace"], list) and error["stackTrace"]
    assert error["location"].endswith(":handler:19")


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("DEBUG", ["WARNING", "DEBUG", "INFO", "WARNING", "ERROR"]),
        ("TRACE", ["WARNING", "DEBUG", "INFO", "WARNING", "ERROR"]),
        ("WARN", ["WARNING", "WARNING", "ERROR"]),
        ("ERROR", ["ERROR"]),
    ],
)
def test_json_lines_are_filtered_by_the_application_log_level(
    level: str, expected: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    _invoke(f"{H}.logs.handler", {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": level})
    assert [x["level"] for x in _json_lines(capsys.readouterr().out)] == expected


def test_the_runners_root_logger_is_restored_after_each_invocation() -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    _invoke(f"{H}.root_level.handler", {"AWS_LAMBDA_LOG_LEVEL": "DEBUG"}, times=2)
    assert (root.level, list(root.handlers)) == before


def test_a_root_level_set_at_init_holds_for_the_warm_invocations_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _invoke(f"{H}.root_level.handler", {}, times=2)  # Text, no level: the function's choice
    infos = [x for x in capsys.readouterr().out.splitlines() if x.startswith("[INFO]")]
    assert len(infos) == 2


def test_settings_follow_lambdas_env_vars_and_defaults() -> None:
    assert log_settings({}) == ("Text", None)
    assert log_settings({"AWS_LAMBDA_LOG_FORMAT": "json"}) == ("JSON", logging.INFO)
    assert log_settings({"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "fatal"}) == (
        "JSON",
        logging.CRITICAL,
    )
    assert log_settings({"AWS_LAMBDA_LOG_LEVEL": "nonsense"}) == ("Text", None)


def test_a_scope_writes_to_the_stream_it_was_given_and_removes_its_handler() -> None:
    import io

    out = io.StringIO()
    logs = FunctionLogs(stream=out)
    with logs.scope("rid-1", {"AWS_LAMBDA_LOG_FORMAT": "JSON"}) as fmt:
        logging.getLogger("x").warning("w")
    logging.getLogger("x").warning("after the scope: not ours")
    assert fmt == "JSON"
    (line,) = _json_lines(out.getvalue())
    assert line["requestId"] == "rid-1" and line["message"] == "w"


def test_platform_records_carry_the_telemetry_api_names_and_metrics() -> None:
    cold, warm = _invoke(f"{H}.noop.handler", {}, times=2)
    start = json.loads(platform_start(cold.request_id))
    assert start["type"] == "platform.start" and STAMP.match(start["time"])
    assert start["record"] == {"requestId": cold.request_id, "version": "$LATEST"}
    done = json.loads(platform_runtime_done(cold))
    assert done["type"] == "platform.runtimeDone"
    assert done["record"]["status"] == "success" and "durationMs" in done["record"]["metrics"]
    report = json.loads(platform_report(cold))
    assert report["type"] == "platform.report" and UUID.match(report["record"]["requestId"])
    assert report["record"]["status"] == "success"
    metrics = report["record"]["metrics"]
    assert set(metrics) == {
        "durationMs",
        "billedDurationMs",
        "memorySizeMB",
        "maxMemoryUsedMB",
        "initDurationMs",
    }
    assert metrics["billedDurationMs"] == cold.billed_duration_ms
    assert metrics["memorySizeMB"] == 512 and metrics["maxMemoryUsedMB"] == cold.max_memory_used_mb
    assert "initDurationMs" not in json.loads(platform_report(warm))["record"]["metrics"]


def test_a_failed_invocation_is_reported_as_failure_with_its_error_type() -> None:
    (inv,) = _invoke("tests.unit.handlers.probes.boom", {})
    record = json.loads(platform_report(inv))["record"]
    assert record["status"] == "failure" and record["errorType"] == inv.error["errorType"]


def test_powertools_logger_keeps_working_unchanged_inside_the_handler(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"}
    (inv,) = _invoke(f"{H}.powertools_logger.handler", env)
    assert inv.ok, inv.error
    lines = _json_lines(capsys.readouterr().out)  # all JSON: no line formatted twice
    (info,) = [x for x in lines if x.get("message") == "powertools info"]
    assert info["level"] == "INFO" and info["service"] == "orders" and info["order_id"] == 42
    assert info["function_request_id"] == inv.request_id  # from our LambdaContext
    assert info["function_memory_size"] in (512, "512")
    assert not [x for x in lines if x.get("message") == "powertools debug"]  # level honoured
