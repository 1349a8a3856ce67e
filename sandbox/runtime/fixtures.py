"""pytest fixtures for users' own Lambda tests (the plugin in sandbox/pytest_plugin.py
re-exports them; a test module can also use ``pytest_plugins = ["sandbox.runtime.fixtures"]``).

* ``lambda_context``: a factory of `LambdaContext` (``lambda_context(timeout=3, clock=...)``).
* ``lambda_event``: a factory of AWS-shaped events, one per caller:
  ``lambda_event("s3", bucket="b", key="k.pdf")``, ``lambda_event("apigw-v2", bucket=...)``.
* ``lambda_invoke``: ``lambda_invoke(event, handler="lambda_function.handler", **config)``
  returns an `Invocation` (response, error, REPORT figures). Calls with the same config share
  one warm execution environment; ``cold=True`` starts a new one. All closed at teardown.
* ``sandbox_s3_endpoint``: the `Endpoint` of the session's S3 sandbox (``s3_sandbox``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sandbox.events import make_event
from sandbox.runtime.context import LambdaContext
from sandbox.runtime.environment import Environment, FunctionConfig
from sandbox.runtime.invocation import Invocation
from sandbox.runtime.limits import InvocationType

__all__ = ["lambda_context", "lambda_event", "lambda_invoke", "sandbox_s3_endpoint"]


@pytest.fixture
def lambda_context() -> Callable[..., LambdaContext]:
    """``lambda_context(**kwargs)`` -> `LambdaContext.create(**kwargs)`."""
    return LambdaContext.create


@pytest.fixture
def lambda_event() -> Callable[..., dict[str, Any]]:
    """``lambda_event(kind, bucket=..., prefix=..., key=..., client=...)`` -> event dict."""
    return make_event


@pytest.fixture
def lambda_invoke() -> Iterator[Callable[..., Invocation]]:
    """Invoke a handler in a local execution environment and get the `Invocation`."""
    envs: list[Environment] = []

    def invoke(
        event: Any,
        handler: str = "lambda_function.handler",
        *,
        cold: bool = False,
        invocation_type: InvocationType = "RequestResponse",
        **config: Any,
    ) -> Invocation:
        cfg = FunctionConfig(handler=handler, **config)
        env = next((e for e in envs if e.config == cfg), None)
        if env is None:
            env = Environment(cfg).__enter__()
            envs.append(env)
        elif cold:
            env.reset()
        return env.invoke(event, invocation_type=invocation_type)

    try:
        yield invoke
    finally:
        for env in envs:
            env.close()


@pytest.fixture
def sandbox_s3_endpoint(s3_sandbox: Any) -> Any:
    """The S3 endpoint (url, credentials, region) of the session's sandbox."""
    return s3_sandbox.endpoint
