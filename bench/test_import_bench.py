"""Cold-start import cost of the function, against its unavoidable floor.

Each round starts a fresh interpreter (as a Lambda cold start does) and imports one thing:
nothing (the interpreter itself), ``aioboto3`` (the dependency the function cannot skip), and
``lambda_function`` (the function with its package). ``extra_info`` records the function's
import time over aioboto3's: what the function's own code adds to INIT.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
_results: dict[str, float] = {}


def _fresh_import(module: str | None) -> None:
    code = f"import {module}" if module else "pass"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


@pytest.mark.parametrize(
    "module", [None, "aioboto3", "lambda_function"], ids=["interpreter", "aioboto3", "function"]
)
def test_cold_import(benchmark: Any, module: str | None) -> None:
    benchmark.group = "cold import (fresh interpreter)"
    benchmark.pedantic(_fresh_import, args=(module,), rounds=12, iterations=1, warmup_rounds=1)
    _results[module or "interpreter"] = benchmark.stats.stats.median
    if module == "lambda_function" and {"interpreter", "aioboto3"} <= _results.keys():
        base = _results["interpreter"]
        own = _results["lambda_function"] - base
        floor = _results["aioboto3"] - base
        benchmark.extra_info["import_ms_over_interpreter"] = round(own * 1000, 1)
        benchmark.extra_info["aioboto3_ms_over_interpreter"] = round(floor * 1000, 1)
        benchmark.extra_info["ratio_to_aioboto3"] = round(own / floor, 3) if floor > 0 else None
