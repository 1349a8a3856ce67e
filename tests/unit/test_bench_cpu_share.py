"""The bench report's cost section from the CPU-share runs (pure: records in, markdown out)."""

from __future__ import annotations

from typing import Any

from bench._cpu_share import cpu_share_picks, cpu_share_section
from bench.report import render

MIB = 1024 * 1024


def _share(mb: int, duration_ms: float, mode: str = "cgroup v1", used_mib: int = 90) -> Any:
    return {
        "kind": "cpu_share", "name": f"share[{mb}]", "n": 10_000, "memory_mb": mb,
        "cpu_mode": mode, "vcpus": mb / 1769, "init_ms": 300.0,
        "durations_ms": [duration_ms] * 3, "duration_ms_median": duration_ms,
        "duration_ms_trimmed": duration_ms, "max_memory_used_bytes": used_mib * MIB,
    }  # fmt: skip


# The measured figures for the sample handler on 10k keys.
MEASURED = [_share(128, 16_100), _share(512, 3_700), _share(1769, 950), _share(3008, 930)]


def test_the_recommendation_is_the_cheapest_setting_that_fits_not_the_smallest() -> None:
    text = "\n".join(cpu_share_section(MEASURED))
    assert "**Recommendation: 1769 MB**" in text
    assert "the smallest setting that fits, 128 MB" in text  # the old answer, quoted
    assert "CPU NOT LIMITED" not in text


def test_settings_whose_memory_does_not_fit_are_not_picked() -> None:
    records = [_share(128, 100, used_mib=120), _share(512, 400)]
    assert cpu_share_picks(records)["cost"].memory_mb == 512  # type: ignore[union-attr]


def test_a_run_without_a_cgroup_says_its_figures_are_not_lambdas() -> None:
    text = "\n".join(cpu_share_section([_share(128, 900, mode="not limited: not root")]))
    assert "CPU NOT LIMITED" in text


def test_the_report_uses_the_cpu_share_section_and_links_its_chart() -> None:
    meta: dict[str, Any] = {"bench_meta": {}, "machine_info": {}, "commit_info": {}}
    text = render(MEASURED, meta, charts=["cpu_share.svg"])
    assert "with Lambda's CPU share" in text and "(cpu_share.svg)" in text
    assert "Caveat: on Lambda CPU scales with memory" not in text
    assert "(cpu_share.svg)" not in render(MEASURED, meta, charts=[])


def test_a_busy_machine_is_flagged() -> None:
    busy = {**_share(3008, 900), "load_average_1m": 9.5, "cores": 2}
    text = "\n".join(cpu_share_section([_share(128, 16_000), busy]))
    assert "**Machine busy**" in text and "9.5 on 2 cores" in text
    assert "Machine busy" not in "\n".join(cpu_share_section(MEASURED))
