"""Step Functions, locally: a follower that reads our ASL files and drives the function round
by round through the same Task -> Choice -> Pass loop the deployed state machine runs."""

from __future__ import annotations

from sandbox.stepfunctions.asl import (
    AslError,
    ExecutionFailed,
    StateMachine,
    TaskFailed,
    Transition,
)
from sandbox.stepfunctions.follow import DEFAULT_STATE_MACHINE, FollowResult, follow

__all__ = [
    "DEFAULT_STATE_MACHINE",
    "AslError",
    "ExecutionFailed",
    "FollowResult",
    "StateMachine",
    "TaskFailed",
    "Transition",
    "follow",
]
