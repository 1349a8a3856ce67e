"""The tune chart: duration and cost against memory, as SVG (matplotlib, Agg, opened by nothing).

The palette and rc style are the ones ``bench/_charts.py`` uses (it imports them from here), so
a tune chart looks like the charts under docs/bench.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.tuning.strategies import Pick

__all__ = ["BG", "COLORS", "FG", "GRID", "MUTED", "STYLE", "ChartPoint", "write_chart"]

BG, FG, MUTED, GRID = "#0a0e17", "#e8eaf0", "#8892a8", "#1e2a4a"
COLORS = ["#0066ff", "#00c853", "#ffab00", "#ff5252", "#b388ff"]

STYLE: dict[str, Any] = {
    "figure.facecolor": BG,
    "axes.facecolor": BG,
    "savefig.facecolor": BG,
    "axes.edgecolor": GRID,
    "axes.labelcolor": FG,
    "axes.titlecolor": FG,
    "text.color": FG,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "grid.color": GRID,
    "axes.grid": True,
    "legend.facecolor": BG,
    "legend.edgecolor": GRID,
    "font.family": "sans-serif",
    "font.size": 10,
    "svg.fonttype": "none",  # text stays text: smaller files, crisp, searchable
    "svg.hashsalt": "lambda_local_runner",  # stable ids: regenerated files diff cleanly
}


@dataclass(frozen=True)
class ChartPoint:
    """One memory setting on the chart: warm duration and cost per invocation (USD)."""

    memory_mb: int
    duration_ms: float
    cost: float
    ok: bool = True  # False: failed or does not fit (marked ✗)


def write_chart(
    points: Sequence[ChartPoint],
    chosen: Mapping[str, Pick | None],
    path: Path,
    *,
    title: str,
    arch: str = "x86_64",
) -> bool:
    """Duration (left axis) and cost per 1M invocations (right axis) per measured setting.

    Returns False (and writes nothing) when there is no point to plot or matplotlib (a dev
    extra) is not installed.
    """
    points = sorted(points, key=lambda p: p.memory_mb)
    if not points:
        return False
    try:
        import matplotlib
    except ImportError:  # a harness extra: `pip install -e '.[dev]'`
        return False
    matplotlib.use("Agg")  # no display; must precede pyplot
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):  # type: ignore[arg-type]
        fig, ax = plt.subplots(figsize=(7.2, 4.2))
        xs = list(range(len(points)))
        durations = [p.duration_ms / 1000 for p in points]
        costs = [p.cost * 1_000_000 for p in points]
        ax.plot(xs, durations, marker="o", color=COLORS[0], label="warm Duration, s")
        ax.set_ylabel("warm Duration, s")
        ax.set_ylim(bottom=0)
        ax.set_xticks(xs, [f"{p.memory_mb:,}" + ("" if p.ok else "\n✗") for p in points])
        ax.set_xlabel("memory, MB (✗: failed or does not fit)")
        right = ax.twinx()
        right.plot(xs, costs, marker="s", color=COLORS[2], label=f"USD per 1M ({arch})")
        right.set_ylabel(f"USD per 1M warm invocations ({arch})")
        right.set_ylim(bottom=0)
        right.grid(False)
        index = {p.memory_mb: i for i, p in enumerate(points)}
        labels: dict[int, list[str]] = {}
        for strategy, best in chosen.items():
            if best is not None and best.memory_mb in index:
                labels.setdefault(index[best.memory_mb], []).append(strategy)
        for i, names in labels.items():
            ax.annotate(
                " + ".join(names),
                (i, durations[i]),
                xytext=(0, 14),
                textcoords="offset points",
                ha="center",
                color=COLORS[1],
                fontsize=9,
                arrowprops={"arrowstyle": "-", "color": COLORS[1], "lw": 0.8},
            )
        lines = ax.get_lines() + right.get_lines()
        ax.legend(lines, [str(line.get_label()) for line in lines], fontsize=8, loc="upper center")
        ax.set_title(title)
        fig.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
        plt.close(fig)
    return True
