"""A follower for the subset of Amazon States Language our state machines use.

It reads the ASL file itself and walks it state by state, so the local loop is the deployed
loop: the Choice rule that ends it, the Pass that feeds ``next`` back, Retry and Catch. It is
not a Step Functions emulator. Anything outside the subset (a Map, Wait, Parallel, a Choice
operator it does not know, JSONata, an unknown field) is refused when the file is loaded,
naming what and where, rather than followed wrongly.

Covered: ``Task`` (``arn:aws:states:::lambda:invoke``: ``Parameters`` with ``Payload``,
``ResultSelector``, ``ResultPath``, ``OutputPath``, ``Retry``, ``Catch``), ``Choice``
(``BooleanEquals``, ``StringEquals``, ``NumericEquals``, ``IsPresent``, ``And``/``Or``/``Not``,
``Default``), ``Pass``, ``Succeed`` and ``Fail`` (with ``ErrorPath``/``CausePath``); paths are
``$`` and ``$.a.b``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "AslError",
    "ExecutionFailed",
    "StateMachine",
    "TaskFailed",
    "Transition",
]

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
_COMMON = {"Type", "Comment", "Next", "End", "InputPath", "OutputPath"}
_FIELDS = {
    "Task": _COMMON
    | {"Resource", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch"}
    | {"TimeoutSeconds", "HeartbeatSeconds"},
    "Pass": _COMMON | {"Parameters", "Result", "ResultPath"},
    "Choice": {"Type", "Comment", "Choices", "Default", "InputPath", "OutputPath"},
    "Succeed": {"Type", "Comment", "InputPath", "OutputPath"},
    "Fail": {"Type", "Comment", "Error", "Cause", "ErrorPath", "CausePath"},
}
_COMPARISONS = {"BooleanEquals", "StringEquals", "NumericEquals", "IsPresent"}
_NO_FIELD = object()


class AslError(ValueError):
    """The state machine uses something this follower does not cover, or is malformed."""


class TaskFailed(Exception):
    """A task's error as Step Functions names it (``Error``) with its ``Cause``."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


class ExecutionFailed(Exception):
    """The execution ended in a Fail state (or with an error nothing caught)."""

    def __init__(self, error: str, cause: str, history: list[Transition]) -> None:
        super().__init__(f"execution failed with {error}: {cause}")
        self.error, self.cause, self.history = error, cause, history


@dataclass(frozen=True)
class Transition:
    """One state entered: its name, type, input and output (output None on error)."""

    state: str
    type: str
    input: Any
    output: Any = None
    error: str | None = None


def get_path(data: Any, path: str) -> Any:
    """The value at a JSONPath of the form ``$`` or ``$.a.b``; raises KeyError if absent."""
    if path == "$":
        return data
    if not path.startswith("$."):
        raise AslError(f"path {path!r}: only '$' and '$.field.field' paths are covered")
    for name in path[2:].split("."):
        if not isinstance(data, Mapping) or name not in data:
            raise KeyError(path)
        data = data[name]
    return data


def set_path(data: Any, path: str | None, value: Any) -> Any:
    """``ResultPath``: ``$`` replaces, ``$.a.b`` inserts into a copy, None discards."""
    if path is None:
        return data
    if path == "$":
        return value
    names = get_names(path)
    result = dict(data) if isinstance(data, Mapping) else {}
    node = result
    for name in names[:-1]:
        child = node.get(name)
        node[name] = dict(child) if isinstance(child, Mapping) else {}
        node = node[name]
    node[names[-1]] = value
    return result


def get_names(path: str) -> list[str]:
    if not path.startswith("$."):
        raise AslError(f"path {path!r}: only '$' and '$.field.field' paths are covered")
    return path[2:].split(".")


def _template(params: Any, data: Any) -> Any:
    """``Parameters``/``ResultSelector``: keys ending in ``.$`` take values from paths."""
    if isinstance(params, Mapping):
        out = {}
        for key, value in params.items():
            if key.endswith(".$"):
                out[key[:-2]] = get_path(data, value)
            else:
                out[key] = _template(value, data)
        return out
    if isinstance(params, list):
        return [_template(v, data) for v in params]
    return params


