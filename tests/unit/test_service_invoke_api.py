"""The Invoke API's pure parts: function names and ARNs, payload checks, log tails."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest

from sandbox.runtime import Invocation
from sandbox.service.asyncq import AsyncEvent, AsyncInvoker
from sandbox.service.config import ServiceConfig
from sandbox.service.invoke_api import InvokeError, check_payload, resolve_name
from sandbox.service.logs import TAIL_BYTES, invocation_block, log_result
from sandbox.service.pool import Outcome

KNOWN = ["echo", "lambda-local-runner"]


@pytest.mark.parametrize(
    "raw",
    [
        "echo",
        "echo:$LATEST",
        "arn:aws:lambda:us-east-1:123456789012:function:echo",
        "arn:aws:lambda:eu-west-3:123456789012:function:echo:$LATEST",
        "123456789012:function:echo",
    ],
)
def test_a_name_an_arn_or_a_partial_arn_resolves_to_the_function(raw: str) -> None:
    assert resolve_name(raw, None, KNOWN, "us-east-1") == "echo"


def test_an_unknown_function_is_a_404_naming_the_arn_and_the_known_functions() -> None:
    with pytest.raises(InvokeError) as info:
        resolve_name("nope", None, KNOWN, "us-east-1")
    assert info.value.status == 404 and info.value.error_type == "ResourceNotFoundException"
    assert "arn:aws:lambda:us-east-1:123456789012:function:nope" in str(info.value)
    assert "echo, lambda-local-runner" in str(info.value)


def test_a_qualifier_other_than_latest_is_not_found_locally() -> None:
    with pytest.raises(InvokeError, match=r"only \$LATEST") as info:
        resolve_name("echo", "prod", KNOWN, "us-east-1")
    assert info.value.status == 404


def test_a_qualifier_in_the_name_must_match_the_query_qualifier() -> None:
    with pytest.raises(InvokeError, match="derived qualifier") as info:
        resolve_name("echo:$LATEST", "7", KNOWN, "us-east-1")
    assert info.value.error_type == "InvalidParameterValueException"


def test_a_name_breaking_the_models_pattern_is_invalid() -> None:
    with pytest.raises(InvokeError) as info:
        resolve_name("bad name!", None, KNOWN, "us-east-1")
    assert info.value.status == 400


def test_an_empty_payload_is_an_empty_object_as_on_lambda() -> None:
    assert check_payload(b"", "RequestResponse") == b"{}"


def test_payload_limits_are_6_mb_sync_and_1_mb_async() -> None:
    sync_ok = b'"' + b"x" * (6_291_456 - 2) + b'"'
    assert check_payload(sync_ok, "RequestResponse") is sync_ok
    with pytest.raises(InvokeError) as info:
        check_payload(sync_ok + b" ", "RequestResponse")
    assert info.value.status == 413 and info.value.error_type == "RequestTooLargeException"
    with pytest.raises(InvokeError, match="1048576 bytes"):
        check_payload(b'"' + b"x" * 1_048_576 + b'"', "Event")


def test_a_non_json_payload_is_invalid_request_content_with_a_hint() -> None:
    with pytest.raises(InvokeError) as info:
        check_payload(b"{not json", "RequestResponse")
    assert info.value.error_type == "InvalidRequestContentException"
    assert "raw-in-base64-out" in str(info.value)


def _invocation(**kw: object) -> Invocation:
    fields: dict[str, object] = {
        "request_id": "11111111-2222-3333-4444-555555555555",
        "status": "ok",
        "response": None,
        "error": None,
        "duration_ms": 12.345,
        "init_duration_ms": None,
        "memory_size_mb": 128,
        "max_memory_used_bytes": 40 * 1024 * 1024,
        "timeout_s": 3.0,
        "tmp_size_mb": 512,
        "tmp_peak_bytes": 0,
        "response_bytes": 2,
    }
    fields.update(kw)
    return Invocation(**fields)  # type: ignore[arg-type]


def test_an_invocation_block_is_start_output_end_report_in_that_order() -> None:
    block = invocation_block(_invocation(), output="hello\n", init_output="importing\n")
    lines = block.splitlines()
    assert lines[0] == "importing"
    assert lines[1].startswith("START RequestId: 11111111")
    assert lines[2] == "hello"
    assert lines[3].startswith("END RequestId:")
    assert lines[4].startswith("REPORT RequestId:") and lines[4].endswith("\t")


def test_a_handler_error_is_logged_before_end_as_lambdas_python_runtime_does() -> None:
    error = {"errorType": "ValueError", "errorMessage": "bad"}
    block = invocation_block(_invocation(status="error", error=error, traceback="Traceback ...\n"))
    assert "[ERROR] ValueError: bad\nTraceback ..." in block
    assert block.index("[ERROR]") < block.index("END RequestId")


def test_in_lambdas_json_format_the_block_has_platform_records_not_start_end_report() -> None:
    error = {"errorType": "ValueError", "errorMessage": "bad"}
    block = invocation_block(
        _invocation(status="error", error=error),
        output='plain print\n{"level": "WARN"}\n',
        init_output="importing\n",
        json_format=True,
    )
    lines = block.splitlines()
    assert lines[0] == "importing"
    records = [json.loads(line) for line in lines[1:] if line.startswith('{"time"')]
    kinds = ["platform.start", "platform.runtimeDone", "platform.report"]
    assert [r["type"] for r in records] == kinds
    assert all(r["record"]["requestId"].startswith("11111111") for r in records)
    assert records[0]["record"]["version"] == "$LATEST"
    assert records[1]["record"]["status"] == "failure"
    assert records[2]["record"]["status"] == "failure"
    assert set(records[2]["record"]["metrics"]) >= {
        "durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB"
    }  # fmt: skip
    assert "plain print" in lines  # stdout stays text in JSON mode, as on Lambda
    error_lines = [json.loads(x) for x in lines if x.startswith('{"timestamp"')]
    assert error_lines and error_lines[0]["errorType"] == "ValueError"
    assert "START RequestId" not in block and "REPORT RequestId" not in block


def test_log_result_is_base64_of_the_last_4_kb() -> None:
    block = "x" * 10_000 + "\nREPORT tail\n"
    data = base64.b64decode(log_result(block))
    assert len(data) == TAIL_BYTES and data.endswith(b"REPORT tail\n")


def test_the_service_config_file_is_0600_and_round_trips(tmp_path: Path) -> None:
    config = ServiceConfig(
        port=1,
        api_port=2,
        run_dir=str(tmp_path),
        webhook_token="secret-token",
        retry_delays=(0.1, 0.2),
    )
    path = config.save(tmp_path / "service.json")
    assert path.stat().st_mode & 0o777 == 0o600
    assert ServiceConfig.load(path) == config


def test_async_events_are_retried_after_each_delay_then_given_up_and_recorded(
    tmp_path: Path,
) -> None:
    attempts: list[str] = []

    async def run(event: AsyncEvent) -> Outcome:
        attempts.append(event.request_id)
        error = {"errorType": "RuntimeError", "errorMessage": f"attempt {event.attempts}"}
        return Outcome(_invocation(status="error", error=error), "", False, 0)

    async def scenario() -> AsyncInvoker:
        invoker = AsyncInvoker(
            run, retry_delays=(0.01, 0.02), concurrency=1, failures_path=tmp_path / "f.jsonl"
        )
        invoker.start()
        invoker.submit(AsyncEvent("echo", b'{"n": 1}', "rid-1"))
        for _ in range(200):
            if invoker.failures:
                break
            await asyncio.sleep(0.01)
        await invoker.stop()
        return invoker

    invoker = asyncio.run(scenario())
    assert attempts == ["rid-1"] * 3  # one attempt and Lambda's two retries, same request id
    (failure,) = invoker.failures
    assert [e["errorMessage"] for e in failure["errors"]] == ["attempt 1", "attempt 2", "attempt 3"]
    recorded = json.loads((tmp_path / "f.jsonl").read_text())
    assert recorded["payload"] == '{"n": 1}' and recorded["attempts"] == 3
    assert invoker.status()["retried"] == 2 and invoker.depth == 0


def test_events_still_queued_when_the_service_stops_are_recorded_not_dropped(
    tmp_path: Path,
) -> None:
    started = asyncio.Event()

    async def run(event: AsyncEvent) -> Outcome:
        started.set()
        await asyncio.sleep(60)  # still running when the service stops
        raise AssertionError("never reached")

    async def scenario() -> AsyncInvoker:
        invoker = AsyncInvoker(run, concurrency=1, failures_path=tmp_path / "f.jsonl")
        invoker.start()
        for n in range(3):
            invoker.submit(AsyncEvent("echo", b"{}", f"rid-{n}"))
        await started.wait()
        await invoker.stop()
        return invoker

    invoker = asyncio.run(scenario())
    assert sorted(f["request_id"] for f in invoker.failures) == ["rid-0", "rid-1", "rid-2"]
    assert {f["errors"][-1]["errorType"] for f in invoker.failures} == {"Service.Stopped"}
    assert len((tmp_path / "f.jsonl").read_text().splitlines()) == 3


def test_follow_prints_the_log_then_what_is_appended(tmp_path: Path) -> None:
    from sandbox.service.logs import FunctionLogs, follow

    logs = FunctionLogs(tmp_path / "logs")
    logs.append("echo", "START one\n")
    chunks = follow(logs.path("echo"), interval=0.01)
    assert next(chunks) == "START one\n"
    logs.append("echo", "START two\n")
    assert next(chunks) == "START two\n"
    chunks.close()
    assert logs.path("echo").stat().st_mode & 0o777 == 0o600


def test_a_json_payload_nested_too_deeply_is_invalid_request_content_not_a_500() -> None:
    # Found by the HTTP fuzz tests (issue 16): json.loads raised RecursionError -> aiohttp 500.
    deep = b'{"deep": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    with pytest.raises(InvokeError) as info:
        check_payload(deep, "RequestResponse")
    assert (info.value.status, info.value.error_type) == (400, "InvalidRequestContentException")
