"""The HTTP shim's framing on loopback, against a tiny upstream written here: chunked bodies
both ways, ``Expect: 100-continue``, keep-alive, errors answered without forwarding, and an
unreachable upstream. (No S3 server needed: the upstream is a few lines of asyncio.)"""

from __future__ import annotations

import asyncio

from sandbox.faults.rules import Rule
from sandbox.faults.shim import Shim

CHUNKED_REPLY = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
)


async def _upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers every request with a chunked body; echoes a request body's length in a header."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            break
        if b"Expect: 100-continue" in head:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if b"Transfer-Encoding: chunked" in head:
            total = 0
            while (size := int((await reader.readuntil(b"\r\n")).strip(), 16)) != 0:
                total += len(await reader.readexactly(size))
                await reader.readexactly(2)
            await reader.readuntil(b"\r\n")
            writer.write(f"HTTP/1.1 200 OK\r\nX-Got: {total}\r\nContent-Length: 0\r\n\r\n".encode())
        else:
            writer.write(CHUNKED_REPLY)
        await writer.drain()
    writer.close()


async def _through_shim(rules: list[Rule], script: bytes, *, upstream_up: bool = True) -> bytes:
    server = await asyncio.start_server(_upstream, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    if not upstream_up:
        server.close()
        await server.wait_closed()
    shim = Shim(("127.0.0.1", port))
    shim.rules = rules
    proxy = await asyncio.start_server(shim.serve_client, "127.0.0.1", 0)
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.sockets[0].getsockname()[1])
    writer.write(script)
    await writer.drain()
    writer.write_eof()
    received = b""
    try:
        received = await asyncio.wait_for(reader.read(), timeout=5)
    except ConnectionResetError:
        received = b"<reset>"
    writer.close()
    proxy.close()
    if upstream_up:
        server.close()
    return received


def test_chunked_responses_pass_through_and_keep_alive_serves_a_second_request() -> None:
    one = b"GET /b/k HTTP/1.1\r\nHost: h\r\n\r\n"
    got = asyncio.run(_through_shim([], one + one))
    assert got == CHUNKED_REPLY * 2


def test_a_chunked_upload_with_expect_100_continue_reaches_the_server_whole() -> None:
    upload = (
        b"PUT /b/k HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n"
        b"\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"
    )
    got = asyncio.run(_through_shim([], upload))
    assert got.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Got: 7\r\n")


def test_a_picked_request_gets_the_s3_error_and_the_next_one_is_forwarded() -> None:
    rule = Rule(action="error", on="get", nth=1, status=503, code="SlowDown")
    one = b"GET /b/k HTTP/1.1\r\nHost: h\r\n\r\n"
    got = asyncio.run(_through_shim([rule], one + one))
    first, _, rest = got.partition(b"</Error>")
    assert first.startswith(b"HTTP/1.1 503 Slow Down\r\n")
    assert b"<Code>SlowDown</Code>" in first
    assert rest == CHUNKED_REPLY
    assert (rule.seen, rule.fired) == (2, 1)


def test_an_unreachable_upstream_resets_the_client_instead_of_hanging() -> None:
    got = asyncio.run(_through_shim([], b"GET /b/k HTTP/1.1\r\nHost: h\r\n\r\n", upstream_up=False))
    assert got in (b"", b"<reset>")
