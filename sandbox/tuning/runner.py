"""Run the function at each memory setting and sum up what Lambda would report and bill.

Per setting, in a fresh process (`sandbox.tuning._child`): one execution environment, INIT,
the cold invocation, then ``repeat`` warm ones, with Lambda's CPU share for that memory
(`sandbox.runtime.cpu`). `SettingResult` holds every invocation's figures and derives the table:
median and trimmed-mean Duration (warm runs; power tuning's 20% trim), Billed Duration, Init,
Max Memory Used, whether it fits, and the cost per invocation and per 1M (`pricing`).

A setting whose cold run failed, timed out, or used more memory than it has (Lambda would kill
it) is reported as such and left out of the picks.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sandbox.runtime import FunctionConfig
from sandbox.runtime.limits import MEMORY_RANGE_MB
from sandbox.tuning.chart import ChartPoint
from sandbox.tuning.pricing import ARCHES, invocation_cost
from sandbox.tuning.strategies import STRATEGIES, Candidate, Pick, pick, trimmed_mean

__all__ = ["SettingResult", "TuneError", "chart_points", "parse_settings", "picks", "tune"]


class TuneError(ValueError):
    """A tune that cannot be run as asked (``invoke.py`` exits 2)."""


def parse_settings(text: str) -> tuple[int, ...]:
    """``"128,256,512"`` -> (128, 256, 512): whole MB within Lambda's range, no repeats."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise TuneError(f"--tune needs memory settings in MB, e.g. 128,512,1769; got {text!r}")
    low, high = MEMORY_RANGE_MB
    settings = []
    for item in items:
        try:
            mb = int(item)
        except ValueError:
            raise TuneError(f"--tune: {item!r} is not a whole number of MB") from None
        if not low <= mb <= high:
            raise TuneError(f"--tune: {mb} MB is outside Lambda's range {low}-{high} MB")
        if mb in settings:
            raise TuneError(f"--tune: {mb} MB is listed twice")
        settings.append(mb)
    return tuple(sorted(settings))


