"""How power tuning averages durations and picks a memory setting (pure functions, no I/O).

As aws-lambda-power-tuning defines them (``lambda/utils.js`` and ``lambda/analyzer.js``):

* **Trimmed mean**: sort the durations, drop ``int(n * 0.2)`` from each end (so nothing is
  dropped below 5 runs), average the rest.
* **cost**: the lowest average cost per invocation; on a tie, the faster.
* **speed**: the lowest average duration; on a tie, the cheaper.
* **balanced**: the lowest ``w * cost / max_cost + (1 - w) * duration / max_duration`` with
  ``w = 0.5``, the maxima taken over the settings compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["BALANCED_WEIGHT", "DISCARD", "STRATEGIES", "Candidate", "Pick", "pick", "trimmed_mean"]

STRATEGIES: tuple[str, ...] = ("cost", "speed", "balanced")
BALANCED_WEIGHT = 0.5
DISCARD = 0.2  # power tuning's discardTopBottom default


def trimmed_mean(values: Sequence[float], discard: float = DISCARD) -> float:
    """Mean of ``values`` without the top and bottom ``discard`` share of them."""
    if not values:
        raise ValueError("trimmed_mean of no values")
    if not 0 <= discard < 0.5:
        raise ValueError(f"discard must be in [0, 0.5), got {discard}")
    drop = int(len(values) * discard)
    kept = sorted(values)[drop : len(values) - drop]
    return sum(kept) / len(kept)


@dataclass(frozen=True)
class Candidate:
    """One setting as the strategies see it: average duration and cost per invocation."""

    memory_mb: int
    duration_ms: float
    cost: float  # USD per invocation


@dataclass(frozen=True)
class Pick:
    strategy: str
    memory_mb: int
    duration_ms: float
    cost: float


def pick(
    candidates: Sequence[Candidate], strategy: str, *, weight: float = BALANCED_WEIGHT
) -> Pick:
    """The best candidate by ``strategy`` (one of `STRATEGIES`)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy {strategy!r} is not one of {', '.join(STRATEGIES)}")
    if not candidates:
        raise ValueError("no setting to choose from: every one failed or did not fit")
    if strategy == "cost":
        best = min(candidates, key=lambda c: (c.cost, c.duration_ms))
    elif strategy == "speed":
        best = min(candidates, key=lambda c: (c.duration_ms, c.cost))
    else:
        w = min(max(weight, 0.0), 1.0)
        max_cost = max(c.cost for c in candidates)
        max_duration = max(c.duration_ms for c in candidates)

        def value(c: Candidate) -> float:
            return w * c.cost / max_cost + (1 - w) * c.duration_ms / max_duration

        best = min(candidates, key=value)
    return Pick(strategy, best.memory_mb, best.duration_ms, best.cost)