class StateMachine:
    """A loaded, checked state machine. ``run`` follows it from ``StartAt`` to the end."""

    def __init__(self, definition: Mapping[str, Any], source: str = "<definition>") -> None:
        self.source = source
        self.definition = definition
        self.start_at: str = definition.get("StartAt", "")
        self.states: Mapping[str, Mapping[str, Any]] = definition.get("States", {})
        self._check()

    @classmethod
    def load(cls, path: str | Path) -> StateMachine:
        try:
            definition = json.loads(Path(path).read_text())
        except (OSError, ValueError) as e:
            raise AslError(f"cannot read the state machine {path}: {e}") from e
        if not isinstance(definition, Mapping):
            raise AslError(f"{path}: a state machine is a JSON object")
        return cls(definition, str(path))

    def _check(self) -> None:
        where = self.source
        if "QueryLanguage" in self.definition and self.definition["QueryLanguage"] != "JSONPath":
            raise AslError(f"{where}: only the JSONPath query language is covered")
        if self.start_at not in self.states:
            raise AslError(f"{where}: StartAt {self.start_at!r} is not a state")
        for name, state in self.states.items():
            kind = state.get("Type")
            if kind not in _FIELDS:
                raise AslError(
                    f"{where}: state {name!r} is a {kind!r}; this follower covers "
                    f"{', '.join(sorted(_FIELDS))}"
                )
            unknown = set(state) - _FIELDS[kind]
            if unknown:
                raise AslError(f"{where}: state {name!r} uses {sorted(unknown)}, not covered")
            if kind == "Task" and state.get("Resource") != LAMBDA_INVOKE:
                raise AslError(f"{where}: task {name!r} must use {LAMBDA_INVOKE}")
            targets = [state.get("Next"), state.get("Default")]
            targets += [c.get("Next") for c in state.get("Choices", [])]
            targets += [c.get("Next") for c in state.get("Catch", [])]
            for rule in state.get("Choices", []):
                self._check_rule(rule, f"{where}: choice in {name!r}")
            for target in targets:
                if target is not None and target not in self.states:
                    raise AslError(f"{where}: state {name!r} goes to {target!r}, not a state")

    def _check_rule(self, rule: Mapping[str, Any], where: str) -> None:
        if "And" in rule or "Or" in rule:
            for sub in rule.get("And", rule.get("Or", [])):
                self._check_rule(sub, where)
        elif "Not" in rule:
            self._check_rule(rule["Not"], where)
        else:
            ops = set(rule) - {"Variable", "Next"}
            if "Variable" not in rule or not ops or not ops <= _COMPARISONS:
                raise AslError(f"{where}: rule {dict(rule)} uses operators not covered")

    def run(
        self,
        execution_input: Any,
        invoke: Callable[[Any], Any],
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_transitions: int = 25_000,
    ) -> tuple[Any, list[Transition]]:
        """Follow the machine; ``invoke(payload)`` runs the Lambda function (raising
        `TaskFailed` on a function error). Returns the final output and the transitions."""
        history: list[Transition] = []
        name, data = self.start_at, execution_input
        # Step Functions caps an execution's history at 25,000 events: a loop that never
        # reaches done stops here instead of running for ever.
        while len(history) < max_transitions:
            state = self.states[name]
            kind = state["Type"]
            if kind == "Fail":
                error, cause = self._fail_fields(state, data)
                history.append(Transition(name, kind, data, error=error))
                raise ExecutionFailed(error, cause, history)
            effective = get_path(data, state.get("InputPath", "$"))
            try:
                output, next_name = self._step(name, state, effective, data, invoke, sleep)
            except TaskFailed as e:
                history.append(Transition(name, kind, data, error=e.error))
                caught = _matching(state.get("Catch", []), e.error)
                if caught is None:
                    raise ExecutionFailed(e.error, e.cause, history) from e
                error_output = {"Error": e.error, "Cause": e.cause}
                data = set_path(data, caught.get("ResultPath", "$"), error_output)
                name = caught["Next"]
                continue
            history.append(Transition(name, kind, data, output))
            data = output
            if next_name is None:
                return data, history
            name = next_name
        raise ExecutionFailed(
            "States.Runtime", f"more than {max_transitions} transitions without an end", history
        )

    def _step(
        self,
        name: str,
        state: Mapping[str, Any],
        effective: Any,
        raw: Any,
        invoke: Callable[[Any], Any],
        sleep: Callable[[float], None],
    ) -> tuple[Any, str | None]:
        kind = state["Type"]
        if kind == "Choice":
            for rule in state.get("Choices", []):
                if _holds(rule, effective):
                    return _output(state, effective), rule["Next"]
            if "Default" not in state:
                raise TaskFailed("States.NoChoiceMatched", f"no choice in {name!r} matched")
            return _output(state, effective), state["Default"]
        if kind == "Succeed":
            return _output(state, effective), None
        if kind == "Pass":
            result = state.get("Result", effective)
            if "Parameters" in state:
                result = _template(state["Parameters"], effective)
            merged = set_path(raw, state.get("ResultPath", "$"), result)
            return _output(state, merged), _next(state)
        # Task: lambda:invoke with Retry.
        params = _template(state.get("Parameters", {"Payload.$": "$"}), effective)
        payload = params.get("Payload", effective)
        result = self._invoke_with_retry(state, payload, invoke, sleep)
        if "ResultSelector" in state:
            result = _template(state["ResultSelector"], result)
        merged = set_path(raw, state.get("ResultPath", "$"), result)
        return _output(state, merged), _next(state)

    @staticmethod
    def _invoke_with_retry(
        state: Mapping[str, Any],
        payload: Any,
        invoke: Callable[[Any], Any],
        sleep: Callable[[float], None],
    ) -> dict[str, Any]:
        attempts: dict[int, int] = {}
        while True:
            try:
                response = invoke(payload)
            except TaskFailed as e:
                retriers = state.get("Retry", [])
                retrier = _matching(retriers, e.error)
                if retrier is None:
                    raise
                i = retriers.index(retrier)
                attempts[i] = attempts.get(i, 0) + 1
                if attempts[i] > retrier.get("MaxAttempts", 3):
                    raise
                interval = retrier.get("IntervalSeconds", 1)
                sleep(interval * retrier.get("BackoffRate", 2.0) ** (attempts[i] - 1))
                continue
            # The lambda:invoke integration's result: the function's response is "Payload".
            return {"ExecutedVersion": "$LATEST", "Payload": response, "StatusCode": 200}

    @staticmethod
    def _fail_fields(state: Mapping[str, Any], data: Any) -> tuple[str, str]:
        def field_of(name: str) -> str:
            if f"{name}Path" in state:
                try:
                    return str(get_path(data, state[f"{name}Path"]))
                except KeyError:
                    return ""
            return str(state.get(name, ""))

        return field_of("Error") or "States.Failed", field_of("Cause")


