"""A minimal Debug Adapter Protocol client over a socket, enough to drive debugpy in a test:
requests, responses and events framed with ``Content-Length`` headers, as VS Code sends them
(https://microsoft.github.io/debug-adapter-protocol/overview)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any


class DapClient:
    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.timeout = timeout
        self.seq = 0
        self.buffer = b""
        self.seen: list[dict[str, Any]] = []

    def close(self) -> None:
        self.sock.close()

    def request(self, command: str, **arguments: Any) -> int:
        self.seq += 1
        body = json.dumps(
            {"seq": self.seq, "type": "request", "command": command, "arguments": arguments}
        ).encode()
        self.sock.sendall(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        return self.seq

    def _read(self) -> dict[str, Any]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        message: dict[str, Any] = json.loads(body)
        self.seen.append(message)
        return message

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the debug adapter closed the connection")
        self.buffer += chunk

    def wait(self, match: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = self._read()
            if match(message):
                return message
        raise TimeoutError(f"no {what} from the debug adapter; saw {self.seen[-5:]}")

    def response(self, seq: int) -> dict[str, Any]:
        reply = self.wait(
            lambda m: m.get("type") == "response" and m.get("request_seq") == seq,
            f"response to request {seq}",
        )
        if not reply.get("success"):
            raise RuntimeError(f"request {seq} failed: {reply}")
        return reply

    def event(self, name: str) -> dict[str, Any]:
        return self.wait(lambda m: m.get("type") == "event" and m.get("event") == name, name)
