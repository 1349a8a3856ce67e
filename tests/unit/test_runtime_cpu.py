"""The CPU share's arithmetic (no cgroup touched): shares, quotas, the INIT boost, modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.runtime import ConfigError, FunctionConfig
from sandbox.runtime.cpu import MIN_QUOTA_US, CpuShare, init_vcpus, lambda_vcpus, quota_us


def test_1769_mb_is_one_vcpu_and_128_mb_about_a_fourteenth() -> None:
    assert lambda_vcpus(1769, cores=8) == 1.0
    assert lambda_vcpus(128, cores=8) == pytest.approx(1 / 13.82, rel=1e-3)
    assert lambda_vcpus(10240, cores=8) == pytest.approx(5.79, rel=1e-3)


def test_the_share_is_capped_at_the_machines_cores() -> None:
    assert lambda_vcpus(10240, cores=2) == 2.0


def test_the_quota_is_the_share_of_the_period_and_never_under_a_millisecond() -> None:
    assert quota_us(0.5, 20_000) == 10_000
    assert quota_us(128 / 1769, 20_000) == 1447
    assert quota_us(128 / 1769, 10_000) == MIN_QUOTA_US  # 724 would be refused by the kernel


@pytest.mark.parametrize(
    ("memory_mb", "vcpus"),
    [(128, 2), (3008, 2), (3009, 3), (5307, 3), (5308, 4), (7077, 5), (8846, 6), (10240, 6)],
)
def test_init_runs_on_the_microvms_vcpu_count(memory_mb: int, vcpus: int) -> None:
    assert init_vcpus(memory_mb, cores=64) == vcpus


def test_cpu_full_asks_for_no_cgroup() -> None:
    share = CpuShare.create(128, "full")
    assert share.mode == "full (--cpu full)" and not share.limited and share.vcpus is None
    share.join()  # nothing to join
    share.close()


def test_without_a_cpu_controller_the_mode_says_not_limited_and_why(tmp_path: Path) -> None:
    share = CpuShare.create(128, root=tmp_path)
    assert share.mode.startswith(f"not limited: no cgroup v1 cpu controller at {tmp_path}")
    assert "NOT Lambda's" in share.describe(128)


def test_an_unknown_cpu_mode_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cpu mode 'half'"):
        FunctionConfig(cpu="half")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="init cpu mode 'fast'"):
        FunctionConfig(init_cpu="fast")  # type: ignore[arg-type]
