"""The Invoke API through boto3's real ``lambda`` client, against the running service.

Everything a caller of ``Invoke`` sees: the status codes of the three invocation types,
the payload, ``FunctionError``, ``LogResult`` and ``ExecutedVersion``, and each error as the
modelled exception botocore raises for it.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from tests.integration.service.conftest import manifests, put_pdfs, wait_for

pytestmark = pytest.mark.integration

# Lambda's REPORT line, as aws-lambda-power-tuning and log parsers read it.
REPORT = re.compile(
    r"^REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms\t"
    r"Memory Size: \d+ MB\tMax Memory Used: \d+ MB\t",
    re.MULTILINE,
)


def _payload(response: dict[str, Any]) -> Any:
    return json.loads(response["Payload"].read())


def test_request_response_returns_the_sample_functions_response(
    lam: Any, s3: Any, data_bucket: str
) -> None:
    put_pdfs(s3, data_bucket, ["2026/04/a.pdf", "2026/04/b.pdf", "2026/04/notes.txt"])
    response = lam.invoke(
        FunctionName="lambda-local-runner",
        Payload=json.dumps({"bucket": data_bucket, "prefix": "2026/04/"}),
    )
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    body = _payload(response)
    assert body["count"] == 2
    assert body["manifest_key"] in manifests(s3, data_bucket)


def test_event_returns_202_and_the_manifest_appears(lam: Any, s3: Any, data_bucket: str) -> None:
    put_pdfs(s3, data_bucket, ["2026/05/a.pdf"])
    response = lam.invoke(
        FunctionName="lambda-local-runner",
        InvocationType="Event",
        Payload=json.dumps({"bucket": data_bucket, "prefix": "2026/05/"}),
    )
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    found = wait_for(lambda: manifests(s3, data_bucket), timeout=30, what="the manifest")
    assert len(found) == 1


def test_dry_run_returns_204_and_runs_nothing(lam: Any, service: Any) -> None:
    before = service.status()["functions"]["echo"]["invocations"]
    response = lam.invoke(FunctionName="echo", InvocationType="DryRun", Payload=b"{}")
    assert response["StatusCode"] == 204
    assert response["Payload"].read() == b""
    assert service.status()["functions"]["echo"]["invocations"] == before


def test_tail_log_result_decodes_to_start_output_end_and_a_lambda_report(lam: Any) -> None:
    response = lam.invoke(FunctionName="echo", Payload=b'{"hello": "log"}', LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    request_id = _payload(response)["request_id"]
    assert f"START RequestId: {request_id} Version: $LATEST" in log
    assert "echo got {'hello': 'log'}" in log  # print()
    assert "to stderr" in log  # sys.stderr
    assert "[WARNING]\t" in log and f"\t{request_id}\ta warning from the handler" in log
    assert log.count("a warning from the handler") == 1  # one root handler, not two
    assert f"END RequestId: {request_id}" in log
    assert REPORT.search(log), log
    assert log.index("START") < log.index("echo got") < log.index("END") < log.index("REPORT")


def test_json_log_format_gives_json_logging_lines_and_platform_records(
    lam: Any, service: Any
) -> None:
    response = lam.invoke(FunctionName="echo-json", Payload=b'{"hello": "json"}', LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    request_id = _payload(response)["request_id"]
    lines = log.splitlines()
    assert "echo got {'hello': 'json'}" in lines  # print() stays plain text, as on Lambda
    objects = [json.loads(line) for line in lines if line.startswith("{")]
    app = [o for o in objects if "level" in o]
    assert len(app) == 1, log  # the warning, once; nothing under WARN
    # awslambdaric writes logging.getLevelName(levelno): "WARNING" (the level setting says WARN)
    assert app[0]["level"] == "WARNING" and app[0]["message"] == "a warning from the handler"
    assert app[0]["logger"] == "handlers" and app[0]["requestId"] == request_id
    assert app[0]["timestamp"].endswith("Z")
    platform = {o["type"]: o["record"] for o in objects if "type" in o}
    assert list(platform) == ["platform.start", "platform.runtimeDone", "platform.report"]
    assert all(r["requestId"] == request_id for r in platform.values())
    metrics = platform["platform.report"]["metrics"]
    assert metrics["memorySizeMB"] == 128 and metrics["billedDurationMs"] >= 1
    assert "START RequestId" not in log and not REPORT.search(log)
    # The function's log file (what `python -m sandbox logs echo-json` shows) gets the block.
    text = (Path(service.config.run_dir) / "logs" / "echo-json.log").read_text()
    assert log in text


def test_tail_log_result_is_the_last_4_kb(lam: Any) -> None:
    response = lam.invoke(
        FunctionName="echo", Payload=json.dumps({"x": "y" * 10_000}), LogType="Tail"
    )
    log = base64.b64decode(response["LogResult"])
    assert len(log) == 4096
    assert REPORT.search(log.decode(errors="replace"))


def test_the_log_file_gets_every_invocation(lam: Any, service: Any) -> None:
    response = lam.invoke(FunctionName="echo", Payload=b'{"to": "file"}')
    request_id = _payload(response)["request_id"]
    text = (Path(service.config.run_dir) / "logs" / "echo.log").read_text()
    block = text[text.index(f"START RequestId: {request_id}") :]
    assert "echo got {'to': 'file'}" in block
    assert REPORT.search(block)


def test_an_unknown_function_raises_resource_not_found(lam: Any) -> None:
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as info:
        lam.invoke(FunctionName="no-such-function", Payload=b"{}")
    assert (
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:no-such-function"
        in str(info.value)
    )
    assert "echo" in str(info.value)  # says which functions there are


def test_except_client_exceptions_resource_not_found_works(lam: Any) -> None:
    try:
        lam.invoke(FunctionName="nope")
    except lam.exceptions.ResourceNotFoundException as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    else:  # pragma: no cover - the assertion is the point
        pytest.fail("no ResourceNotFoundException")


def test_a_7_mb_payload_raises_request_too_large(lam: Any) -> None:
    payload = json.dumps({"blob": "x" * (7 * 1024 * 1024)}).encode()
    with pytest.raises(lam.exceptions.RequestTooLargeException) as info:
        lam.invoke(FunctionName="echo", Payload=payload)
    assert "Request must be smaller than 6291456 bytes" in str(info.value)


def test_an_event_over_1_mb_raises_request_too_large(lam: Any) -> None:
    payload = json.dumps({"blob": "x" * (1024 * 1024 + 10)}).encode()
    with pytest.raises(lam.exceptions.RequestTooLargeException, match="1048576 bytes"):
        lam.invoke(FunctionName="echo", InvocationType="Event", Payload=payload)


def test_a_handler_error_returns_function_error_unhandled(lam: Any) -> None:
    response = lam.invoke(FunctionName="boom", Payload=b"{}")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = _payload(response)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom: the handler failed on purpose"
    assert any("handlers.py" in frame for frame in error["stackTrace"])


def test_a_non_json_body_raises_invalid_request_content(lam: Any) -> None:
    with pytest.raises(lam.exceptions.InvalidRequestContentException, match="Could not parse"):
        lam.invoke(FunctionName="echo", Payload=b"this is not json")


def test_an_unknown_handler_returns_lambdas_import_module_error(lam: Any) -> None:
    response = lam.invoke(FunctionName="missing", Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    error = _payload(response)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'no_such_module'" in error["errorMessage"]


def test_a_timeout_returns_lambdas_error_payload_and_a_fresh_environment(lam: Any) -> None:
    first = _payload(lam.invoke(FunctionName="sleepy", Payload=b'{"seconds": 5}', LogType="None"))
    assert first["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(
        r"RequestId: \S+ Error: Task timed out after 1\.00 seconds", first["errorMessage"]
    )
    response = lam.invoke(FunctionName="sleepy", Payload=b'{"seconds": 0}', LogType="Tail")
    assert _payload(response) == "woke up"
    assert "Init Duration" in base64.b64decode(response["LogResult"]).decode()  # cold again


def test_function_names_may_be_arns_with_the_latest_qualifier(lam: Any) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:echo"
    for name, qualifier in (
        (arn, None),
        (f"{arn}:$LATEST", None),
        ("123456789012:function:echo", "$LATEST"),
    ):
        kwargs = {"Qualifier": qualifier} if qualifier else {}
        response = lam.invoke(FunctionName=name, Payload=b'{"n": 1}', **kwargs)
        assert _payload(response)["event"] == {"n": 1}


def test_a_published_version_or_alias_is_not_found_locally(lam: Any) -> None:
    with pytest.raises(lam.exceptions.ResourceNotFoundException, match="only \\$LATEST"):
        lam.invoke(FunctionName="echo", Qualifier="7", Payload=b"{}")


def test_client_context_reaches_the_handler_and_bad_context_is_refused(lam: Any) -> None:
    bad = base64.b64encode(b"not json").decode()
    with pytest.raises(lam.exceptions.InvalidRequestContentException, match="Client context"):
        lam.invoke(FunctionName="echo", ClientContext=bad, Payload=b"{}")


def test_every_error_the_service_sends_is_in_botocores_model_for_invoke() -> None:
    model = botocore.session.get_session().get_service_model("lambda")
    errors = {
        shape.name: shape.metadata["error"]["httpStatusCode"]
        for shape in model.operation_model("Invoke").error_shapes
    }
    sent = {
        "ResourceNotFoundException": 404,
        "RequestTooLargeException": 413,
        "InvalidRequestContentException": 400,
        "InvalidParameterValueException": 400,
        "TooManyRequestsException": 429,
        "ServiceException": 500,
    }
    for name, status in sent.items():
        assert errors[name] == status, name
