"""pytest-benchmark suites and the report they feed (``make bench``). Never deployed.

``pytest bench --benchmark-only`` runs them (``--full`` adds the 100,000-object sweep);
``python -m bench.report <results.json>`` writes ``docs/bench/README.md`` and its charts.
"""

from __future__ import annotations

__all__: list[str] = []
