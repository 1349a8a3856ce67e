"""Max Memory Used is the invocation's real peak RSS, not the configured size."""

from __future__ import annotations

import pytest

from sandbox.runtime import Environment, FunctionConfig
from sandbox.runtime.memory import ClearRefsPeak, RusagePeak, SampledPeak, best_peak_rss

H = "tests.unit.handlers.probes"
MB = 1024 * 1024


def test_a_300_mb_allocation_reports_at_least_300_mb_and_a_noop_far_less() -> None:
    cfg = FunctionConfig(handler=f"{H}.allocate", memory_mb=1024)
    with Environment(cfg) as env:
        big = env.invoke({"mb": 300})
        small = env.invoke({"mb": 0})
    assert big.ok and small.ok
    assert big.max_memory_used_mb >= 300
    assert small.max_memory_used_mb < big.max_memory_used_mb - 250
    assert small.max_memory_used_mb < 1024  # not the configured size
    assert f"Max Memory Used: {big.max_memory_used_mb} MB" in big.report_line()


def test_memory_past_the_configured_size_is_flagged_and_the_environment_discarded() -> None:
    cfg = FunctionConfig(handler=f"{H}.allocate", memory_mb=128)
    with Environment(cfg) as env:
        inv = env.invoke({"mb": 200})
        assert env.cold
    assert inv.would_be_killed
    assert "would be killed on Lambda" in inv.report_line()


def test_memory_under_the_configured_size_is_not_flagged() -> None:
    with Environment(FunctionConfig(handler=f"{H}.allocate", memory_mb=2048)) as env:
        inv = env.invoke({"mb": 1})
    assert not inv.would_be_killed
    assert "would be killed" not in inv.report_line()


def test_linux_uses_the_kernels_high_water_mark() -> None:
    peak = best_peak_rss()
    try:
        assert isinstance(peak, ClearRefsPeak)
    finally:
        peak.close()


@pytest.mark.parametrize("make", [SampledPeak, ClearRefsPeak])
def test_each_method_sees_a_100_mb_spike_after_a_reset(make: type) -> None:
    peak = make()
    try:
        peak.reset()
        base = peak.peak_bytes()
        block = bytearray(100 * MB)
        for i in range(0, len(block), 4096):
            block[i] = 1
        del block
        assert peak.peak_bytes() - base >= 95 * MB
    finally:
        peak.close()


def test_the_rusage_fallback_says_it_cannot_be_reset() -> None:
    peak = RusagePeak()
    assert "cannot be reset" in peak.method
    assert peak.peak_bytes() > 0
