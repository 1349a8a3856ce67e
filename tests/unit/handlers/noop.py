"""Test handlers: tiny functions that each exercise one thing Lambda measures or limits."""

from __future__ import annotations

from typing import Any


def handler(event: Any, context: Any) -> Any:
    return None
