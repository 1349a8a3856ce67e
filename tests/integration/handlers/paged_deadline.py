"""The real function, seeing a Lambda context whose time runs out after ROUND_PAGES pages.

Rounds of a continuation then end after a fixed number of pages whatever the machine's speed,
so a test through ``invoke.py --follow`` can require exactly how many rounds there are. The
hard deadline stays the real one (the first reading is passed through).
"""

from __future__ import annotations

import os
from typing import Any

import lambda_function


class _PagedContext:
    def __init__(self, real: Any, pages: int) -> None:
        self._real, self._pages, self._calls = real, pages, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def get_remaining_time_in_millis(self) -> int:
        # Reading 1: the hard stop; 2: the start check; 3..: one after each page.
        self._calls += 1
        real = int(self._real.get_remaining_time_in_millis())
        return real if self._calls < 2 + self._pages else 0


def handler(event: Any, context: Any) -> Any:
    return lambda_function.handler(event, _PagedContext(context, int(os.environ["ROUND_PAGES"])))
