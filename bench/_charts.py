"""SVG charts of one benchmark run (matplotlib, Agg, the dark palette of docs/graphs)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from bench._cpu_share import chart_cpu_share
from bench._results import MIB, Record, find
from sandbox.tuning.chart import COLORS, FG, MUTED, STYLE

__all__ = ["write_charts"]

QUEUE_ORDER = (1, 10, 100, 2000, 10000, 0)
_STYLE = STYLE  # one palette for bench and tune charts (sandbox.tuning.chart)


def _queue_label(q: int) -> str:
    return "∞" if q == 0 else f"{q:,}"


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)


def chart_time_vs_queue(records: Sequence[Record], path: Path, backend: str) -> bool:
    sweep = find(records, kind="sweep")
    counts = sorted({r["n"] for r in sweep})
    if not counts:
        return False
    fig, axes = plt.subplots(1, len(counts), figsize=(5.2 * len(counts), 4), squeeze=False)
    for ax, n in zip(axes[0], counts, strict=True):
        consumers = sorted({r["consumers"] for r in find(sweep, n=n)})
        for i, c in enumerate(consumers):
            points = {r["queue_maxsize"]: r["median_s"] for r in find(sweep, n=n, consumers=c)}
            xs = [k for k, q in enumerate(QUEUE_ORDER) if q in points]
            ys = [points[QUEUE_ORDER[k]] for k in xs]
            ax.plot(xs, ys, marker="o", color=COLORS[i % len(COLORS)], label=f"{c} consumers")
        floor = find(records, kind="floor", n=n)
        if floor:
            ax.axhline(floor[0]["median_s"], color=MUTED, ls="--", lw=1, label="listing floor")
        ax.set_xticks(range(len(QUEUE_ORDER)), [_queue_label(q) for q in QUEUE_ORDER])
        ax.set_xlabel("QUEUE_MAXSIZE")
        ax.set_ylabel("wall time, s (median)")
        ax.set_ylim(bottom=0)
        ax.set_title(f"{n:,} objects")
        ax.legend(fontsize=8)
    fig.suptitle(f"Pipeline wall time vs queue size ({backend}, fast presigner)", color=FG, y=1.03)
    _save(fig, path)
    return True


def chart_memory_vs_n(records: Sequence[Record], path: Path, backend: str) -> bool:
    memory = find(records, kind="memory")
    if not memory:
        return False
    fig, ax = plt.subplots(figsize=(6.4, 4))
    labels = {
        "default": "handler as shipped (fast, queue 2000)",
        "handler-botocore-unbounded": "handler, botocore, unbounded queue",
        "bounded-slow": "slow yielding consumer, queue 100",
        "unbounded-slow": "slow yielding consumer, unbounded queue",
    }
    for i, config in enumerate(labels):
        points = sorted(find(memory, config=config), key=lambda r: r["n"])
        if points:
            ax.plot(
                [r["n"] for r in points],
                [r["max_memory_used_bytes"] / MIB for r in points],
                marker="o",
                color=COLORS[i],
                label=labels[config],
            )
    base = sorted(find(memory, config="default"), key=lambda r: r["n"])
    if base:
        ax.plot(
            [r["n"] for r in base],
            [r["baseline_memory_bytes"] / MIB for r in base],
            ls=":",
            color=MUTED,
            label="idle runtime (no-op invocation)",
        )
    ax.set_xscale("log")
    ax.set_xlabel("objects listed (N)")
    ax.set_ylabel("Max Memory Used, MiB")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Peak memory vs N, bounded vs unbounded queue ({backend})")
    ax.legend(fontsize=8)
    _save(fig, path)
    return True


def chart_tmp_vs_n(
    records: Sequence[Record], path: Path, backend: str, per_object: float | None
) -> bool:
    points = sorted(find(records, kind="memory", config="default"), key=lambda r: r["n"])
    if not points:
        return False
    fig, ax = plt.subplots(figsize=(6.4, 4))
    xs = [r["n"] for r in points]
    ax.plot(xs, [r["tmp_peak_bytes"] / MIB for r in points], marker="o", color=COLORS[0],
            label="/tmp peak (measured)")  # fmt: skip
    if per_object:
        ax.plot(xs, [n * per_object / MIB for n in xs], ls="--", color=MUTED,
                label=f"{per_object:.0f} bytes x N (manifest line size)")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("objects listed (N)")
    ax.set_ylabel("/tmp peak, MiB")
    ax.set_title(f"/tmp peak vs N: the manifest spool ({backend})")
    ax.legend(fontsize=8)
    _save(fig, path)
    return True


def chart_baselines(records: Sequence[Record], path: Path, backend: str, n: int) -> bool:
    bars: list[tuple[str, Any]] = [
        ("listing floor", find(records, kind="floor", n=n)),
        ("handler, fast presigner", find(records, kind="handler", n=n, presigner="fast")),
        ("handler, botocore presigner", find(records, kind="handler", n=n, presigner="botocore")),
        ("naive synchronous", find(records, kind="naive", n=n)),
    ]
    present = [(label, found[0]["median_s"]) for label, found in bars if found]
    if len(present) < 2:
        return False
    fig, ax = plt.subplots(figsize=(6.4, 3))
    ys = range(len(present))
    ax.barh(list(ys), [s for _, s in present], color=COLORS[: len(present)])
    ax.set_yticks(list(ys), [label for label, _ in present])
    ax.invert_yaxis()
    for y, (_, s) in zip(ys, present, strict=True):
        ax.text(s, y, f" {s:.2f} s", va="center", color=FG, fontsize=9)
    ax.set_xlabel("wall time, s (median)")
    ax.set_title(f"{n:,} objects end to end ({backend})")
    ax.grid(axis="y", visible=False)
    _save(fig, path)
    return True


def write_charts(
    records: Sequence[Record], out: Path, backend: str, per_object: float | None
) -> list[str]:
    """Write every chart the records allow; returns the file names written."""
    written = []
    with plt.rc_context(_STYLE):  # type: ignore[arg-type]
        for name, ok in (
            ("time_vs_queue.svg", lambda p: chart_time_vs_queue(records, p, backend)),
            ("memory_vs_n.svg", lambda p: chart_memory_vs_n(records, p, backend)),
            ("tmp_vs_n.svg", lambda p: chart_tmp_vs_n(records, p, backend, per_object)),
            ("baselines_10k.svg", lambda p: chart_baselines(records, p, backend, 10_000)),
            ("cpu_share.svg", lambda p: chart_cpu_share(records, p, backend)),
        ):
            if ok(out / name):
                written.append(name)
    return written
