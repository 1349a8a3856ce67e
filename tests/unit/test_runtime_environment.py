"""Lifecycle (INIT, warm, cold), env vars and process state, errors, timeouts."""

from __future__ import annotations

import os
import sys
import tempfile

import pytest

from sandbox.runtime import ConfigError, Environment, FunctionConfig

H = "tests.unit.handlers.probes"


def env_for(handler: str, **kw: object) -> Environment:
    return Environment(FunctionConfig(handler=handler, **kw))  # type: ignore[arg-type]


def test_the_first_invocation_is_cold_with_init_duration_and_the_next_is_warm() -> None:
    with env_for("tests.unit.handlers.slow_init.handler") as env:
        cold, warm = env.invoke({}), env.invoke({})
    assert cold.cold and cold.init_duration_ms is not None
    assert cold.init_duration_ms >= 50  # the module spends 50 ms at import
    assert not warm.cold and warm.init_duration_ms is None
    assert "Init Duration:" in cold.report_line()
    assert "Init Duration:" not in warm.report_line()


def test_billed_duration_includes_init_on_the_cold_start() -> None:
    with env_for("tests.unit.handlers.slow_init.handler") as env:
        cold = env.invoke({})
    assert cold.init_duration_ms is not None
    assert cold.billed_duration_ms >= cold.init_duration_ms + cold.duration_ms


def test_warm_invocations_reuse_the_module_and_reset_makes_a_new_one() -> None:
    with env_for(f"{H}.count") as env:
        calls = [env.invoke({}).response["calls"] for _ in range(3)]
        env.reset()
        after_reset = env.invoke({})
    assert calls == [1, 2, 3]
    assert after_reset.cold and after_reset.response["calls"] == 1


