"""The tune's output: the table, the picks, the JSON document, the files next to each other."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sandbox.tuning.pricing import ARCH_PRICES, REQUEST_PRICE
from sandbox.tuning.runner import SettingResult
from sandbox.tuning.strategies import BALANCED_WEIGHT, DISCARD, Pick

__all__ = ["busy_note", "document", "picks_lines", "table", "write_outputs"]


def _s(ms: float | None) -> str:
    return "–" if ms is None else f"{ms / 1000:.3f} s"


def _usd(x: float | None, digits: int) -> str:
    return "–" if x is None else f"${x:,.{digits}f}"


def _per_1m(cost: float | None) -> float | None:
    return None if cost is None else cost * 1_000_000


def table(results: Sequence[SettingResult]) -> list[str]:
    """A plain-text table (also valid Markdown), one row per setting."""
    head = [
        "memory",
        "vCPU",
        "median",
        "trimmed mean",
        "billed (tm)",
        "init",
        "max used",
        "fits",
        "x86_64 / inv",
        "x86_64 / 1M",
        "arm64 / 1M",
        "cold x86_64",
        "status",
    ]
    rows = [head]
    for r in results:
        rows.append(
            [
                f"{r.memory_mb} MB",
                "full" if r.vcpus is None else f"{r.vcpus:.3f}",
                _s(r.median_ms),
                _s(r.trimmed_ms),
                "–" if r.billed_ms is None else f"{r.billed_ms:,.0f} ms",
                _s(r.init_ms),
                f"{r.max_memory_used_mb} MB" if r.runs else "–",
                ("yes" if r.fits else "NO") if r.runs else "–",
                _usd(r.cost("x86_64"), 8),
                _usd(_per_1m(r.cost("x86_64")), 2),
                _usd(_per_1m(r.cost("arm64")), 2),
                _usd(r.cold_cost("x86_64"), 8),
                r.status,
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return lines


def busy_note(load: float, cores: int) -> str:
    """A warning when the machine had no core to spare ("" otherwise)."""
    if load <= cores:
        return ""
    return (
        f"Machine busy: load average {load:.1f} on {cores} cores. A setting gets its share only "
        "if a core has room for it: the larger settings' durations are overstated, and so are "
        "their costs; tune again on a quieter machine before trusting them."
    )


def picks_lines(chosen: Mapping[str, Pick | None], arch: str) -> list[str]:
    out = []
    for strategy, p in chosen.items():
        if p is None:
            out.append(f"{strategy:>8}: no setting ran clean and fit")
        else:
            out.append(
                f"{strategy:>8}: {p.memory_mb} MB  ({p.duration_ms / 1000:.3f} s, "
                f"${p.cost * 1e6:,.2f} per 1M {arch})"
            )
    return out


def document(
    results: Sequence[SettingResult],
    chosen: Mapping[str, Pick | None],
    *,
    strategy: str,
    arch: str,
    repeat: int,
    handler: str,
    event: Any,
    cpu_modes: Sequence[str],
) -> dict[str, Any]:
    """The JSON document (``--json`` and ``tune.json``)."""
    pick = chosen.get(strategy)
    return {
        "handler": handler,
        "event": event,
        "repeat": repeat,
        "strategy": strategy,
        "arch": arch,
        "recommended_mb": pick.memory_mb if pick else None,
        "picks": {s: (None if p is None else vars(p)) for s, p in chosen.items()},
        "cpu_modes": sorted(set(cpu_modes)),
        "method": {
            "trimmed_mean_discard": DISCARD,
            "balanced_weight": BALANCED_WEIGHT,
            "prices_usd": {"gb_second": ARCH_PRICES, "request": REQUEST_PRICE},
            "billing": "1 ms steps; INIT billed on the cold invocation",
        },
        "settings": [r.to_dict() for r in results],
    }


def write_outputs(doc: dict[str, Any], out_dir: Path, chart: Any) -> list[Path]:
    """``tune.json`` and (when ``chart(path)`` draws one) ``tune.svg`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "tune.json"
    json_path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    written = [json_path]
    svg_path = out_dir / "tune.svg"
    if chart(svg_path):
        written.append(svg_path)
    return written