def _next(state: Mapping[str, Any]) -> str | None:
    return None if state.get("End") else state["Next"]


def _output(state: Mapping[str, Any], data: Any) -> Any:
    return get_path(data, state.get("OutputPath", "$"))


def _matching(rules: list[Mapping[str, Any]], error: str) -> Mapping[str, Any] | None:
    for rule in rules:
        names = rule.get("ErrorEquals", [])
        if error in names or "States.ALL" in names:
            return rule
        if "States.TaskFailed" in names and not error.startswith("States."):
            return rule
    return None


def _holds(rule: Mapping[str, Any], data: Any) -> bool:
    if "And" in rule:
        return all(_holds(r, data) for r in rule["And"])
    if "Or" in rule:
        return any(_holds(r, data) for r in rule["Or"])
    if "Not" in rule:
        return not _holds(rule["Not"], data)
    try:
        value = get_path(data, rule["Variable"])
    except KeyError:
        value = _NO_FIELD
    if "IsPresent" in rule:
        return (value is not _NO_FIELD) == rule["IsPresent"]
    if value is _NO_FIELD:
        # Step Functions fails the execution when a compared field is missing.
        raise TaskFailed("States.Runtime", f"{rule['Variable']} is not in the state's input")
    for op, kind in (("BooleanEquals", bool), ("StringEquals", str), ("NumericEquals", float)):
        if op in rule:
            if kind is float:
                return (
                    isinstance(value, int | float)
                    and not isinstance(value, bool)
                    and (value == rule[op])
                )
            return isinstance(value, kind) and value == rule[op]
    return False
