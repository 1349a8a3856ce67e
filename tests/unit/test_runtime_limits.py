"""Payload limits with Lambda's own errors, and the REPORT line's figures."""

from __future__ import annotations

import pytest

from sandbox.runtime import (
    ASYNC_REQUEST_LIMIT,
    SYNC_REQUEST_LIMIT,
    SYNC_RESPONSE_LIMIT,
    Environment,
    FunctionConfig,
    Invocation,
    PayloadTooLarge,
)

H = "tests.unit.handlers.probes"


def _string_event(total_bytes: int) -> str:
    return "A" * (total_bytes - 2)  # JSON adds the two quotes


def test_a_synchronous_request_over_6_mb_is_refused_before_the_handler_runs() -> None:
    with Environment(FunctionConfig(handler=f"{H}.count")) as env:
        with pytest.raises(PayloadTooLarge) as info:
            env.invoke(_string_event(SYNC_REQUEST_LIMIT + 1))
        assert env.invoke("x").response["calls"] == 1  # the refused one never ran
    assert info.value.error_type == "RequestEntityTooLargeException"
    assert str(info.value) == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )


def test_a_synchronous_request_of_exactly_6_mb_is_accepted() -> None:
    with Environment(FunctionConfig(handler=f"{H}.count")) as env:
        assert env.invoke(_string_event(SYNC_REQUEST_LIMIT)).ok


def test_an_event_invocation_over_1_mb_is_refused_though_it_fits_synchronously() -> None:
    event = _string_event(ASYNC_REQUEST_LIMIT + 1)
    with Environment(FunctionConfig(handler=f"{H}.count")) as env:
        with pytest.raises(PayloadTooLarge, match="smaller than 1048576 bytes"):
            env.invoke(event, invocation_type="Event")
        assert env.invoke(event).ok
        assert env.invoke("x", invocation_type="Event").status_code == 202


def test_a_response_over_6_mb_fails_with_function_response_size_too_large() -> None:
    with Environment(FunctionConfig(handler=f"{H}.big_response")) as env:
        too_big = env.invoke({"bytes": SYNC_RESPONSE_LIMIT})  # + 2 quotes
        fits = env.invoke({"bytes": SYNC_RESPONSE_LIMIT - 2})
    assert too_big.error == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": (
            "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
        ),
    }
    assert too_big.status == "error"
    assert fits.ok and fits.response_bytes == SYNC_RESPONSE_LIMIT


def _inv(**kw: object) -> Invocation:
    base: dict[str, object] = {
        "request_id": "r-1",
        "status": "ok",
        "response": None,
        "error": None,
        "duration_ms": 12.3401,
        "init_duration_ms": None,
        "memory_size_mb": 512,
        "max_memory_used_bytes": 40 * 1024 * 1024 + 1,
        "timeout_s": 3.0,
        "tmp_size_mb": 512,
        "tmp_peak_bytes": 1024 * 1024,
        "response_bytes": 4,
    }
    base.update(kw)
    return Invocation(**base)  # type: ignore[arg-type]


def test_the_report_line_has_lambdas_fields_two_decimal_durations_and_billing_rounded_up() -> None:
    inv = _inv()
    assert inv.report_line().split("\t") == [
        "REPORT RequestId: r-1",
        "Duration: 12.34 ms",
        "Billed Duration: 13 ms",
        "Memory Size: 512 MB",
        "Max Memory Used: 41 MB",
        "Tmp Used: 1.00 MB of 512 MB",
    ]
    assert inv.start_line() == "START RequestId: r-1 Version: $LATEST"
    assert inv.end_line() == "END RequestId: r-1"


def test_billed_duration_adds_init_on_a_cold_start() -> None:
    inv = _inv(duration_ms=10.2, init_duration_ms=250.5)
    assert inv.billed_duration_ms == 261
    assert "Init Duration: 250.50 ms" in inv.report_line()


def test_a_timeout_reports_status_timeout_and_the_task_timed_out_line() -> None:
    inv = _inv(status="timeout", duration_ms=3000.0)
    assert inv.lines()[1] == "r-1 Task timed out after 3.00 seconds"
    assert "\tStatus: timeout" in inv.report_line()


def test_to_dict_carries_every_figure_for_scripts() -> None:
    d = _inv().to_dict()
    for key in ("billed_duration_ms", "max_memory_used_mb", "would_be_killed", "report", "cold"):
        assert key in d
