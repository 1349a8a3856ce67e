"""Test handler using Powertools' Logger exactly as its docs show, unchanged."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="orders")


@logger.inject_lambda_context
def handler(event: Any, context: Any) -> Any:
    logger.debug("powertools debug")
    logger.info("powertools info", extra={"order_id": 42})
    return {"ok": True}
