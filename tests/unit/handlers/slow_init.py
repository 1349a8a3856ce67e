"""A handler whose module takes a measurable time to import (the INIT phase)."""

from __future__ import annotations

import time
from typing import Any

_t = time.perf_counter()
while time.perf_counter() - _t < 0.05:  # 50 ms of module-level work
    pass


def handler(event: Any, context: Any) -> str:
    return "ok"
