"""The tune chart: duration and cost against memory, as SVG (matplotlib, Agg, opened by nothing).

The palette and rc style are the ones ``bench/_charts.py`` uses (it imports them from here), so
a tune chart looks like the charts under docs/bench.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.tuning.runner import SettingResult
    from sandbox.tuning.strategies import Pick

__all__ = ["BG", "COLORS", "FG", "GRID", "MUTED", "STYLE", "write_chart"]

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


def write_chart(
    results: Sequence[SettingResult],
    chosen: Mapping[str, Pick | None],
    path: Path,
    *,
    title: str,
    arch: str = "x86_64",
) -> bool:
    """Duration (left axis) and cost per 1M invocations (right axis) per measured setting.

    Returns False (and writes nothing) when no setting has a warm run to plot.
    """
    points = [r for r in results if r.trimmed_ms is not None and r.cost(arch) is not None]
    if not points:
        return False
    import matplotlib

    matplotlib.use("Agg")  # no display; must precede pyplot
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):  # type: ignore[arg-type]
        fig, ax = plt.subplots(figsize=(7.2, 4.2))
        xs = list(range(len(points)))
        durations = [(r.trimmed_ms or 0) / 1000 for r in points]
        costs = [(r.cost(arch) or 0) * 1_000_000 for r in points]
        ax.plot(xs, durations, marker="o", color=COLORS[0], label="Duration, s (trimmed mean)")
        ax.set_ylabel("Duration, s (warm, trimmed mean)")
        ax.set_ylim(bottom=0)
        ax.set_xticks(xs, [f"{r.memory_mb:,}" + ("" if r.ok else "\n✗") for r in points])
        ax.set_xlabel("memory, MB (✗: failed or does not fit)")
        right = ax.twinx()
        right.plot(xs, costs, marker="s", color=COLORS[2], label=f"USD per 1M ({arch})")
        right.set_ylabel(f"USD per 1M warm invocations ({arch})")
        right.set_ylim(bottom=0)
        right.grid(False)
        index = {r.memory_mb: i for i, r in enumerate(points)}
        labels: dict[int, list[str]] = {}
        for strategy, p in chosen.items():
            if p is not None and p.memory_mb in index:
                labels.setdefault(index[p.memory_mb], []).append(strategy)
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
