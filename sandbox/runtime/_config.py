"""How a function is configured, checked against what Lambda would accept."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from sandbox.runtime._modules import split_handler
from sandbox.runtime.cpu import CPU_MODES, CpuMode
from sandbox.runtime.limits import MEMORY_RANGE_MB, TIMEOUT_RANGE_S, TMP_RANGE_MB
from sandbox.runtime.tmpdir import TmpMode

__all__ = ["INIT_CPU_MODES", "ConfigError", "FunctionConfig", "InitCpu"]

InitCpu = Literal["boost", "share"]
INIT_CPU_MODES: tuple[str, ...] = ("boost", "share")


class ConfigError(ValueError):
    """A function setting Lambda would not accept."""


@dataclass(frozen=True)
class FunctionConfig:
    """How the function is configured (what ``aws lambda create-function`` would be given)."""

    handler: str = "lambda_function.handler"
    function_name: str = "lambda-local-runner"
    memory_mb: int = 512
    timeout: float = 30.0  # seconds
    tmp_size_mb: int = 512
    region: str = "us-east-1"
    # The function's environment variables (credentials and endpoint included, if any).
    env: Mapping[str, str] = field(default_factory=dict)
    task_root: str = field(default_factory=os.getcwd)
    version: str = "$LATEST"
    tmp_mode: TmpMode = "auto"
    # Give the handler the runner's whole os.environ (then Lambda's variables on top).
    inherit_env: bool = False
    # Top-level names re-imported on every cold start besides the handler's module.
    fresh_modules: tuple[str, ...] = ()
    # Check memory/timeout/tmp against Lambda's ranges. Tests turn it off for a 1 MB /tmp
    # or a 0.2 s timeout.
    lambda_limits: bool = True
    # CPU: "lambda" limits the handler to memory_mb / 1769 vCPU (sandbox.runtime.cpu); "full"
    # gives it the whole machine on purpose.
    cpu: CpuMode = "lambda"
    # INIT: "boost" runs it on the microVM's vCPUs unthrottled, as on-demand INIT is measured to
    # run on Lambda (see cpu.init_vcpus); "share" throttles it like an invocation.
    init_cpu: InitCpu = "boost"

    def __post_init__(self) -> None:
        split_handler(self.handler)
        if self.cpu not in CPU_MODES:
            raise ConfigError(f"cpu mode {self.cpu!r} is not one of {', '.join(CPU_MODES)}")
        if self.init_cpu not in INIT_CPU_MODES:
            raise ConfigError(
                f"init cpu mode {self.init_cpu!r} is not one of {', '.join(INIT_CPU_MODES)}"
            )
        if self.timeout <= 0:
            raise ConfigError(f"timeout must be positive, got {self.timeout}")
        if not self.lambda_limits:
            return
        for name, value, (low, high), unit in (
            ("memory", self.memory_mb, MEMORY_RANGE_MB, "MB"),
            ("timeout", self.timeout, TIMEOUT_RANGE_S, "s"),
            ("tmp size", self.tmp_size_mb, TMP_RANGE_MB, "MB"),
        ):
            if not low <= value <= high:
                raise ConfigError(
                    f"{name} {value} {unit} is outside Lambda's range {low}-{high} {unit}"
                )
