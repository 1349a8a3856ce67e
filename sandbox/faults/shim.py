"""The HTTP shim: S3-level faults that a TCP proxy cannot make, in a process of its own.

``python -m sandbox.faults.shim --upstream 127.0.0.1:9000 --ready-file F`` listens on
127.0.0.1 (port 0, reported in ``F`` with its control port) and passes every request through
to the upstream byte for byte: the head is forwarded unchanged (the ``Host`` the client signed
stays, so SigV4 still verifies), bodies are relayed by their own framing (Content-Length or
chunked), and keep-alive connections stay keep-alive. Only the request head is parsed.

When a :class:`~sandbox.faults.rules.Rule` picks a request it either answers an S3 error itself
(503 SlowDown with S3's XML body, 500 InternalError, ...) without forwarding, or resets the
client's TCP connection (RST, ``SO_LINGER`` 0) after a given number of body bytes.

The control port (JSON over HTTP, 127.0.0.1 only) adds, lists and clears rules and re-points
the upstream (after the S3 server was restarted on another port).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import struct
import sys
from email.utils import formatdate
from pathlib import Path
from typing import Any

from sandbox.faults.rules import Rule, RuleError, classify, error_body

__all__ = ["Shim", "main"]

_HEAD_LIMIT = 1 << 20
_CHUNK = 1 << 16
_REASONS = {500: "Internal Server Error", 503: "Slow Down", 404: "Not Found", 403: "Forbidden"}


class _Head:
    """A parsed request or response head; ``raw`` is forwarded unchanged."""

    __slots__ = ("chunked", "close", "expect", "first", "length", "raw")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        lines = raw.decode("latin-1").split("\r\n")
        self.first = lines[0]
        self.length = 0
        self.chunked = False
        self.expect = False
        self.close = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                self.length = int(value.strip())
            elif name == "transfer-encoding":
                self.chunked = "chunked" in value.lower()
            elif name == "expect":
                self.expect = "100-continue" in value.lower()
            elif name == "connection":
                self.close = "close" in value.lower()


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    """The bytes up to and including the blank line; ``None`` on a clean EOF between messages."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if e.partial.strip():
            raise ConnectionError("connection closed inside a message head") from e
        return None


async def _relay_body(
    head: _Head,
    src: asyncio.StreamReader,
    dst: asyncio.StreamWriter | None,
    *,
    limit: int | None = None,
    to_eof: bool = False,
) -> bool:
    """Copy a message body by its framing; with ``limit``, stop after that many body bytes.

    Returns True when the body was copied whole, False when ``limit`` stopped it.
    ``dst`` None discards the body.
    """
    budget = limit

    async def copy(data: bytes) -> bool:
        nonlocal budget
        if budget is not None and len(data) > budget:
            if dst is not None and budget:
                dst.write(data[:budget])
                await dst.drain()
            return False
        if budget is not None:
            budget -= len(data)
        if dst is not None:
            dst.write(data)
            await dst.drain()
        return True

    if head.chunked:
        while True:
            size_line = await src.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip(), 16)
            if dst is not None:
                dst.write(size_line)
            if size == 0:
                while (trailer := await src.readuntil(b"\r\n")) != b"\r\n":
                    if dst is not None:
                        dst.write(trailer)
                if dst is not None:
                    dst.write(b"\r\n")
                    await dst.drain()
                return True
            remaining = size
            while remaining:
                data = await src.read(min(_CHUNK, remaining))
                if not data:
                    raise ConnectionError("connection closed inside a chunk")
                remaining -= len(data)
                if not await copy(data):
                    return False
            crlf = await src.readexactly(2)
            if dst is not None:
                dst.write(crlf)
    if to_eof:
        while data := await src.read(_CHUNK):
            if not await copy(data):
                return False
        return True
    remaining = head.length
    while remaining:
        data = await src.read(min(_CHUNK, remaining))
        if not data:
            raise ConnectionError("connection closed inside a body")
        remaining -= len(data)
        if not await copy(data):
            return False
    return True


