"""The pytest fixtures users get for their own handlers (no S3 needed here)."""

from __future__ import annotations

from typing import Any

# The fixtures come from the project's pytest plugin (entry point pytest11).

H = "tests.unit.handlers.probes"


def test_the_context_factory_takes_a_clock_and_a_timeout(lambda_context: Any) -> None:
    ctx = lambda_context(timeout=2, clock=lambda: 0.0)
    assert ctx.get_remaining_time_in_millis() == 2000


def test_the_event_factory_makes_every_caller(lambda_event: Any) -> None:
    assert lambda_event("direct", bucket="b-1", prefix="p/") == {"bucket": "b-1", "prefix": "p/"}
    assert lambda_event("apigw", bucket="b-1")["queryStringParameters"] == {"bucket": "b-1"}


def test_the_invoke_fixture_keeps_one_warm_environment_per_config(lambda_invoke: Any) -> None:
    first = lambda_invoke({}, f"{H}.count")
    second = lambda_invoke({}, f"{H}.count")
    cold_again = lambda_invoke({}, f"{H}.count", cold=True)
    other = lambda_invoke({}, f"{H}.count", memory_mb=1024)
    assert (first.cold, second.cold, cold_again.cold, other.cold) == (True, False, True, True)
    assert second.response["calls"] == 2
    assert "REPORT RequestId:" in second.report_line()
