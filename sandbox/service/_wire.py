"""The pipe protocol between the service and a worker: length-prefixed JSON messages.

Four bytes of big-endian length, then that many bytes of UTF-8 JSON. Framing by length (not
by line) keeps a 6 MB payload one read, and lets the worker's own stdout/stderr stay free for
the handler: the protocol runs on file descriptors the worker moves out of the way first.
"""

from __future__ import annotations

import json
import os
import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the worker never needs asyncio: keep its cold start lean
    import asyncio

__all__ = ["MAX_MESSAGE", "WireError", "decode", "encode", "read_async", "read_sync", "write_sync"]

_HEADER = struct.Struct(">I")
#: A 6 MB payload, its JSON escaping and the captured log fit with room to spare.
MAX_MESSAGE = 64 * 1024 * 1024


class WireError(Exception):
    """The other side closed the pipe or sent something that is not a message."""


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    return _HEADER.pack(len(body)) + body


def decode(body: bytes) -> dict[str, Any]:
    message = json.loads(body)
    if not isinstance(message, dict):
        raise WireError(f"expected a JSON object, got {type(message).__name__}")
    return message


def _check(size: int) -> int:
    if size > MAX_MESSAGE:
        raise WireError(f"message of {size} bytes is over the {MAX_MESSAGE}-byte limit")
    return size


async def read_async(reader: asyncio.StreamReader) -> dict[str, Any]:
    """One message from ``reader`` (the service side)."""
    import asyncio

    try:
        (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
        return decode(await reader.readexactly(_check(size)))
    except asyncio.IncompleteReadError as e:
        raise WireError("the worker closed its pipe") from e


def _read_exactly(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise WireError("the service closed the pipe")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_sync(fd: int) -> dict[str, Any]:
    """One message from ``fd`` (the worker side, blocking)."""
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size))
    return decode(_read_exactly(fd, _check(size)))


def write_sync(fd: int, message: dict[str, Any]) -> None:
    data = memoryview(encode(message))
    while data:
        data = data[os.write(fd, data) :]
