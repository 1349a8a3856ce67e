"""pytest fixtures for users' own Lambda tests (the plugin in sandbox/pytest_plugin.py
re-exports them; a test module can also use ``pytest_plugins = ["sandbox.runtime.fixtures"]``).

* ``lambda_context``: a factory of `LambdaContext` (``lambda_context(timeout=3, clock=...)``).
* ``lambda_event``: a factory of AWS-shaped events, one per caller:
  ``lambda_event("s3", bucket="b", key="k.pdf")``, ``lambda_event("apigw-v2", bucket=...)``.
* ``lambda_invoke``: ``lambda_invoke(event, handler=None, *, function=None, env=None, **config)``
  returns an `Invocation` (response, error, REPORT figures). Calls with the same config share
  one warm execution environment; ``cold=True`` starts a new one. All closed at teardown.
  In a test that uses ``s3_sandbox`` (or ``s3_bucket``) the function is pointed at that
  sandbox (its ``env()``) unless the call passes ``env=``, which then replaces it.
* ``lambda_function_config``: the function ``lambda_invoke`` runs when given no handler: the
  project's function from ``[tool.lambda_local_runner]`` in the nearest ``pyproject.toml``
  (the one named by the ``lambda_function`` ini option when there are several). Override the
  fixture in a ``conftest.py`` to set handler, memory and env once in code instead.
* ``sandbox_s3_endpoint``: the `Endpoint` of the session's S3 sandbox (``s3_sandbox``).

Where settings meet, the later wins: the sandbox's endpoint, then the project's function
settings (its ``env`` table included), then the keywords of the ``lambda_invoke`` call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from sandbox.events import make_event
from sandbox.project import FunctionSpec, find_project, load_project
from sandbox.runtime.context import LambdaContext
from sandbox.runtime.environment import Environment, FunctionConfig
from sandbox.runtime.invocation import Invocation
from sandbox.runtime.limits import InvocationType

__all__ = [
    "FUNCTION_INI",
    "lambda_context",
    "lambda_event",
    "lambda_function_config",
    "lambda_invoke",
    "sandbox_s3_endpoint",
]

#: The ini option naming the project's default function when it has several.
FUNCTION_INI = "lambda_function"
_project_key = pytest.StashKey[Any]()


@pytest.fixture
def lambda_context() -> Callable[..., LambdaContext]:
    """``lambda_context(**kwargs)`` -> `LambdaContext.create(**kwargs)`."""
    return LambdaContext.create


@pytest.fixture
def lambda_event() -> Callable[..., dict[str, Any]]:
    """``lambda_event(kind, bucket=..., prefix=..., key=..., client=...)`` -> event dict."""
    return make_event


def _project(config: pytest.Config) -> Any:
    """The project of the pytest run's root folder (read once per session), or None."""
    if _project_key not in config.stash:
        pyproject = find_project(config.rootpath)
        config.stash[_project_key] = load_project(pyproject) if pyproject else None
    return config.stash[_project_key]


def _ini_function(config: pytest.Config) -> str:
    try:
        return str(config.getini(FUNCTION_INI) or "")
    except ValueError:  # the fixtures module used without the plugin: no such ini option
        return ""


@pytest.fixture
def lambda_function_config(request: pytest.FixtureRequest) -> FunctionSpec | None:
    """The function `lambda_invoke` runs by default (handler, memory, timeout, env), from the
    project's ``[tool.lambda_local_runner]`` table. None when the project has no function, or
    several and the ``lambda_function`` ini option names none of them.

    Override it in ``conftest.py`` to configure the function in code::

        @pytest.fixture
        def lambda_function_config():
            return FunctionSpec(name="wordcount", handler="wordcount.handler", memory_mb=256)
    """
    project = _project(request.config)
    if project is None:
        return None
    wanted = _ini_function(request.config)
    if wanted:
        spec: FunctionSpec = project.function(wanted)  # KeyError lists the known names
        return spec
    if len(project.functions) == 1:
        return next(iter(project.functions.values()))
    return None


def _as_spec(value: Any) -> FunctionSpec | None:
    if value is None or isinstance(value, FunctionSpec):
        return value
    if isinstance(value, Mapping):
        return FunctionSpec(**{"name": "function", **value})
    raise TypeError(
        "lambda_function_config must return a sandbox.project.FunctionSpec, a dict of its "
        f"fields, or None; got {type(value).__name__}"
    )


@pytest.fixture
def lambda_invoke(
    request: pytest.FixtureRequest, lambda_function_config: Any
) -> Iterator[Callable[..., Invocation]]:
    """Invoke a handler in a local execution environment and get the `Invocation`."""
    envs: list[Environment] = []
    default = _as_spec(lambda_function_config)
    sandbox_env: dict[str, str] | None = None

    def wired_env() -> dict[str, str]:
        # Only a test that asked for the sandbox starts it (s3_bucket asks for it too).
        nonlocal sandbox_env
        if sandbox_env is None:
            sandbox_env = {}
            if "s3_sandbox" in request.fixturenames:
                sandbox_env = dict(request.getfixturevalue("s3_sandbox").env())
        return sandbox_env

    def spec_for(handler: str | None, function: str | None) -> FunctionSpec | None:
        if function is not None:
            project = _project(request.config)
            if project is None:
                raise KeyError(f"no function {function!r}: this project has no pyproject.toml")
            spec: FunctionSpec = project.function(function)
            return spec
        if handler is None:
            if default is None:
                raise LookupError(
                    "lambda_invoke: no handler given and no default function: pass "
                    "handler='module.function', add [tool.lambda_local_runner.functions.<name>] "
                    f"to pyproject.toml (naming one with the `{FUNCTION_INI}` ini option when "
                    "there are several), or override the lambda_function_config fixture"
                )
            return default
        if default is not None and default.handler == handler:
            return default
        project = _project(request.config)
        if project is not None:
            return next((f for f in project.functions.values() if f.handler == handler), None)
        return None

    def invoke(
        event: Any,
        handler: str | None = None,
        *,
        function: str | None = None,
        cold: bool = False,
        invocation_type: InvocationType = "RequestResponse",
        env: Mapping[str, str] | None = None,
        **config: Any,
    ) -> Invocation:
        spec = spec_for(handler, function)
        base = dict(env) if env is not None else wired_env()
        if spec is not None:
            cfg = spec.function_config(env=base, **{**config, "handler": handler or spec.handler})
            if env:  # the call's own variables win over the project's
                cfg = dataclasses.replace(cfg, env={**cfg.env, **env})
        else:
            cfg = FunctionConfig(handler=handler or "lambda_function.handler", env=base, **config)
        found = next((e for e in envs if e.config == cfg), None)
        if found is None:
            found = Environment(cfg).__enter__()
            envs.append(found)
        elif cold:
            found.reset()
        return found.invoke(event, invocation_type=invocation_type)

    try:
        yield invoke
    finally:
        for e in envs:
            e.close()


@pytest.fixture
def sandbox_s3_endpoint(s3_sandbox: Any) -> Any:
    """The S3 endpoint (url, credentials, region) of the session's sandbox."""
    return s3_sandbox.endpoint
