"""The report's sections for issues 13-16: service overhead, seeding methods, scale, faults.

Records read:

* `bench.test_service_bench`: ``test_direct_warm_environment_invoke``,
  ``test_warm_invoke_over_http_through_the_service``,
  ``test_warm_invoke_with_boto3_through_the_service`` (a no-op handler: the path alone);
* `bench.test_seed_bench`'s ``upload-methods`` record (``snowball_objects_per_second`` ...);
* `bench.test_scale_bench`: ``kind="scale"`` and ``kind="continuation"``;
* `bench.test_faults_bench`: ``path`` in direct / shim / toxiproxy / layer, per request group.

Each section is ``[]`` (the faults line: no line) when the run has none of its records.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench._report_listing import aim_lines
from bench._results import MIB, Aim, Record, find

__all__ = ["fault_layer_lines", "scale_aims", "scale_section", "seeding_section", "service_section"]

SAM_SECONDS = (1.9, 4.1)  # what SAM publishes per `sam local invoke` (a container per call)
SERVICE_TESTS = (
    ("direct `Environment.invoke` (in-process)", "test_direct_warm_environment_invoke"),
    ("Invoke API over keep-alive HTTP", "test_warm_invoke_over_http_through_the_service"),
    ("Invoke API through boto3's `lambda` client",
     "test_warm_invoke_with_boto3_through_the_service"),
)  # fmt: skip
TMP_SLACK_MIB = 1  # /tmp peak <= one part + this
GROWTH_MIB = 10.0  # Max Memory Used at 1M - at 10k
CONTINUATION_TOLERANCE = 0.15  # sum of the rounds vs one uninterrupted run


def _named(records: Sequence[Record], name: str) -> Record | None:
    """The record of test ``name`` (any parameter id)."""
    return next((r for r in records if str(r.get("name", "")).split("[")[0] == name), None)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def service_section(records: Sequence[Record]) -> list[str]:
    """Warm round trips through the local Lambda service against a direct invoke."""
    rows = [(label, _named(records, name)) for label, name in SERVICE_TESTS]
    if not any(r for _, r in rows):
        return []
    direct = rows[0][1]
    base = direct["median_s"] if direct else None
    lines = [
        "## Local Lambda service overhead (issue 13)",
        "",
        "A no-op handler, so only the path is measured; warm round trips, same run.",
        "",
        "| warm round trip | median | best | vs direct |",
        "| --- | --- | --- | --- |",
    ]
    for label, r in rows:
        if r is None:
            continue
        ratio = "1x" if r is direct else f"**{r['median_s'] / base:.1f}x**" if base else "–"
        lines.append(f"| {label} | {_ms(r['median_s'])} | {_ms(r['min_s'])} | {ratio} |")
    lines.append("")
    slowest = next((r for _, r in reversed(rows) if r and r is not direct), None)
    if slowest is not None:
        low, high = (s / slowest["median_s"] for s in SAM_SECONDS)
        lines += [
            f"SAM publishes {SAM_SECONDS[0]}-{SAM_SECONDS[1]} s per local invoke (a container "
            f"per call): ours, {_ms(slowest['median_s'])}, is **{low:,.0f}-{high:,.0f}x** less.",
            "",
        ]
    return lines


def seeding_section(records: Sequence[Record]) -> list[str]:
    """MinIO snowball against concurrent and sequential PUTs, same objects, same run."""
    r = next((r for r in records if r.get("snowball_objects_per_second")), None)
    if r is None:
        return []
    seq = r["sequential_objects_per_second"]
    rows = (
        ("MinIO snowball (tar batches, verified by listing)", r["snowball_objects_per_second"]),
        ("concurrent PUTs (`--method put`)", r["put_objects_per_second"]),
        ("sequential boto3 `put_object` loop", seq),
    )
    lines = [
        f"## Seeding methods (issue 15): {r['objects']:,} objects on {r.get('backend', '?')}",
        "",
        "| method | objects/s | vs sequential PUT |",
        "| --- | --- | --- |",
        *(f"| {label} | {rate:,.0f} | {rate / seq:.1f}x |" for label, rate in rows),
        "",
        f"Snowball: **{r['snowball_vs_put']:.1f}x** the concurrent PUTs, "
        f"**{r['snowball_vs_sequential']:.1f}x** the sequential loop; "
        f"{r.get('repaired', 0):,} objects re-sent after the verify listing.",
        "",
    ]
    return lines


def _tmp_aim(scale: Sequence[Record]) -> Aim:
    worst = max(scale, key=lambda r: r["tmp_peak_bytes"] - r["part_mb"] * MIB)
    return Aim(
        "/tmp peak within one manifest part at every N",
        f"/tmp peak <= part ({worst['part_mb']} MiB) + {TMP_SLACK_MIB} MiB",
        f"worst {worst['tmp_peak_bytes'] / MIB:.1f} MiB at {worst['n']:,}",
        all(r["tmp_peak_bytes"] <= (r["part_mb"] + TMP_SLACK_MIB) * MIB for r in scale),
    )


def _growth_aim(scale: Sequence[Record]) -> Aim:
    name, target = "memory flat from 10k to 1M objects", f"growth <= {GROWTH_MIB:.0f} MiB"
    small = next((r for r in scale if r["n"] == 10_000), None)
    large = next((r for r in scale if r["n"] == 1_000_000), None)
    if not (small and large):
        return Aim(name, target, "no data (the 1M point runs with `make bench-full`)", None)
    grown = (large["max_memory_used_bytes"] - small["max_memory_used_bytes"]) / MIB
    return Aim(name, target, f"{grown:+.1f} MiB", grown <= GROWTH_MIB)


def _continuation_aim(rounds: Sequence[Record]) -> Aim:
    low, high = 1 - CONTINUATION_TOLERANCE, 1 + CONTINUATION_TOLERANCE
    name = "continued rounds cost about one uninterrupted run"
    target = f"sum of rounds / single run within {low:.2f}-{high:.2f}"
    compared = [r for r in rounds if r.get("ratio") is not None and r["rounds"] > 1]
    if not compared:
        return Aim(name, target, "no point with more than one round and a single run", None)
    worst = max(compared, key=lambda r: abs(r["ratio"] - 1))
    return Aim(
        name,
        target,
        f"worst {worst['ratio']:.2f}x ({worst['rounds']} rounds, {worst['n']:,} objects, "
        f"{worst.get('memory_mb', 1024)} MB)",
        all(low <= r["ratio"] <= high for r in compared),
    )


def _single(r: Record) -> str:
    if r.get("single_duration_ms") is None:
        return "— | —"
    return f"{r['single_duration_ms'] / 1000:.2f} s | **{r['ratio']:.2f}x**"


def scale_aims(records: Sequence[Record]) -> list[Aim]:
    """Issue 14's aims; [] when the run has no scale or continuation records."""
    scale = sorted(find(records, kind="scale"), key=lambda r: r["n"])
    rounds = find(records, kind="continuation")
    aims = [_tmp_aim(scale), _growth_aim(scale)] if scale else []
    return [*aims, _continuation_aim(rounds)] if rounds else aims


