"""Test handler that sets the root level at import, the common Lambda idiom."""

from __future__ import annotations

import logging
from typing import Any

logging.getLogger().setLevel(logging.INFO)


def handler(event: Any, context: Any) -> Any:
    logging.getLogger("app").info("info is on because INIT asked for it")
    return None
