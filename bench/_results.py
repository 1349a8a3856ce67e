"""The pytest-benchmark JSON, read into flat records, and the aims checked against them.

A record is one benchmark: its ``extra_info`` (``kind``, ``n``, figures), plus ``median_s``,
``min_s`` and ``rounds`` from pytest-benchmark's stats, plus ``name`` and ``group``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Aim", "Record", "bytes_per_object", "check_aims", "find", "load_records"]

Record = dict[str, Any]
MIB = 1024 * 1024
FLAT_MEMORY_MIB = 5.0  # "100k vs 1k within a few MB"
TMP_TOLERANCE = 0.10  # /tmp sampled every 1 ms: the last writes before the delete can be missed


def load_records(path: Path | str) -> tuple[list[Record], dict[str, Any]]:
    """(records, {"machine_info", "commit_info", "bench_meta", "datetime"}) from the JSON."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    if "records" in doc:  # the slim results.json the report writes
        meta = {k: doc.get(k, {}) for k in ("machine_info", "commit_info", "bench_meta")}
        return list(doc["records"]), {**meta, "datetime": doc.get("bench_meta", {}).get("finished")}
    records = []
    for bench in doc.get("benchmarks", []):
        stats = bench.get("stats", {})
        records.append(
            {
                **bench.get("extra_info", {}),
                "name": bench["name"],
                "group": bench.get("group"),
                "median_s": stats.get("median"),
                "min_s": stats.get("min"),
                "bench_rounds": stats.get("rounds"),  # not "rounds": extra_info may use it
            }
        )
    meta = {k: doc.get(k, {}) for k in ("machine_info", "commit_info", "bench_meta", "datetime")}
    return records, meta


def find(records: Iterable[Record], **match: Any) -> list[Record]:
    """Records whose fields equal every ``match`` value."""
    return [r for r in records if all(r.get(k) == v for k, v in match.items())]


def _one(records: Iterable[Record], **match: Any) -> Record | None:
    found = find(records, **match)
    return found[0] if found else None


@dataclass(frozen=True)
class Aim:
    """One aim of the issue: what was aimed at, what was measured, and whether it held.

    ``held`` is ``None`` when the run has no data for it (e.g. a point was not selected).
    """

    name: str
    target: str
    measured: str
    held: bool | None

    @property
    def mark(self) -> str:
        return {True: "✓", False: "✗", None: "–"}[self.held]


def _ratio_aims(records: list[Record], n: int) -> list[Aim]:
    floor = _one(records, kind="floor", n=n)
    handler = _one(records, kind="handler", n=n, presigner="fast")
    naive = _one(records, kind="naive", n=n)
    label = f"{n:,}"
    if floor and handler:
        ratio = handler["median_s"] / floor["median_s"]
        floor_aim = Aim(
            f"handler within 1.2x of the listing floor (botocore's paginator) at {label} "
            "objects (round 1)",
            "handler / paginator floor <= 1.20",
            f"{handler['median_s']:.3f} s / {floor['median_s']:.3f} s = {ratio:.2f}x",
            ratio <= 1.2,
        )
    else:
        floor_aim = Aim(
            f"handler vs the listing floor (botocore's paginator) at {label}",
            "<= 1.20x",
            "no data",
            None,
        )
    if naive and handler:
        speedup = naive["median_s"] / handler["median_s"]
        # Both list the same keys: nothing can beat the floor, so naive / floor is the ceiling.
        ceiling = (
            f"; ceiling naive / floor = {naive['median_s'] / floor['median_s']:.1f}x"
            if floor
            else ""
        )
        naive_aim = Aim(
            f"at least 10x faster than the naive version at {label} objects",
            "naive / handler >= 10",
            f"{naive['median_s']:.3f} s / {handler['median_s']:.3f} s = {speedup:.1f}x{ceiling}",
            speedup >= 10,
        )
    else:
        naive_aim = Aim(f"10x faster than naive at {label}", ">= 10x", "no data", None)
    return [floor_aim, naive_aim]


def _growth(records: list[Record], config: str) -> tuple[float, int, int] | None:
    """(MiB grown from the smallest to the largest N, small N, large N) for a memory config."""
    points = sorted(find(records, kind="memory", config=config), key=lambda r: r["n"])
    if len(points) < 2:
        return None
    small, large = points[0], points[-1]
    grown = (large["max_memory_used_bytes"] - small["max_memory_used_bytes"]) / MIB
    return grown, small["n"], large["n"]


def _memory_aims(records: list[Record]) -> list[Aim]:
    aims = []
    for config in ("default", "bounded-slow"):
        g = _growth(records, config)
        if g is None:
            aims.append(Aim(f"memory flat in N ({config})", "", "no data", None))
            continue
        grown, small, large = g
        aims.append(
            Aim(
                f"peak memory flat in N with a bounded queue ({config})",
                f"Max Memory Used at {large:,} - at {small:,} <= {FLAT_MEMORY_MIB:.0f} MiB",
                f"{grown:+.1f} MiB",
                grown <= FLAT_MEMORY_MIB,
            )
        )
    bounded, unbounded = _growth(records, "bounded-slow"), _growth(records, "unbounded-slow")
    if bounded is None or unbounded is None:
        aims.append(Aim("memory grows with an unbounded queue", "", "no data", None))
    else:
        aims.append(
            Aim(
                "peak memory grows with an unbounded queue and a slow consumer",
                f"growth {unbounded[1]:,} -> {unbounded[2]:,} well above the bounded one "
                f"(> 2x and > {FLAT_MEMORY_MIB:.0f} MiB)",
                f"unbounded {unbounded[0]:+.1f} MiB vs bounded {bounded[0]:+.1f} MiB",
                unbounded[0] > max(2 * bounded[0], FLAT_MEMORY_MIB),
            )
        )
    return aims


def _tmp_aim(records: list[Record]) -> Aim:
    points = [r for r in find(records, kind="sweep") if r.get("manifest_bytes")]
    if not points:
        return Aim("/tmp peak equals the manifest size", "", "no data", None)
    worst = max(points, key=lambda r: abs(r["tmp_peak_bytes"] - r["manifest_bytes"]))
    off = abs(worst["tmp_peak_bytes"] - worst["manifest_bytes"]) / worst["manifest_bytes"]
    per_object = [r["manifest_bytes"] / r["n"] for r in points]
    return Aim(
        "/tmp peak equals the manifest size",
        f"tmp peak within {TMP_TOLERANCE:.0%} of the manifest at every sweep point",
        f"worst {off:.1%} ({worst['name']}); {min(per_object):.0f}-{max(per_object):.0f} "
        "bytes per object",
        off <= TMP_TOLERANCE,
    )


def check_aims(records: list[Record]) -> list[Aim]:
    """Every aim of the issue, checked against the records of one run."""
    return [*_ratio_aims(records, 10_000), *_memory_aims(records), _tmp_aim(records)]


def bytes_per_object(records: Iterable[Record]) -> float | None:
    """Manifest bytes per object, from the largest sweep point."""
    points = [r for r in records if r.get("kind") == "sweep" and r.get("manifest_bytes")]
    if not points:
        return None
    largest = max(points, key=lambda r: r["n"])
    return float(largest["manifest_bytes"]) / largest["n"]