def scale_section(records: Sequence[Record]) -> list[str]:
    """/tmp, memory and wall time against N, and continuation against one run."""
    scale = sorted(find(records, kind="scale"), key=lambda r: r["n"])
    rounds = sorted(find(records, kind="continuation"), key=lambda r: r["n"])
    if not (scale or rounds):
        return []
    lines = ["## Scale and continuation (issue 14)", ""]
    if scale:
        lines += [
            f"The handler in a fresh process per N, `MANIFEST_PART_MB={scale[0]['part_mb']}`, "
            "/tmp 512 MB.",
            "",
            "| N | wall | keys/s | /tmp peak MiB | Max Memory Used MiB | over idle MiB |",
            "| --- | --- | --- | --- | --- | --- |",
            *(
                f"| {r['n']:,} | {r['duration_ms'] / 1000:.2f} s | {r['keys_per_s']:,} | "
                f"{r['tmp_peak_bytes'] / MIB:.1f} | {r['max_memory_used_bytes'] / MIB:.1f} | "
                f"{r['mem_delta_bytes'] / MIB:.1f} |"
                for r in scale
            ),
            "",
        ]
    if rounds:
        lines += [
            "Continuation: the Step Functions loop with a short timeout, against one",
            "uninterrupted warm invocation of the same prefix at the same memory (the same",
            "CPU share) in the same run. At 900 s (Lambda's longest timeout) there is no single",
            "run to compare: the point is how many rounds the smallest setting needs.",
            "",
            "| N | memory (vCPU) | timeout | rounds | sum of rounds | single run | ratio |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *(
                f"| {r['n']:,} | {r.get('memory_mb', 1024):,} MB "
                f"({r.get('memory_mb', 1024) / 1769:.2f}) | {r['timeout_s']:g} s | "
                f"{r['rounds']} | {r['rounds_duration_ms'] / 1000:.2f} s | {_single(r)} |"
                for r in rounds
            ),
            "",
        ]
    return [*lines, "Aims of issue 14:", "", *aim_lines(scale_aims(records))]


def fault_layer_lines(records: Sequence[Record]) -> list[str]:
    """One line: what the fault layer adds per request with no fault on."""
    parts = []
    for group, label in (("fault-layer-head", "HEAD"), ("fault-layer-list", "1,000-key list")):
        direct = next(iter(find(records, group=group, path="direct")), None)
        layer = next(iter(find(records, group=group, path="layer")), None)
        if not (direct and layer):
            continue
        extra = layer["median_s"] - direct["median_s"]
        cpu = layer.get("shim_cpu_us_per_request")
        shim = f", shim {cpu:,.0f} µs CPU/request" if cpu is not None else ""
        parts.append(f"{label} **{extra * 1000:+.2f} ms** on {_ms(direct['median_s'])}{shim}")
    if not parts:
        return []
    return [f"- Fault layer (Toxiproxy + shim), no fault on: {'; '.join(parts)}"]
