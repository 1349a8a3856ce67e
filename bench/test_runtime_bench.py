"""Runner overhead: a warm invocation of a no-op handler (issue 5: well under 1 ms).

What one warm ``Environment.invoke`` costs besides the handler: the JSON round trip of event
and response, env vars/sys.path/cwd/tempdir swapped in and out, the peak-RSS reset and read,
the /tmp sampler, and the hand-off to the environment's worker thread and back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.runtime import Environment, FunctionConfig
from sandbox.runtime.context import LambdaContext


@pytest.fixture(scope="module")
def warm_noop() -> Iterator[Environment]:
    # The runner's own overhead: the whole machine, or the quota would rate-limit the loop.
    config = FunctionConfig(handler="tests.unit.handlers.noop.handler", cpu="full")
    with Environment(config) as env:
        env.invoke({})  # the cold start
        yield env


def test_warm_noop_invocation(benchmark: Any, warm_noop: Environment) -> None:
    inv = benchmark(warm_noop.invoke, {"bucket": "b", "prefix": "p/"})
    assert inv.ok and not inv.cold


def test_calling_the_noop_handler_directly_for_comparison(benchmark: Any) -> None:
    from tests.unit.handlers.noop import handler

    ctx = LambdaContext.create()
    assert benchmark(handler, {"bucket": "b", "prefix": "p/"}, ctx) is None


def test_context_creation(benchmark: Any) -> None:
    benchmark(LambdaContext.create)
