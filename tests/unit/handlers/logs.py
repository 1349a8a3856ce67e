"""Test handler that logs with the stdlib: an INIT line, levels, an ``extra``, an exception."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("app")
log.warning("imported")  # an INIT line: no request id yet


def handler(event: Any, context: Any) -> Any:
    log.debug("debug detail")
    log.info("order %s received", 7, extra={"order_id": 42, "shop": "north"})
    log.warning("stock low")
    try:
        raise KeyError("sku-9")
    except KeyError:
        log.exception("lookup failed")
    return {"ok": True}