@dataclass
class SettingResult:
    """One memory setting: the CPU it got and every invocation's figures (cold first)."""

    memory_mb: int
    cpu_mode: str
    cpu: str
    vcpus: float | None
    runs: list[dict[str, Any]]
    memory_method: str = ""
    error: str | None = None  # why the setting could not be measured at all

    @property
    def cold(self) -> dict[str, Any] | None:
        return self.runs[0] if self.runs else None

    @property
    def warm(self) -> list[dict[str, Any]]:
        return self.runs[1:]

    @property
    def max_memory_used_mb(self) -> int:
        return max((r["max_memory_used_mb"] for r in self.runs), default=0)

    @property
    def fits(self) -> bool:
        return bool(self.runs) and self.max_memory_used_mb <= self.memory_mb

    @property
    def status(self) -> str:
        """ "ok", "does not fit", or what went wrong."""
        if self.error is not None:
            return f"failed: {self.error}"
        bad = next((r for r in self.runs if r["status"] != "ok"), None)
        if bad is not None:
            err = bad.get("error") or {}
            return f"{bad['status']}: {err.get('errorType', '?')}"
        if not self.fits:
            return "does not fit"
        if not self.warm:
            return "no warm run"
        return "ok"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def _warm_durations(self) -> list[float]:
        return [r["duration_ms"] for r in self.warm]

    @property
    def median_ms(self) -> float | None:
        d = self._warm_durations()
        return statistics.median(d) if d else None

    @property
    def trimmed_ms(self) -> float | None:
        d = self._warm_durations()
        return trimmed_mean(d) if d else None

    @property
    def billed_ms(self) -> float | None:
        """Trimmed mean of the warm runs' Billed Duration (1 ms steps)."""
        d = [r["billed_duration_ms"] for r in self.warm]
        return trimmed_mean(d) if d else None

    @property
    def init_ms(self) -> float | None:
        cold = self.cold
        return cold["init_duration_ms"] if cold else None

    @property
    def cold_duration_ms(self) -> float | None:
        cold = self.cold
        return cold["duration_ms"] if cold else None

    def cost(self, arch: str = "x86_64") -> float | None:
        """USD per warm invocation at the trimmed-mean Billed Duration (with the request)."""
        billed = self.billed_ms
        return None if billed is None else invocation_cost(self.memory_mb, billed, arch=arch)

    def cold_cost(self, arch: str = "x86_64") -> float | None:
        """USD for the cold invocation: INIT is billed too."""
        cold = self.cold
        if cold is None:
            return None
        init = cold["init_duration_ms"] or 0.0
        return invocation_cost(self.memory_mb, cold["duration_ms"], arch=arch, init_ms=init)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready. Runs keep their figures and errors, not the handler's responses: those
        may hold presigned URLs, which are credentials for as long as they live."""
        d = asdict(self)
        d["runs"] = [{k: v for k, v in r.items() if k != "response"} for r in self.runs]
        d.update(
            status=self.status,
            fits=self.fits,
            max_memory_used_mb=self.max_memory_used_mb,
            median_ms=self.median_ms,
            trimmed_mean_ms=self.trimmed_ms,
            billed_trimmed_mean_ms=self.billed_ms,
            init_ms=self.init_ms,
            cold_duration_ms=self.cold_duration_ms,
            cost={a: self.cost(a) for a in ARCHES},
            cost_per_1m={a: _per_1m(self.cost(a)) for a in ARCHES},
            cold_cost={a: self.cold_cost(a) for a in ARCHES},
        )
        return d


def chart_points(results: Sequence[SettingResult], arch: str = "x86_64") -> list[ChartPoint]:
    """The settings with warm runs, as chart points (trimmed-mean duration, cost)."""
    points = []
    for r in results:
        duration, cost = r.trimmed_ms, r.cost(arch)
        if duration is not None and cost is not None:
            points.append(ChartPoint(r.memory_mb, duration, cost, r.ok))
    return points


def _per_1m(cost: float | None) -> float | None:
    return None if cost is None else cost * 1_000_000


def picks(results: Sequence[SettingResult], arch: str = "x86_64") -> dict[str, Pick | None]:
    """The best setting by each strategy, among those that ran clean and fit."""
    candidates = []
    for r in results:
        cost, duration = r.cost(arch), r.trimmed_ms
        if r.ok and cost is not None and duration is not None:
            candidates.append(Candidate(r.memory_mb, duration, cost))
    return {s: pick(candidates, s) if candidates else None for s in STRATEGIES}


def _child_spec(config: FunctionConfig, memory_mb: int, event: Any, repeat: int) -> str:
    fields = {
        "handler": config.handler,
        "function_name": config.function_name,
        "memory_mb": memory_mb,
        "timeout": config.timeout,
        "tmp_size_mb": config.tmp_size_mb,
        "region": config.region,
        "env": dict(config.env),
        "task_root": config.task_root,
        "version": config.version,
        "tmp_mode": config.tmp_mode,
        "cpu": config.cpu,
        "init_cpu": config.init_cpu,
        "lambda_limits": config.lambda_limits,
    }
    return json.dumps({"config": fields, "event": event, "repeat": repeat})


def _stop(proc: subprocess.Popen[str]) -> None:
    """SIGINT (the child's Environment closes, removing its cgroup), then SIGKILL after 10 s.

    On Ctrl-C in a terminal the child got the SIGINT already: give it a moment to end first.
    """
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=2)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def run_setting(config: FunctionConfig, memory_mb: int, event: Any, repeat: int) -> SettingResult:
    """One setting in a fresh process (see `sandbox.tuning._child`)."""
    # INIT 10 s at most, each invocation its timeout, plus the interpreter's start.
    limit = 30 + 10 + (repeat + 1) * config.timeout
    runner_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    spec = _child_spec(config, memory_mb, event, repeat)
    with subprocess.Popen(
        [sys.executable, "-m", "sandbox.tuning._child"],
        cwd=config.task_root,
        env=runner_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(spec, timeout=limit)
        except subprocess.TimeoutExpired:
            _stop(proc)
            return SettingResult(memory_mb, "", "", None, [], error=f"no answer in {limit:.0f} s")
        except BaseException:  # Ctrl-C: let the child end its environment (and cgroup) first
            _stop(proc)
            raise
    if proc.returncode != 0:
        tail = stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        return SettingResult(memory_mb, "", "", None, [], error=tail[0][:300])
    out = json.loads(stdout.strip().splitlines()[-1])
    return SettingResult(
        memory_mb, out["cpu_mode"], out["cpu"], out["vcpus"], out["runs"], out["memory_method"]
    )


def tune(
    config: FunctionConfig,
    event: Any,
    settings: Sequence[int],
    *,
    repeat: int,
    progress: Callable[[str], None] = lambda line: None,
    activity: Callable[[str], contextlib.AbstractContextManager[object]] | None = None,
) -> list[SettingResult]:
    """Every setting, smallest first; ``progress`` gets one line per setting. With
    ``activity`` (a live status on a terminal, `seed.progress.activity`), each setting's run
    is shown by it instead of a line saying that it started."""
    if not settings:
        raise TuneError("no memory settings to tune")
    if repeat < 1:
        raise TuneError(f"--repeat must be at least 1 warm run per setting, got {repeat}")
    results = []
    for i, mb in enumerate(settings, 1):
        running = f"[{i}/{len(settings)}] {mb} MB: 1 cold + {repeat} warm"
        if activity is None:
            progress(running + " ...")
        with activity(running) if activity is not None else contextlib.nullcontext():
            r = run_setting(config, mb, event, repeat)
        results.append(r)
        trimmed = r.trimmed_ms
        summary = (
            f"warm {trimmed / 1000:.3f} s (trimmed mean), INIT {(r.init_ms or 0) / 1000:.3f} s, "
            f"{r.max_memory_used_mb} MB used"
            if trimmed is not None
            else r.status
        )
        progress(f"[{i}/{len(settings)}] {mb} MB: {summary}; {r.cpu_mode or 'cpu ?'}")
    return results