def test_lambda_env_vars_are_set_for_the_call_and_restored_afterwards() -> None:
    names = [
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "LAMBDA_TASK_ROOT",
        "_HANDLER",
        "TZ",
        "_X_AMZN_TRACE_ID",
        "AWS_ACCESS_KEY_ID",
        "RUNNER_ONLY",
    ]
    before = dict(os.environ)
    os.environ["RUNNER_ONLY"] = "1"
    try:
        cfg = FunctionConfig(
            handler=f"{H}.environ",
            function_name="fn",
            memory_mb=256,
            region="eu-west-1",
            env={"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE"},
            task_root=os.getcwd(),
        )
        with Environment(cfg) as env:
            env.init()
            # Read before the call: with this test process's RSS over 256 MB, Lambda's rule
            # discards the environment after it (a new one gets a new log stream).
            log_stream = env.log_stream
            seen = env.invoke({"names": names}).response["env"]
        assert os.environ.get("RUNNER_ONLY") == "1"
        for name in names[:-1]:
            assert os.environ.get(name) == before.get(name), name
    finally:
        os.environ.pop("RUNNER_ONLY", None)
    assert seen["AWS_LAMBDA_FUNCTION_NAME"] == "fn"
    assert seen["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert seen["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert seen["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/fn"
    assert seen["AWS_LAMBDA_LOG_STREAM_NAME"] == log_stream
    assert seen["AWS_REGION"] == "eu-west-1"
    assert seen["AWS_EXECUTION_ENV"].startswith("AWS_Lambda_python3.")
    assert seen["LAMBDA_TASK_ROOT"] == os.getcwd()
    assert seen["_HANDLER"] == f"{H}.environ"
    assert seen["TZ"] == ":UTC"
    assert seen["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert seen["AWS_ACCESS_KEY_ID"] == "AKIDEXAMPLE"
    assert seen["RUNNER_ONLY"] is None  # the runner's own variables are not the function's


def test_a_variable_the_handler_sets_stays_in_its_environment_but_not_in_the_runner() -> None:
    with env_for(f"{H}.set_env") as env:
        env.invoke({})
        assert "LEAKED_BY_HANDLER" not in os.environ
        env.config = FunctionConfig(handler=f"{H}.environ")
        env.reset()
    assert "LEAKED_BY_HANDLER" not in os.environ


def test_cwd_tempdir_and_sys_path_are_the_functions_during_the_call_only(tmp_path) -> None:
    before = (os.getcwd(), tempfile.tempdir, os.environ.get("TMPDIR"), sys.path[:])
    cfg = FunctionConfig(handler=f"{H}.environ", task_root=os.getcwd())
    with Environment(cfg) as env:
        seen = env.invoke({}).response
        tmp = env.tmp_path
    assert seen["tempdir"] == tmp
    assert seen["cwd"] == os.getcwd()
    assert (os.getcwd(), tempfile.tempdir, os.environ.get("TMPDIR"), sys.path) == before


def test_the_functions_modules_are_forgotten_when_the_environment_closes() -> None:
    name = "tests.unit.handlers.slow_init"
    assert name not in sys.modules
    with env_for(f"{name}.handler") as env:
        env.invoke({})
        assert name in sys.modules
    assert name not in sys.modules


def test_a_handler_that_raises_gets_lambdas_error_body() -> None:
    with env_for(f"{H}.boom") as env:
        inv = env.invoke({"why": "bad input"})
    assert inv.status == "error" and not inv.ok
    assert inv.error is not None
    assert inv.error["errorType"] == "ValueError"
    assert inv.error["errorMessage"] == "boom: bad input"
    assert inv.error["requestId"] == inv.request_id
    assert "in boom" in inv.error["stackTrace"][-1]
    assert "ValueError: boom: bad input" in inv.traceback


def test_a_missing_module_is_runtime_import_module_error_and_the_next_call_is_cold_again() -> None:
    with env_for("no_such_module_anywhere.handler") as env:
        first = env.invoke({})
        assert env.cold
    assert first.error is not None
    assert first.error["errorType"] == "Runtime.ImportModuleError"
    assert first.error["errorMessage"].startswith("Unable to import module 'no_such_module")


def test_a_missing_function_is_runtime_handler_not_found() -> None:
    with env_for(f"{H}.nope") as env:
        inv = env.invoke({})
    assert inv.error is not None
    assert inv.error["errorType"] == "Runtime.HandlerNotFound"


def test_a_response_json_cannot_encode_is_a_marshal_error() -> None:
    with env_for(f"{H}.unserialisable") as env:
        inv = env.invoke({})
    assert inv.error is not None
    assert inv.error["errorType"] == "Runtime.MarshalError"
    assert inv.error["errorMessage"].startswith("Unable to marshal response:")


def test_the_handler_gets_a_json_copy_of_the_event() -> None:
    event = {"t": (1, 2), "n": None}
    with env_for(f"{H}.echo") as env:
        inv = env.invoke(event)
    assert inv.response == {"t": [1, 2], "n": None}


def test_a_handler_running_at_the_deadline_times_out_and_its_environment_is_discarded() -> None:
    before = dict(os.environ)
    with env_for(f"{H}.spin", timeout=0.2, lambda_limits=False) as env:
        inv = env.invoke({})
        assert env.cold  # discarded: the next invocation starts a new environment
    assert inv.status == "timeout"
    assert inv.error == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {inv.request_id} Error: Task timed out after 0.20 seconds",
    }
    assert inv.timeout_line().endswith("Task timed out after 0.20 seconds")
    assert "Status: timeout" in inv.report_line()
    assert inv.duration_ms <= 200
    assert dict(os.environ) == before


def test_the_call_after_a_timeout_is_a_cold_start() -> None:
    with env_for(f"{H}.spin_if", timeout=0.2, lambda_limits=False) as env:
        first = env.invoke({"spin": True})
        second = env.invoke({"spin": False})
    assert first.status == "timeout"
    assert second.cold and second.ok and second.response == {"calls": 1}


@pytest.mark.parametrize(
    ("field", "value"),
    [("memory_mb", 64), ("memory_mb", 20_000), ("timeout", 901), ("tmp_size_mb", 256)],
)
def test_settings_outside_lambdas_ranges_are_refused(field: str, value: int) -> None:
    with pytest.raises(ConfigError, match="outside Lambda's range"):
        FunctionConfig(**{field: value})  # type: ignore[arg-type]


def test_a_handler_name_without_a_module_is_refused() -> None:
    with pytest.raises(Exception, match="Bad handler 'handler'"):
        FunctionConfig(handler="handler")


def test_an_invocation_reports_the_cpu_seconds_its_handler_used() -> None:
    with env_for("tests.unit.handlers.cpu.burn") as env:
        env.init()
        busy = env.invoke({"cpu_s": 0.15})
    assert busy.ok, busy.error
    # Process CPU covers the handler thread's own CPU time, whatever the machine's load.
    assert busy.cpu_s >= busy.response["used"] >= 0.15
    assert busy.to_dict()["cpu_s"] == busy.cpu_s  # what invoke.py --json prints


def test_a_handler_that_waits_uses_far_less_cpu_than_wall_time() -> None:
    with env_for("tests.unit.handlers.cpu.nap") as env:
        env.init()
        idle = env.invoke({"s": 0.3})
    assert idle.ok, idle.error
    assert idle.duration_ms >= 300
    assert 0 <= idle.cpu_s < 0.2
