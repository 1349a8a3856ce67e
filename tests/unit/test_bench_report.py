"""The benchmark report's pure parts: prices, the memory recommendation, the aims check."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from bench._report_round2 import scale_section
from bench._results import check_aims, load_records
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
    assert (
        held["handler within 1.2x of the listing floor (botocore's paginator) at 10,000 objects "
             "(round 1)"] is False
    )  # fmt: skip
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


# Round 2 (issues 12-16): each section from small synthetic records, and absent without them.
META: dict[str, Any] = {"bench_meta": {"backend": "minio", "datasets": {}}, "machine_info": {},
                        "commit_info": {}, "datetime": "now"}  # fmt: skip


def _listing(n: int = 10_000, handler_s: float = 1.2, cpu: float = 0.15) -> list[dict[str, Any]]:
    def rec(kind: str, median_s: float, cpu_s: float | None = None, **extra: Any) -> Any:
        r = {"kind": kind, "n": n, "median_s": median_s, "name": f"{kind}[{n}]", **extra}
        return r if cpu_s is None else {**r, "cpu_s_median": cpu_s}

    return [
        rec("server-floor", 1.0, 0.05),
        rec("obstore", 1.5, 0.4),
        rec("list-lean", 1.1, 0.12),
        rec("list-paginator", 1.8, 0.65),
        rec("floor", 1.9),
        rec("handler", handler_s, cpu, presigner="fast", lister="fast", keys_per_s=n),
        rec("handler-lister-botocore", 2.6, 0.9, presigner="fast", lister="botocore"),
    ]


def _lister_share(mb: int, lister: str, duration_ms: float) -> dict[str, Any]:
    return {"kind": "cpu_share_lister", "name": f"by_lister[{mb}-{lister}]", "n": 10_000,
            "memory_mb": mb, "lister": lister, "cpu_mode": "cgroup v1", "vcpus": mb / 1769,
            "duration_ms_median": duration_ms, "median_s": 20.0}  # fmt: skip


def _aims_of(text: str) -> dict[str, str]:
    """aim name -> mark, from every aims table in the markdown (round 1's included)."""
    rows = [ln.split(" | ") for ln in text.splitlines() if ln.startswith("| ✓ |")
            or ln.startswith("| ✗ |") or ln.startswith("| – |")]  # fmt: skip
    return {row[1]: row[0].removeprefix("| ") for row in rows}


def test_the_listing_section_shows_each_method_against_the_server_floor() -> None:
    text = render(_listing(), META)
    assert "## Listing methods (issue 12)" in text
    assert "| **handler**, lean lister (as shipped) | 1.200 s | 0.150 | **1.20x** |" in text
    assert "| botocore paginator (`LISTER=botocore`) | 1.800 s | 0.650 | 1.80x |" in text
    marks = _aims_of(text)
    assert marks["handler within 1.3x of the server floor at 10,000 objects"] == "✓"
    assert marks["handler CPU <= 0.2 CPU-s per 10,000 objects at 10,000"] == "✓"
    assert marks["handler faster than obstore's list alone at 10,000 objects"] == "✓"


def test_a_slow_hungry_handler_fails_the_listing_aims() -> None:
    marks = _aims_of(render(_listing(handler_s=1.6, cpu=0.3), META))
    assert marks["handler within 1.3x of the server floor at 10,000 objects"] == "✗"
    assert marks["handler CPU <= 0.2 CPU-s per 10,000 objects at 10,000"] == "✗"
    assert marks["handler faster than obstore's list alone at 10,000 objects"] == "✗"


def test_the_100k_aims_appear_only_when_the_run_has_that_point() -> None:
    assert "at 100,000" not in render(_listing(), META)
    text = render([*_listing(), *_listing(n=100_000, handler_s=14.0, cpu=1.2)], META)
    assert "**100,000 objects**" in text
    assert _aims_of(text)["handler within 1.3x of the server floor at 100,000 objects"] == "✗"


def test_the_cpu_share_lister_table_gives_botocore_over_lean() -> None:
    records = [
        _lister_share(128, "fast", 4_000),
        _lister_share(128, "botocore", 16_000),
        _lister_share(512, "fast", 1_000),
        _lister_share(512, "botocore", 3_900),
    ]
    text = render([*_listing(), *records], META)
    assert "## Lean listing under the CPU share (10,000 objects)" in text
    assert "| 128 MB | 0.072 | 4.000 s | 16.000 s | **4.0x** |" in text
    assert "| 512 MB | 0.289 | 1.000 s | 3.900 s | **3.9x** |" in text
    aim = "at 128 MB's CPU share, lean lister >= 3x faster than botocore's"
    assert _aims_of(text)[aim] == "✓"
    assert text.count(aim) == 1  # in the CPU-share section only
    slow = [_lister_share(128, "fast", 8_000), _lister_share(128, "botocore", 16_000)]
    alone = render(slow, META)  # without the listing records: this section and its aim only
    assert "Listing methods" not in alone and _aims_of(alone)[aim] == "✗"


def test_cold_init_is_reported_in_the_listing_section() -> None:
    imported = {
        "name": "test_cold_import[function]",
        "median_s": 0.3,
        "ratio_to_aioboto3": 1.109,
        "import_ms_over_interpreter": 275.8,
        "aioboto3_ms_over_interpreter": 248.7,
    }
    text = render([*_listing(), imported], META)
    assert "Cold INIT (reported, no aim)" in text and "**1.11x** aioboto3's own 249 ms" in text


def test_the_service_section_compares_with_a_direct_invoke_and_with_sam() -> None:
    records = [
        {"name": "test_direct_warm_environment_invoke", "median_s": 0.0008, "min_s": 0.0003},
        {"name": "test_warm_invoke_over_http_through_the_service", "median_s": 0.002,
         "min_s": 0.0011, "ratio_to_direct": 2.5},
        {"name": "test_warm_invoke_with_boto3_through_the_service", "median_s": 0.01,
         "min_s": 0.0028, "ratio_to_direct": 12.5},
    ]  # fmt: skip
    text = render(records, META)
    assert "## Local Lambda service overhead (issue 13)" in text
    assert "| direct `Environment.invoke` (in-process) | 0.80 ms | 0.30 ms | 1x |" in text
    assert "| Invoke API over keep-alive HTTP | 2.00 ms | 1.10 ms | **2.5x** |" in text
    assert "| Invoke API through boto3's `lambda` client | 10.00 ms | 2.80 ms | **12.5x** |" in text
    assert "SAM publishes 1.9-4.1 s" in text and "**190-410x** less" in text


def test_the_seeding_section_gives_each_method_against_sequential_puts() -> None:
    record = {"name": "test_upload_rate_snowball_against_concurrent_and_sequential_put[minio]",
              "backend": "minio", "objects": 10_000, "snowball_objects_per_second": 3000.0,
              "put_objects_per_second": 750.0, "sequential_objects_per_second": 300.0,
              "snowball_vs_put": 4.0, "snowball_vs_sequential": 10.0, "put_vs_sequential": 2.5,
              "repaired": 0, "median_s": 3.3}  # fmt: skip
    text = render([record], META)
    assert "## Seeding methods (issue 15): 10,000 objects on minio" in text
    assert "| MinIO snowball (tar batches, verified by listing) | 3,000 | 10.0x |" in text
    assert "| concurrent PUTs (`--method put`) | 750 | 2.5x |" in text
    assert "Snowball: **4.0x** the concurrent PUTs" in text


def _scale(n: int, tmp_mib: float, mem_mib: float) -> dict[str, Any]:
    return {"kind": "scale", "name": f"scale[{n}]", "n": n, "part_mb": 8, "median_s": 1.0,
            "duration_ms": n / 10, "keys_per_s": 10_000, "tmp_peak_bytes": int(tmp_mib * MIB),
            "max_memory_used_bytes": int(mem_mib * MIB), "mem_delta_bytes": 20 * MIB}  # fmt: skip


def _continuation(ratio: float) -> dict[str, Any]:
    return {"kind": "continuation", "name": "continuation[10000]", "n": 10_000, "timeout_s": 3.0,
            "rounds": 4, "rounds_duration_ms": 1000 * ratio, "single_duration_ms": 1000.0,
            "ratio": ratio, "median_s": 5.0}  # fmt: skip


def test_the_scale_section_checks_tmp_memory_and_continuation() -> None:
    records = [_scale(10_000, 4.7, 68), _scale(1_000_000, 8.4, 74), _continuation(1.08)]
    text = render(records, META)
    assert "## Scale and continuation (issue 14)" in text
    assert "| 1,000,000 | 100.00 s | 10,000 | 8.4 | 74.0 | 20.0 |" in text
    assert "| 10,000 | 1,024 MB (0.58) | 3 s | 4 | 1.08 s | 1.00 s | **1.08x** |" in text
    marks = _aims_of(text)
    assert marks["/tmp peak within one manifest part at every N"] == "✓"
    assert marks["memory flat from 10k to 1M objects"] == "✓"
    assert marks["continued rounds cost about one uninterrupted run"] == "✓"


def test_a_900_s_point_has_no_single_run_and_one_round_points_do_not_count_for_the_aim() -> None:
    at_900 = {**_continuation(1.0), "n": 1_000_000, "timeout_s": 900.0, "memory_mb": 128,
              "rounds": 2, "rounds_duration_ms": 700_000.0, "single_duration_ms": None,
              "ratio": None}  # fmt: skip
    one_round = {**_continuation(0.98), "rounds": 1}
    text = "\n".join(scale_section([at_900, one_round]))
    assert "| 1,000,000 | 128 MB (0.07) | 900 s | 2 | 700.00 s | — | — |" in text
    assert _aims_of(text)["continued rounds cost about one uninterrupted run"] == "–"
    text = "\n".join(scale_section([at_900, one_round, _continuation(1.3)]))
    assert _aims_of(text)["continued rounds cost about one uninterrupted run"] == "✗"


def test_scale_aims_fail_on_a_big_tmp_growing_memory_or_costly_rounds() -> None:
    records = [_scale(10_000, 4.7, 68), _scale(1_000_000, 9.5, 90), _continuation(1.3)]
    marks = _aims_of("\n".join(scale_section(records)))
    assert set(marks.values()) == {"✗"}


def test_without_the_1m_point_the_memory_aim_has_no_data() -> None:
    marks = _aims_of(render([_scale(10_000, 4.7, 68)], META))
    assert marks["memory flat from 10k to 1M objects"] == "–"
    assert "continued rounds" not in render([_scale(10_000, 4.7, 68)], META)


def test_the_fault_layer_cost_is_one_line_of_the_other_section() -> None:
    records = [
        {"name": "test_head_object_through[direct]", "group": "fault-layer-head",
         "path": "direct", "median_s": 0.001},
        {"name": "test_head_object_through[layer]", "group": "fault-layer-head", "path": "layer",
         "median_s": 0.0015, "shim_cpu_us_per_request": 180.0},
    ]  # fmt: skip
    text = render(records, META)
    line = next(ln for ln in text.splitlines() if "Fault layer" in ln)
    assert "HEAD **+0.50 ms** on 1.00 ms, shim 180 µs CPU/request" in line


def test_a_run_without_round_2_records_has_none_of_their_sections() -> None:
    text = render(_records(), META)
    for heading in ("Listing methods", "under the CPU share", "service overhead",
                    "Seeding methods", "Scale and continuation", "Fault layer"):  # fmt: skip
        assert heading not in text
    assert render([], META).startswith("# Benchmarks")


def test_a_records_own_rounds_survive_loading_pytest_benchmark_json(tmp_path: Path) -> None:
    """The continuation bench's ``rounds`` (Step Functions rounds) is not pytest-benchmark's."""
    doc = {"benchmarks": [{"name": "continuation[10000]", "group": "continuation",
                           "stats": {"median": 5.0, "min": 5.0, "rounds": 1},
                           "extra_info": {"kind": "continuation", "rounds": 10}}]}  # fmt: skip
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(doc))
    records, _ = load_records(path)
    assert records[0]["rounds"] == 10 and records[0]["bench_rounds"] == 1