def _reset(writer: asyncio.StreamWriter | None) -> None:
    """Close with a TCP RST (``SO_LINGER`` 0), as a server or middlebox dropping it would."""
    if writer is None:
        return
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _response_has_body(method: str, status: int) -> bool:
    return method != "HEAD" and status >= 200 and status not in (204, 304)


class Shim:
    """The proxy and its rules; one per process (see :func:`main`)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.rules: list[Rule] = []
        self.requests: dict[str, int] = {}

    def _log(self, message: str) -> None:
        print(message, flush=True)

    # -- the proxy --------------------------------------------------------------------------
    async def serve_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                raw = await _read_head(reader)
                if raw is None:
                    return
                head = _Head(raw)
                method, _, rest = head.first.partition(" ")
                target = rest.rpartition(" ")[0]
                kind = classify(method, target)
                self.requests[kind] = self.requests.get(kind, 0) + 1
                rule = next((r for r in self.rules if r.fires(kind)), None)
                if rule is not None:
                    self._log(f"fault {rule.name}: {rule.describe()} -> {method} {kind} request")
                if rule is not None and rule.action == "error":
                    if not await self._answer_error(rule, head, method, target, reader, writer):
                        return
                    continue
                if upstream is None:
                    try:
                        upstream = await asyncio.open_connection(*self.upstream, limit=_HEAD_LIMIT)
                    except OSError as e:
                        self._log(f"upstream {self.upstream} unreachable ({e}); resetting client")
                        _reset(writer)
                        return
                up_reader, up_writer = upstream
                if rule is not None and rule.during == "request":
                    await self._cut_request(rule, head, reader, writer, up_writer)
                    return
                cut = rule.after_bytes if rule is not None else None
                keep = await self._exchange(head, method, reader, writer, up_reader, up_writer, cut)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            _reset(writer)
        finally:
            if upstream is not None:
                upstream[1].transport.abort()
            if not writer.transport.is_closing():
                writer.close()

    async def _exchange(
        self,
        head: _Head,
        method: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
        cut_after: int | None,
    ) -> bool:
        """Forward one request and its response; False when the connection must end."""
        up_writer.write(head.raw)
        body_task: asyncio.Task[bool] | None = None
        if head.length or head.chunked:
            # Concurrently: a client that sent `Expect: 100-continue` waits for the 100.
            body_task = asyncio.ensure_future(_relay_body(head, reader, up_writer))
        else:
            await up_writer.drain()
        try:
            return await self._respond(head, method, writer, up_reader, body_task, cut_after)
        finally:
            if body_task is not None and not body_task.done():
                body_task.cancel()
                with contextlib.suppress(BaseException):
                    await body_task

    async def _respond(
        self,
        head: _Head,
        method: str,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        body_task: asyncio.Task[bool] | None,
        cut_after: int | None,
    ) -> bool:
        while True:
            raw = await _read_head(up_reader)
            if raw is None:
                raise ConnectionError("upstream closed without a response")
            response = _Head(raw)
            status = int(response.first.split(" ", 2)[1])
            if 100 <= status < 200:
                writer.write(raw)
                await writer.drain()
                continue
            break
        writer.write(raw)
        whole = True
        if _response_has_body(method, status):
            to_eof = not response.chunked and "content-length" not in raw.decode("latin-1").lower()
            if cut_after is not None:
                writer.transport.set_write_buffer_limits(0)
            whole = await _relay_body(response, up_reader, writer, limit=cut_after, to_eof=to_eof)
            if to_eof:
                return False
        else:
            await writer.drain()
        if not whole:
            await writer.drain()
            await asyncio.sleep(0.02)  # let the bytes sent so far reach the client first
            _reset(writer)
            return False
        if body_task is not None:
            await asyncio.wait([body_task], timeout=1.0)
            if not body_task.done():
                return False  # the server answered without reading the whole body
            body_task.result()
        return not (head.close or response.close)

    async def _answer_error(
        self,
        rule: Rule,
        head: _Head,
        method: str,
        target: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        close = head.close or head.expect
        if not head.expect and (head.length or head.chunked):
            await _relay_body(head, reader, None)  # read and drop the body, keep the connection
        request_id = secrets.token_hex(8).upper()
        body = b"" if method == "HEAD" else error_body(
            rule.code, rule.message, target.split("?", 1)[0], request_id
        )  # fmt: skip
        reason = _REASONS.get(rule.status, "Error")
        lines = [
            f"HTTP/1.1 {rule.status} {reason}",
            "Content-Type: application/xml",
            f"Content-Length: {len(body)}",
            f"x-amz-request-id: {request_id}",
            f"x-amz-id-2: {request_id}",
            f"Date: {formatdate(usegmt=True)}",
            "Server: lambda-local-runner-fault-shim",
            f"Connection: {'close' if close else 'keep-alive'}",
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        return not close

    async def _cut_request(
        self,
        rule: Rule,
        head: _Head,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        """Forward the head and ``after_bytes`` of the body, then reset both sides."""
        up_writer.write(head.raw)
        await up_writer.drain()
        if head.expect:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        if head.length or head.chunked:
            await _relay_body(head, reader, up_writer, limit=rule.after_bytes)
        _reset(writer)
        _reset(up_writer)

    # -- control ----------------------------------------------------------------------------
    async def serve_control(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            raw = await _read_head(reader)
            if raw is None:
                return
            head = _Head(raw)
            body = await reader.readexactly(head.length) if head.length else b""
            method, _, rest = head.first.partition(" ")
            path = rest.rpartition(" ")[0]
            status, payload = self._control(method, path, body)
            data = json.dumps(payload).encode()
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                + data
            )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def snapshot(self) -> dict[str, Any]:
        return {
            "rules": [r.to_json() for r in self.rules],
            "requests": dict(self.requests),
            "upstream": f"{self.upstream[0]}:{self.upstream[1]}",
        }

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        try:
            if method == "GET" and path in ("/", "/rules"):
                return 200, self.snapshot()
            if method == "POST" and path == "/rules":
                rule = Rule.from_json(json.loads(body))
                rule.seen = rule.fired = 0
                self.rules.append(rule)
                self._log(f"rule added {rule.name}: {rule.describe()}")
                return 201, rule.to_json()
            if method == "DELETE" and path == "/rules":
                removed, self.rules = len(self.rules), []
                self.requests = {}
                return 200, {"removed": removed}
            if method == "DELETE" and path.startswith("/rules/"):
                name = path.removeprefix("/rules/")
                kept = [r for r in self.rules if r.name != name]
                if len(kept) == len(self.rules):
                    return 404, {"error": f"no rule named {name!r}"}
                self.rules = kept
                return 200, {"removed": 1}
            if method == "PUT" and path == "/upstream":
                data = json.loads(body)
                self.upstream = (str(data["host"]), int(data["port"]))
                self._log(f"upstream is now {self.upstream[0]}:{self.upstream[1]}")
                return 200, self.snapshot()
        except (RuleError, ValueError, KeyError, TypeError) as e:
            return 400, {"error": str(e)}
        return 404, {"error": f"no such control call: {method} {path}"}


async def _run(upstream: tuple[str, int], ready_file: Path) -> None:
    shim = Shim(upstream)
    proxy = await asyncio.start_server(shim.serve_client, "127.0.0.1", 0, limit=_HEAD_LIMIT)
    control = await asyncio.start_server(shim.serve_control, "127.0.0.1", 0)
    ports = {
        "port": proxy.sockets[0].getsockname()[1],
        "control_port": control.sockets[0].getsockname()[1],
        "pid": os.getpid(),
    }
    tmp = ready_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(ports))
    os.replace(tmp, ready_file)
    print(f"shim on 127.0.0.1:{ports['port']} -> {upstream[0]}:{upstream[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with proxy, control:
        await stop.wait()
    print("shim stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.faults.shim")
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the S3 server")
    parser.add_argument("--ready-file", required=True, type=Path)
    args = parser.parse_args(argv)
    host, _, port = args.upstream.rpartition(":")
    asyncio.run(_run((host, int(port)), args.ready_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
