"""The context object: every attribute Lambda's Python runtime provides, and a deadline."""

from __future__ import annotations

from sandbox.runtime import Environment, FunctionConfig, LambdaContext

H = "tests.unit.handlers.probes"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_remaining_time_counts_down_from_the_timeout() -> None:
    clock = FakeClock()
    ctx = LambdaContext.create(timeout=3, clock=clock)
    assert ctx.get_remaining_time_in_millis() == 3000
    clock.now += 1.25
    assert ctx.get_remaining_time_in_millis() == 1750
    clock.now += 1.75
    assert ctx.get_remaining_time_in_millis() == 0


def test_remaining_time_never_goes_below_zero() -> None:
    clock = FakeClock()
    ctx = LambdaContext.create(timeout=1, clock=clock)
    clock.now += 60
    assert ctx.get_remaining_time_in_millis() == 0


def test_context_has_every_attribute_the_python_runtime_provides() -> None:
    ctx = LambdaContext.create(function_name="f", memory_mb=256, region="eu-west-1")
    assert ctx.function_name == "f"
    assert ctx.function_version == "$LATEST"
    assert ctx.invoked_function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:f"
    assert ctx.memory_limit_in_mb == "256"  # a string, as in awslambdaric
    assert ctx.log_group_name == "/aws/lambda/f"
    assert "/[$LATEST]" in ctx.log_stream_name
    assert ctx.identity.cognito_identity_id is None
    assert ctx.identity.cognito_identity_pool_id is None
    assert ctx.client_context is None
    assert len(ctx.aws_request_id) == 36


def test_a_qualified_version_appears_in_the_invoked_arn() -> None:
    ctx = LambdaContext.create(function_name="f", function_version="7")
    assert ctx.invoked_function_arn.endswith(":function:f:7")


def test_client_context_and_identity_come_from_the_mobile_sdk_fields() -> None:
    ctx = LambdaContext.create(
        identity={"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"},
        client_context={"client": {"app_title": "app"}, "custom": {"a": 1}, "env": {"b": 2}},
    )
    assert ctx.identity.cognito_identity_id == "id-1"
    assert ctx.identity.cognito_identity_pool_id == "pool-1"
    assert ctx.client_context is not None
    assert ctx.client_context.client is not None
    assert ctx.client_context.client.app_title == "app"
    assert ctx.client_context.custom == {"a": 1}


def test_the_handler_sees_the_context_and_a_fresh_request_id_per_invocation() -> None:
    clock = FakeClock()
    cfg = FunctionConfig(handler=f"{H}.context_attrs", function_name="fn", memory_mb=1024)
    with Environment(cfg, clock=clock) as env:
        first, second = env.invoke({}), env.invoke({})
    assert first.response["aws_request_id"] == first.request_id
    assert second.response["aws_request_id"] == second.request_id
    assert first.request_id != second.request_id
    assert first.response["memory_limit_in_mb"] == "1024"
    assert first.response["function_name"] == "fn"
    assert first.response["remaining"] == 30_000  # the clock did not move
    assert first.response["log_stream_name"] == second.response["log_stream_name"]
