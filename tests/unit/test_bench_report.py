"""The benchmark report's pure parts: prices, the memory recommendation, the aims check."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bench._results import check_aims
from bench.report import cost_rows, render
from sandbox.tuning.pricing import (
    ARCH_PRICES,
    REQUEST_PRICE,
    billed_ms,
    invocation_cost,
    recommend_memory,
)

MIB = 1024 * 1024


def _records(
    *,
    handler_s: float = 1.0,
    floor_s: float = 0.9,
    naive_s: float = 12.0,
    growth: dict[str, float] | None = None,
    tmp_peak: int = 4_900_000,
) -> list[dict[str, Any]]:
    growth = growth if growth is not None else {}
    records: list[dict[str, Any]] = [
        {"kind": "floor", "n": 10_000, "median_s": floor_s, "name": "floor"},
        {"kind": "handler", "n": 10_000, "presigner": "fast", "median_s": handler_s,
         "keys_per_s": 10_000, "name": "handler"},
        {"kind": "naive", "n": 10_000, "median_s": naive_s, "name": "naive"},
        {"kind": "sweep", "n": 10_000, "queue_maxsize": 100, "consumers": 1, "median_s": 1.0,
         "manifest_bytes": 4_900_000, "tmp_peak_bytes": tmp_peak, "peak_queue_depth": 100,
         "name": "sweep"},
    ]  # fmt: skip
    for config in ("default", "bounded-slow", "unbounded-slow"):
        for n, extra in ((1_000, 0.0), (100_000, growth.get(config, 0.0))):
            records.append(
                {"kind": "memory", "config": config, "n": n, "name": f"mem-{config}-{n}",
                 "max_memory_used_bytes": int((80 + extra) * MIB),
                 "baseline_memory_bytes": 78 * MIB, "mem_delta_bytes": int((2 + extra) * MIB),
                 "tmp_peak_bytes": n * 490, "duration_ms": 1000.0, "init_ms": 300.0}
            )  # fmt: skip
    return records


def _held(records: list[dict[str, Any]]) -> dict[str, bool | None]:
    return {aim.name: aim.held for aim in check_aims(records)}


def test_billed_duration_rounds_up_to_the_millisecond_and_adds_init() -> None:
    assert billed_ms(100.2) == 101
    assert billed_ms(100.0, init_ms=250.5) == 351
    assert billed_ms(0.0) == 1


def test_a_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="durations must be >= 0"):
        billed_ms(-1.0)


def test_one_gb_second_costs_the_architecture_price_plus_the_request() -> None:
    for arch, price in ARCH_PRICES.items():
        assert math.isclose(invocation_cost(1024, 1000.0, arch=arch), price + REQUEST_PRICE)


def test_arm64_is_cheaper_than_x86_for_the_same_duration() -> None:
    assert invocation_cost(512, 800.0, arch="arm64") < invocation_cost(512, 800.0)


def test_an_unknown_architecture_is_refused() -> None:
    with pytest.raises(ValueError, match="is not one of"):
        invocation_cost(512, 1.0, arch="sparc")


def test_the_recommendation_is_the_smallest_setting_above_the_headroom() -> None:
    assert recommend_memory(100 * MIB) == 128  # 120 MB needed
    assert recommend_memory(107 * MIB) == 256  # 128.4 MB needed: 128 is too small
    assert recommend_memory(900 * MIB, settings=(512, 1024, 2048)) == 2048


def test_memory_beyond_every_setting_is_an_error_saying_what_to_do() -> None:
    with pytest.raises(ValueError, match="fewer objects per invocation"):
        recommend_memory(9000 * MIB)


def test_cold_rows_cost_more_than_a_warm_invocation() -> None:
    rows = cost_rows(1000.0, 400.0, settings=(1024,))
    assert rows[0]["cold_x86_64"] > rows[0]["warm_1m_x86_64"] / 1_000_000


def test_every_aim_holds_on_figures_that_meet_them() -> None:
    held = _held(_records(growth={"default": 1.0, "bounded-slow": 2.0, "unbounded-slow": 40.0}))
    assert all(held.values()), held


def test_a_slow_handler_and_a_fast_naive_version_fail_their_aims() -> None:
    held = _held(_records(handler_s=1.5, floor_s=1.0, naive_s=5.0))
    assert held["handler within 1.2x of the listing floor at 10,000 objects"] is False
    assert held["at least 10x faster than the naive version at 10,000 objects"] is False


def test_memory_that_grows_with_a_bounded_queue_fails_the_flat_aim() -> None:
    held = _held(_records(growth={"default": 30.0, "unbounded-slow": 40.0}))
    assert held["peak memory flat in N with a bounded queue (default)"] is False
    assert held["peak memory flat in N with a bounded queue (bounded-slow)"] is True


def test_an_unbounded_queue_that_does_not_grow_fails_the_growth_aim() -> None:
    held = _held(_records(growth={"unbounded-slow": 1.0}))
    assert held["peak memory grows with an unbounded queue and a slow consumer"] is False


def test_a_tmp_peak_far_from_the_manifest_size_fails() -> None:
    held = _held(_records(tmp_peak=2_000_000))
    assert held["/tmp peak equals the manifest size"] is False


def test_aims_without_data_are_neither_held_nor_failed() -> None:
    assert set(_held([]).values()) == {None}


def test_the_report_names_the_backend_and_marks_the_recommended_memory() -> None:
    meta = {"bench_meta": {"backend": "minio", "datasets": {}}, "machine_info": {},
            "commit_info": {}, "datetime": "now"}  # fmt: skip
    text = render(_records(), meta, charts=("memory_vs_n.svg",))
    assert "**Backend: minio**" in text
    assert "| 128 MB | **recommended** |" in text
    assert "time_vs_queue.svg" not in text  # no chart written: no dangling image link


def test_the_report_lists_the_service_load_percentiles_against_one_warm_call() -> None:
    from bench.report import _other

    record: dict[str, Any] = {
        "name": "test_fifty_concurrent_invocations_all_succeed_with_complete_distinct_manifests",
        "concurrency": 50,
        "objects": 1000,
        "warm_bursts": {"p50_ms": 24245.6, "p95_ms": 31411.3, "p99_ms": 31479.6},
        "single_warm_ms": 2020.0,
        "warm_p50_over_single": 12.0,
        "warm_p99_over_single": 15.6,
    }
    text = "\n".join(_other([record]))
    assert "50 concurrent invocations" in text
    assert "p50 24.2 s, p95 31.4 s, p99 31.5 s" in text and "**12.0x**" in text
