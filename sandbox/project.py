"""The user's project: which functions it has, read from ``[tool.lambda_local_runner]``.

One file configures every way the harness runs a function: the local Lambda service (one
entry per function, with its S3 triggers and API Gateway payload version) and the pytest
plugin's ``lambda_function_config``. We chose ``pyproject.toml`` because a Python Lambda
project has one already, and a table of its own keeps the harness's settings beside the code
they describe, as SAM's ``template.yaml`` does for AWS:

```toml
[tool.lambda_local_runner.functions.wordcount]
handler = "wordcount.handler"        # module.function, relative to the project root
memory = 256                         # MB, 128-10240 (Lambda's range)
timeout = 10                         # seconds, 1-900
tmp_size = 512                       # MB of /tmp, 512-10240
reserved_concurrency = 2             # optional: cap on concurrent environments
api = "2.0"                          # API Gateway payload: "2.0" (HTTP API) or "1.0" (REST)
env = { TABLE = "words" }            # the function's own environment variables

[[tool.lambda_local_runner.functions.wordcount.s3]]   # S3 triggers (MinIO backend)
bucket = "uploads"                   # optional: default the sandbox's BUCKET_NAME
prefix = "incoming/"
suffix = ".txt"
events = ["s3:ObjectCreated:*"]      # optional, this is the default
```

With no table at all, the project has the sample function only (``lambda-local-runner``,
``lambda_function.handler``) when ``lambda_function.py`` is there. Every mistake is reported
with the file and the key path, and what was expected (`ProjectConfigError`).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.runtime._config import ConfigError, FunctionConfig
from sandbox.runtime._modules import HandlerError

__all__ = [
    "DEFAULT_FUNCTION",
    "FunctionSpec",
    "Project",
    "ProjectConfigError",
    "S3Trigger",
    "find_project",
    "load_project",
]

DEFAULT_FUNCTION = "lambda-local-runner"
TABLE = "tool.lambda_local_runner"
# Lambda's function-name rule (the name part of an ARN): letters, digits, hyphens, underscores.
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FUNCTION_KEYS = {
    "handler",
    "memory",
    "timeout",
    "tmp_size",
    "reserved_concurrency",
    "api",
    "env",
    "s3",
}
_TRIGGER_KEYS = {"bucket", "prefix", "suffix", "events"}
_API_VERSIONS = ("2.0", "1.0")


class ProjectConfigError(ConfigError):
    """The project's ``[tool.lambda_local_runner]`` table cannot be used as written."""


@dataclass(frozen=True)
class S3Trigger:
    """One bucket notification rule: objects created under ``prefix`` ending in ``suffix``."""

    bucket: str | None = None  # None: the sandbox's default bucket (BUCKET_NAME)
    prefix: str = ""
    suffix: str = ""
    events: tuple[str, ...] = ("s3:ObjectCreated:*",)

    def matches(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith(self.suffix)


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the project, as the harness runs it."""

    name: str
    handler: str = "lambda_function.handler"
    memory_mb: int = 512
    timeout: float = 30.0
    tmp_size_mb: int = 512
    reserved_concurrency: int | None = None
    api_version: str = "2.0"
    env: Mapping[str, str] = field(default_factory=dict)
    triggers: tuple[S3Trigger, ...] = ()
    root: str = field(default_factory=os.getcwd)

    def function_config(
        self, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> FunctionConfig:
        """The runtime's `FunctionConfig`; ``env`` (e.g. the sandbox's S3 endpoint) is merged
        under the function's own env vars, so what the project sets wins."""
        merged = {**(env or {}), **self.env}
        kwargs: dict[str, Any] = {
            "handler": self.handler,
            "function_name": self.name,
            "memory_mb": self.memory_mb,
            "timeout": self.timeout,
            "tmp_size_mb": self.tmp_size_mb,
            "env": merged,
            "task_root": self.root,
        }
        kwargs.update(overrides)
        return FunctionConfig(**kwargs)


@dataclass(frozen=True)
class Project:
    """The functions of one project (its root is where ``pyproject.toml`` is)."""

    root: str
    functions: Mapping[str, FunctionSpec]
    source: str | None = None  # the file the table came from, if any

    def function(self, name: str) -> FunctionSpec:
        try:
            return self.functions[name]
        except KeyError:
            known = ", ".join(sorted(self.functions)) or "none"
            raise KeyError(f"no function {name!r} in this project (known: {known})") from None


