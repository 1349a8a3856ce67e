"""The report's cost section from the runs with Lambda's CPU share (``handler-cpu-share``).

Each memory setting's warm Duration was measured with its own CPU share (memory / 1769 vCPU,
`sandbox.runtime.cpu`), so cost per invocation differs per setting as it would on Lambda. The
picks use power tuning's strategies (`sandbox.tuning.strategies`) over the settings whose Max
Memory Used x `HEADROOM` fits; the recommendation is the ``cost`` pick. The section also says
what the unthrottled figure alone would have recommended (the report's old answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench._results import MIB, Record, find
from sandbox.tuning.chart import ChartPoint, write_chart
from sandbox.tuning.pricing import ARCH_PRICES, HEADROOM, invocation_cost, recommend_memory
from sandbox.tuning.strategies import STRATEGIES, Candidate, Pick, pick

__all__ = ["chart_cpu_share", "cpu_share_picks", "cpu_share_section"]


def _points(records: Sequence[Record]) -> list[Record]:
    return sorted(find(records, kind="cpu_share"), key=lambda r: r["memory_mb"])


def _fits(r: Record) -> bool:
    return bool(r["max_memory_used_bytes"] / MIB * HEADROOM <= r["memory_mb"])


def _cost(r: Record, arch: str = "x86_64", init: bool = False) -> float:
    init_ms = r["init_ms"] if init else 0.0
    return invocation_cost(r["memory_mb"], r["duration_ms_trimmed"], arch=arch, init_ms=init_ms)


def cpu_share_picks(records: Sequence[Record], arch: str = "x86_64") -> dict[str, Pick | None]:
    """cost / speed / balanced among the measured settings that fit."""
    candidates = [
        Candidate(r["memory_mb"], r["duration_ms_trimmed"], _cost(r, arch))
        for r in _points(records)
        if _fits(r)
    ]
    return {s: pick(candidates, s) if candidates else None for s in STRATEGIES}


def cpu_share_section(records: Sequence[Record]) -> list[str]:
    """The markdown section, or [] when the run has no CPU-share records."""
    points = _points(records)
    if not points:
        return []
    modes = sorted({r["cpu_mode"] for r in points})
    limited = all(m.startswith("cgroup") for m in modes)
    chosen = cpu_share_picks(records)
    n = points[0]["n"]
    lines = [
        f"## Cost per memory setting, with Lambda's CPU share ({n:,} objects)",
        "",
        "Lambda gives a function CPU in proportion to its memory: 1,769 MB is one vCPU. Each "
        "setting here ran in a fresh process with the handler's threads limited to memory / "
        f"1769 vCPU (CPU mode: **{', '.join(modes)}**); INIT ran with the on-demand boost "
        "(unthrottled on the microVM's 2 vCPUs, as measured on Lambda by others; see "
        "`sandbox/runtime/cpu.py`). Cost uses the warm Duration (trimmed mean of the runs), "
        "1 ms billing, the request price, and INIT on a cold start. us-east-1 prices: x86_64 "
        f"${ARCH_PRICES['x86_64']:.10f} and arm64 ${ARCH_PRICES['arm64']:.10f} per GB-second, "
        "$0.20 "
        "per 1M requests.",
        "",
    ]
    if not limited:
        lines += [
            "**CPU NOT LIMITED** on this run (no writable cgroup): these durations are the "
            "machine's, not Lambda's, and the picks below do not predict Lambda's cost.",
            "",
        ]
    busy = [r for r in points if r.get("load_average_1m", 0) > (r.get("cores") or 1)]
    if busy:
        worst = max(busy, key=lambda r: r["load_average_1m"])
        lines += [
            f"**Machine busy** while these ran (load average up to "
            f"{worst['load_average_1m']:.1f} on {worst['cores']} cores): a setting gets its "
            "share only when a core has room for it, so the larger settings' durations and "
            "costs are overstated here.",
            "",
        ]
    lines += [
        "![duration and cost vs memory](cpu_share.svg)",
        "",
        "| memory | vCPU | warm Duration (median) | runs | Init | Max Memory Used | fits "
        f"(x{HEADROOM}) | x86_64 per 1M warm | arm64 per 1M warm | x86_64 cold (one) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in points:
        vcpus = "full" if r["vcpus"] is None else f"{r['vcpus']:.3f}"
        lines.append(
            f"| {r['memory_mb']:,} MB | {vcpus} | {r['duration_ms_median'] / 1000:.2f} s | "
            f"{len(r['durations_ms'])} | {r['init_ms'] / 1000:.2f} s | "
            f"{r['max_memory_used_bytes'] / MIB:.0f} MiB | {'yes' if _fits(r) else 'no'} | "
            f"${_cost(r) * 1e6:,.2f} | ${_cost(r, 'arm64') * 1e6:,.2f} | "
            f"${_cost(r, init=True):.6f} |"
        )
    lines.append("")
    for strategy, p in chosen.items():
        if p is not None:
            lines.append(
                f"- **{strategy}**: {p.memory_mb:,} MB ({p.duration_ms / 1000:.2f} s, "
                f"${p.cost * 1e6:,.2f} per 1M x86_64)"
            )
    best = chosen.get("cost")
    used = max(r["max_memory_used_bytes"] for r in points)
    try:
        old = f"{recommend_memory(used)} MB"
    except ValueError:
        old = "none"
    lines += [
        "",
        f"**Recommendation: {best.memory_mb if best else '–'} MB** (the `cost` pick: the "
        f"cheapest per invocation among settings where Max Memory Used x {HEADROOM} fits). "
        f"Without the CPU share the report recommended the smallest setting that fits, {old}, "
        "because every setting then ran at the same (whole-machine) speed.",
        "",
    ]
    return lines


def chart_cpu_share(records: Sequence[Record], path: Path, backend: str) -> bool:
    records_ = _points(records)
    if not records_:
        return False
    points = [
        ChartPoint(r["memory_mb"], r["duration_ms_trimmed"], _cost(r), _fits(r)) for r in records_
    ]
    n = records_[0]["n"]
    title = f"Handler at {n:,} objects: duration and cost vs memory, CPU share ({backend})"
    return write_chart(points, cpu_share_picks(records), path, title=title)
