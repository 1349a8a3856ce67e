"""A tiny HTTP proxy in front of a real S3 server, for failures a test must place exactly.

The function under test talks to the proxy over real HTTP with its real client; the proxy
forwards each request byte for byte (the Host header too, so SigV4 signatures still verify
upstream) unless the test's rule says otherwise for that request:

* ``Fail(status, code)``: answer with an S3 error document instead of forwarding;
* ``Stall()``: hold the request (never forward it) until the proxy closes;
* a callable: run it (e.g. fill /tmp), then forward.

Every request is recorded as ``(method, operation)`` so a test can assert what was attempted.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

__all__ = ["Fail", "S3Proxy", "Stall", "operation"]


@dataclass(frozen=True)
class Fail:
    status: int = 500
    code: str = "InternalError"


@dataclass(frozen=True)
class Stall:
    pass


Action = Fail | Stall | Callable[[], None] | None
Rule = Callable[[str, str, int], Action]  # (method, operation, nth call of it) -> action


def operation(method: str, path: str) -> str:
    """The S3 operation a request is, by method and query (enough for these tests)."""
    query = parse_qs(urlsplit(path).query, keep_blank_values=True)
    if method == "GET" and "list-type" in query:
        return "ListObjectsV2"
    if method == "POST" and "uploads" in query:
        return "CreateMultipartUpload"
    if method == "PUT" and "partNumber" in query:
        return "UploadPart"
    if method == "POST" and "uploadId" in query:
        return "CompleteMultipartUpload"
    if method == "DELETE" and "uploadId" in query:
        return "AbortMultipartUpload"
    return f"{method} other"


class S3Proxy:
    """``with S3Proxy(upstream_url, rule) as proxy: proxy.url`` -- bound to 127.0.0.1:0."""

    def __init__(self, upstream: str, rule: Rule | None = None) -> None:
        parts = urlsplit(upstream)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self.rule: Rule = rule or (lambda method, op, n: None)
        self.seen: list[tuple[str, str]] = []
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def operations(self) -> list[str]:
        with self._lock:
            return [op for _, op in self.seen]

    def __enter__(self) -> S3Proxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _decide(self, method: str, path: str) -> Action:
        op = operation(method, path)
        with self._lock:
            self.seen.append((method, op))
            n = self._counts[op] = self._counts.get(op, 0) + 1
        return self.rule(method, op, n)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    raw = b""
                    while True:
                        size_line = self.rfile.readline()
                        raw += size_line
                        size = int(size_line.split(b";")[0].strip(), 16)
                        if size == 0:
                            while (trailer := self.rfile.readline()) not in (b"\r\n", b""):
                                raw += trailer
                            return raw + b"\r\n"
                        raw += self.rfile.read(size + 2)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self) -> None:
                body = self._body()
                action = proxy._decide(self.command, self.path)
                if isinstance(action, Stall):
                    proxy.closing.wait(60)
                    self.close_connection = True
                    return
                if isinstance(action, Fail):
                    doc = (
                        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{action.code}'
                        f"</Code><Message>injected by the test proxy</Message></Error>"
                    ).encode()
                    self.send_response(action.status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(doc)))
                    self.end_headers()
                    self.wfile.write(doc)
                    return
                if action is not None:
                    action()
                self._forward(body)

            def _forward(self, body: bytes) -> None:
                conn = http.client.HTTPConnection(proxy._host, proxy._port, timeout=60)
                try:
                    conn.putrequest(
                        self.command, self.path, skip_host=True, skip_accept_encoding=True
                    )
                    for name, value in self.headers.items():
                        conn.putheader(name, value)
                    conn.endheaders(body or None)
                    answer = conn.getresponse()
                    data = answer.read()
                finally:
                    conn.close()
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "content-length", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        return Handler