def find_project(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` (default: the cwd)."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_project(path: str | os.PathLike[str] | None = None) -> Project:
    """Read the project's functions. ``path`` is a ``pyproject.toml`` (or a folder holding
    one); default: the nearest one above the cwd. No file or no table: the sample function."""
    pyproject: Path | None
    if path is None:
        pyproject = find_project()
    else:
        pyproject = Path(path)
        if pyproject.is_dir():
            pyproject = pyproject / "pyproject.toml"
        if not pyproject.is_file():
            raise ProjectConfigError(f"project config {pyproject} does not exist")
    root = str(pyproject.parent.resolve()) if pyproject else os.getcwd()
    table: Any = None
    if pyproject is not None:
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ProjectConfigError(f"{pyproject}: not valid TOML: {e}") from e
        table = data.get("tool", {}).get("lambda_local_runner")
    if table is None:
        return Project(root=root, functions=_sample(root), source=None)
    where = f"{pyproject} [{TABLE}]"
    if not isinstance(table, dict):
        raise ProjectConfigError(f"{where}: expected a table")
    unknown = set(table) - {"functions"}
    if unknown:
        raise ProjectConfigError(f"{where}: unknown key(s) {sorted(unknown)}; expected 'functions'")
    raw = table.get("functions", {})
    if not isinstance(raw, dict) or not raw:
        raise ProjectConfigError(
            f"{where}: 'functions' must be a table with at least one function, e.g. "
            f'[{TABLE}.functions.my-function] handler = "app.handler"'
        )
    functions = {
        name: _function(f"{where}.functions.{name}", name, spec, root) for name, spec in raw.items()
    }
    return Project(root=root, functions=functions, source=str(pyproject))


def _sample(root: str) -> dict[str, FunctionSpec]:
    if not (Path(root) / "lambda_function.py").is_file():
        return {}
    return {DEFAULT_FUNCTION: FunctionSpec(name=DEFAULT_FUNCTION, root=root)}


def _function(where: str, name: str, spec: Any, root: str) -> FunctionSpec:
    if not _NAME.match(name):
        raise ProjectConfigError(
            f"{where}: function name {name!r} is not valid on Lambda "
            "(1-64 letters, digits, '-' or '_')"
        )
    if not isinstance(spec, dict):
        raise ProjectConfigError(f"{where}: expected a table, got {type(spec).__name__}")
    unknown = set(spec) - _FUNCTION_KEYS
    if unknown:
        raise ProjectConfigError(
            f"{where}: unknown key(s) {sorted(unknown)}; expected some of {sorted(_FUNCTION_KEYS)}"
        )
    if "handler" not in spec:
        raise ProjectConfigError(f"{where}: 'handler' is required (module.function)")
    handler = _typed(where, spec, "handler", str, None)
    memory = _typed(where, spec, "memory", int, 512)
    timeout = _typed(where, spec, "timeout", (int, float), 30)
    tmp_size = _typed(where, spec, "tmp_size", int, 512)
    reserved = _typed(where, spec, "reserved_concurrency", int, None)
    if reserved is not None and reserved < 1:
        raise ProjectConfigError(
            f"{where}.reserved_concurrency: must be at least 1, got {reserved}"
        )
    api = _typed(where, spec, "api", str, "2.0")
    if api not in _API_VERSIONS:
        raise ProjectConfigError(
            f'{where}.api: expected "2.0" (HTTP API) or "1.0" (REST), got {api!r}'
        )
    env = _typed(where, spec, "env", dict, {})
    bad = [k for k, v in env.items() if not isinstance(v, str)]
    if bad:
        raise ProjectConfigError(f"{where}.env: values must be strings; not {sorted(bad)}")
    triggers_raw = _typed(where, spec, "s3", list, [])
    triggers = tuple(_trigger(f"{where}.s3[{i}]", t) for i, t in enumerate(triggers_raw))
    result = FunctionSpec(
        name=name,
        handler=handler,
        memory_mb=memory,
        timeout=float(timeout),
        tmp_size_mb=tmp_size,
        reserved_concurrency=reserved,
        api_version=api,
        env=dict(env),
        triggers=triggers,
        root=root,
    )
    try:  # Lambda's own rules for handler, memory, timeout and /tmp, said once, in _config
        result.function_config()
    except (ConfigError, HandlerError) as e:
        raise ProjectConfigError(f"{where}: {e}") from e
    return result


def _trigger(where: str, raw: Any) -> S3Trigger:
    if not isinstance(raw, dict):
        raise ProjectConfigError(f"{where}: expected a table with prefix/suffix")
    unknown = set(raw) - _TRIGGER_KEYS
    if unknown:
        raise ProjectConfigError(
            f"{where}: unknown key(s) {sorted(unknown)}; expected some of {sorted(_TRIGGER_KEYS)}"
        )
    events = _typed(where, raw, "events", list, ["s3:ObjectCreated:*"])
    if not events or not all(isinstance(e, str) and e.startswith("s3:") for e in events):
        raise ProjectConfigError(f'{where}.events: a list of names like "s3:ObjectCreated:*"')
    return S3Trigger(
        bucket=_typed(where, raw, "bucket", str, None),
        prefix=_typed(where, raw, "prefix", str, ""),
        suffix=_typed(where, raw, "suffix", str, ""),
        events=tuple(events),
    )


def _typed(where: str, table: dict[str, Any], key: str, kind: Any, default: Any) -> Any:
    if key not in table:
        return default
    value = table[key]
    # bool is an int to Python, never a memory size or a timeout to us
    if isinstance(value, bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ProjectConfigError(f"{where}.{key}: expected {names}, got {value!r}")
    return value
