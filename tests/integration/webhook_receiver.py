"""A tiny HTTP server on 127.0.0.1 that records what MinIO's webhook target POSTs to it.

It stands in for the service's webhook route in tests of the notification plumbing: it can
be stopped and started again on the same port (MinIO's endpoint is fixed at server start),
and tests wait on it for deliveries instead of sleeping.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote_plus


@dataclass(frozen=True)
class Delivery:
    """One POST as received: path, headers (lower-cased names) and the JSON body."""

    path: str
    headers: dict[str, str]
    body: Any


class Receiver:
    """Records POSTs on ``127.0.0.1:port``; answers 200 (MinIO's queue retries anything else)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.deliveries: list[Delivery] = []
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                delivery = Delivery(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                with receiver._cond:
                    receiver.deliveries.append(delivery)
                    receiver._cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reports what matters."""

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def wait_for(
        self, predicate: Callable[[Delivery], bool], *, timeout: float, what: str
    ) -> Delivery:
        """The first delivery matching ``predicate``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for delivery in self.deliveries:
                    if predicate(delivery):
                        return delivery
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [key_of(d) for d in self.deliveries]
                    raise AssertionError(
                        f"no delivery of {what} within {timeout:.0f} s; received {len(seen)}: "
                        f"{seen[-10:]}"
                    )
                self._cond.wait(remaining)

    def received_keys(self) -> list[str]:
        with self._cond:
            return [key_of(d) for d in self.deliveries]


def key_of(delivery: Delivery) -> str:
    """The object key (decoded) of a delivery's record, or ``?``."""
    try:
        return unquote_plus(delivery.body["Records"][0]["s3"]["object"]["key"])
    except (KeyError, IndexError, TypeError):
        return "?"
