"""The ASL follower walks our real state machine file: loop on done, Retry, Catch to Fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.stepfunctions import DEFAULT_STATE_MACHINE, AslError, ExecutionFailed, StateMachine
from sandbox.stepfunctions.asl import TaskFailed


class FakeFunction:
    """Stands in for the Lambda function: answers rounds from a script."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.payloads: list[Any] = []

    def __call__(self, payload: Any) -> Any:
        self.payloads.append(payload)
        answer = self.answers.pop(0)
        if isinstance(answer, TaskFailed):
            raise answer
        return answer


def round_(n: int, done: bool) -> dict[str, Any]:
    response: dict[str, Any] = {"count": n * 10, "done": done}
    if not done:
        response["next"] = {"bucket": "b", "prefix": "p/", "start_after": f"p/{n}", "part": n + 1}
    return response


def test_it_loops_passing_next_until_a_round_says_done() -> None:
    machine = StateMachine.load(DEFAULT_STATE_MACHINE)
    fn = FakeFunction([round_(1, False), round_(2, False), round_(3, True)])

    output, history = machine.run({"bucket": "b", "prefix": "p/"}, fn, sleep=lambda s: None)

    assert output == round_(3, True)
    assert fn.payloads == [{"bucket": "b", "prefix": "p/"}, round_(1, False)["next"],
                           round_(2, False)["next"]]  # fmt: skip
    assert [t.state for t in history].count("ListRound") == 3
    assert history[-1].state == "Done"


def test_throttling_is_retried_with_backoff_and_then_succeeds() -> None:
    machine = StateMachine.load(DEFAULT_STATE_MACHINE)
    throttled = TaskFailed("Lambda.TooManyRequestsException", "Rate exceeded")
    fn = FakeFunction([throttled, throttled, round_(1, True)])
    slept: list[float] = []

    output, _ = machine.run({}, fn, sleep=slept.append)

    assert output["done"] is True and slept == [2, 4]


def test_a_function_error_is_caught_into_the_fail_state_with_its_name() -> None:
    machine = StateMachine.load(DEFAULT_STATE_MACHINE)
    fn = FakeFunction([TaskFailed("RunAborted", '{"errorMessage": "cannot make progress"}')])

    with pytest.raises(ExecutionFailed) as failed:
        machine.run({}, fn, sleep=lambda s: None)

    assert failed.value.error == "RunAborted" and "cannot make progress" in failed.value.cause
    assert [t.state for t in failed.value.history] == ["ListRound", "Failed"]


def test_a_loop_that_never_ends_is_stopped_like_step_functions_would() -> None:
    machine = StateMachine.load(DEFAULT_STATE_MACHINE)

    class Forever:
        def __call__(self, payload: Any) -> Any:
            return round_(1, False)

    with pytest.raises(ExecutionFailed, match="transitions"):
        machine.run({}, Forever(), max_transitions=30)


def test_states_outside_the_covered_subset_are_refused_when_loaded(tmp_path: Path) -> None:
    fanout = Path(DEFAULT_STATE_MACHINE).with_name("fanout.asl.json")
    with pytest.raises(AslError, match="'Map'"):
        StateMachine.load(fanout)
    broken = json.loads(Path(DEFAULT_STATE_MACHINE).read_text())
    broken["States"]["Continue"]["Next"] = "Nowhere"
    path = tmp_path / "broken.asl.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(AslError, match="'Nowhere', not a state"):
        StateMachine.load(path)
