"""Hypothesis-generated HTTP at the service's two front doors, over real sockets.

* The API Gateway port: any method token, path bytes, query, repeated/odd headers, binary and
  big bodies, and request lines that are not HTTP at all.
* The Invoke API: signed (so they pass SigV4 and reach the parser) but malformed requests --
  function names, qualifiers, invocation and log types, client contexts, bodies -- and
  unsigned garbage.

Either way the service must answer with a well-formed HTTP response (a status line, headers,
a body of the length it announced) and never a 5xx of its own making; and a bad request must
not take a worker down: after every example a good request succeeds and every worker process
that was warm before the example is still alive (no pid lost).

Examples: ``FUZZ_EXAMPLES`` (default 100 per test in CI, fixed seed; ``make check`` sets
more). Requests are written byte by byte on a socket: ``http.client`` would refuse to send
much of what is generated.
"""

from __future__ import annotations

import base64
import errno
import http.client
import json
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from sandbox import Sandbox
from sandbox.service import RunningService
from tests.integration.service.verified import verified_service

pytestmark = pytest.mark.integration

ECHO_ARN = "arn:aws:lambda:us-east-1:123456789012:function:echo"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TOKEN = st.text(st.sampled_from("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCXYZ"))
LATIN1 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"))
BODY = st.one_of(
    st.binary(max_size=2048),
    st.text(max_size=512).map(str.encode),
    st.builds(
        lambda n, b: bytes([b]) * n, st.sampled_from([65_536, 1_048_576]), st.integers(0, 255)
    ),
)


@pytest.fixture(scope="module")
def svc(
    minio: tuple[Sandbox, int, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    with verified_service(minio[0], tmp_path_factory.mktemp("fuzz"), api_function="web") as s:
        yield s


def exchange(
    port: int, raw: bytes, *, timeout: float = 60, method: str = "GET", half_close: bool = False
) -> http.client.HTTPResponse:
    """Send ``raw`` bytes; parse what comes back as HTTP/1.1 (raises if it is not).

    ``half_close``: shut our side after sending, so a server waiting for more sees the end."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        with sock:
            try:
                sock.sendall(raw)
                if half_close:
                    sock.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer and close before reading all of a bad request
            except OSError as e:
                # ENOTCONN: the server had already closed (and reset) the connection when we
                # shut our side; what it sent, if anything, is still read below.
                if e.errno != errno.ENOTCONN:
                    raise
            response = http.client.HTTPResponse(sock, method=method)
            try:
                response.begin()  # a well-formed status line and headers, or an exception
            except OSError as e:
                if e.errno != errno.ENOTCONN:
                    raise
                raise http.client.RemoteDisconnected("closed without an answer") from e
            body = response.read()  # exactly Content-Length bytes (or chunked to the end)
            response.body = body  # type: ignore[attr-defined]
            return response
    finally:
        sock.close()


def request_bytes(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    length: bool = True,
    host: str = "127.0.0.1",
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def good_api(port: int) -> None:
    response = exchange(port, request_bytes("POST", "/health?x=1", [], b"ok"))
    assert response.status == 200 and response.body == b"ok"  # type: ignore[attr-defined]
    assert response.getheader("X-Query") == "x=1"


def worker_pids(svc: RunningService, name: str) -> set[int]:
    return set(svc.status()["functions"][name]["pids"])


def well_formed(response: http.client.HTTPResponse) -> None:
    event(f"HTTP {response.status} {response.getheader('x-amzn-ErrorType') or ''}".rstrip())
    assert 100 <= response.status < 600
    assert response.status < 500 or response.status in (502, 413), (
        response.status,
        response.body,  # type: ignore[attr-defined]
    )


path_part = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="?#"), max_size=40
)


_FRAMING = ("content-length", "transfer-encoding", "host", "connection")


@seed(16_1)
@FUZZ
@given(
    method=st.one_of(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
                     TOKEN.filter(bool)),
    path=st.lists(path_part, max_size=6).map(lambda parts: "/" + "/".join(parts)),
    query=st.one_of(st.just(""), LATIN1.map(lambda q: "?" + q.replace(" ", "+").replace("#", ""))),
    headers=st.lists(st.tuples(TOKEN.filter(bool), LATIN1.map(str.strip)), max_size=8),
    body=BODY,
    length=st.booleans(),
)  # fmt: skip
def test_the_api_port_answers_any_request_and_the_worker_survives(
    svc: RunningService,
    method: str,
    path: str,
    query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    length: bool,
) -> None:
    headers = [(k, v) for k, v in headers if k.lower() not in _FRAMING]
    port = svc.config.api_port
    good_api(port)
    before = worker_pids(svc, "web")
    raw = request_bytes(method, path + query, headers, body, length=length)
    try:
        response = exchange(port, raw, method=method)
    except http.client.RemoteDisconnected:
        if method == "HEAD" or not length:
            return  # no length: the body is read as the next request (aiohttp then closes)
        raise
    well_formed(response)
    good_api(port)
    assert worker_pids(svc, "web") >= before, "a bad request cost a warm worker its life"


GARBAGE = st.one_of(
    st.binary(min_size=1, max_size=512),
    st.builds(
        lambda a, b: a + b"\r\n\r\n" + b,
        st.binary(min_size=1, max_size=64).filter(lambda b: b"\n" not in b),
        st.binary(max_size=64),
    ),
    st.sampled_from([
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n",
        b"GET / HTTP/1.1\r\nX-Big: " + b"v" * 20_000 + b"\r\n\r\n",
    ]),
)  # fmt: skip


@seed(16_2)
@FUZZ
@given(raw=GARBAGE)
def test_bytes_that_are_not_http_get_an_http_answer_or_a_close_never_a_dead_worker(
    svc: RunningService, raw: bytes
) -> None:
    for port in (svc.config.api_port, svc.config.port):
        try:
            response = exchange(port, raw, timeout=20, half_close=True)
        except (http.client.RemoteDisconnected, ConnectionResetError):
            continue  # closing on bytes that are not a request is a well-formed answer too
        except http.client.BadStatusLine as e:
            raise AssertionError(f"not an HTTP answer to {raw[:80]!r}: {e!r}") from e
        well_formed(response)
    good_api(svc.config.api_port)


# -- the Invoke API: signed, malformed ------------------------------------------------------
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
).map(lambda v: json.dumps(v).encode())
B64_JSON = st.dictionaries(st.text(max_size=5), st.integers(), max_size=3).map(
    lambda d: base64.b64encode(json.dumps(d).encode()).decode()
)
#: Per part of an Invoke request: (valid values, odd values).
PARTS: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    "name": (
        st.sampled_from(["echo", "echo:$LATEST", ECHO_ARN]),
        st.sampled_from(["nope", "echo:1", "echo:alias", "a" * 300, "bad name", "echo:$LATEST:x"])
        | path_part.filter(bool),
    ),
    "qualifier": (st.sampled_from([None, "$LATEST"]), st.just("1") | path_part),
    "invocation_type": (
        st.sampled_from([None, "RequestResponse", "Event", "DryRun"]), LATIN1.map(str.strip)
    ),
    "log_type": (st.sampled_from([None, "None", "Tail"]), LATIN1.map(str.strip)),
    "context": (
        st.none() | B64_JSON,
        st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode())
        | LATIN1.map(str.strip)
        | st.just("A" * 5000),
    ),
    "body": (
        JSON | st.just(b""),
        BODY | st.just(b"x" * 7_000_000) | st.just(b'{"deep": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ),
}  # fmt: skip


@st.composite
def invoke_parts(draw: st.DrawFn) -> dict[str, Any]:
    """A valid Invoke request with 0-2 of its parts made odd: a request is refused at its first
    bad part, so the later parts (headers, body, the handler) are reached only this way."""
    odd = draw(st.sets(st.sampled_from(sorted(PARTS)), max_size=2))
    return {name: draw(PARTS[name][1] if name in odd else PARTS[name][0]) for name in PARTS}


@seed(16_3)
@FUZZ
@given(parts=invoke_parts())
def test_signed_malformed_invokes_get_lambda_errors_and_the_worker_survives(
    svc: RunningService, minio: tuple[Sandbox, int, int], parts: dict[str, Any]
) -> None:
    name, qualifier, body = parts["name"], parts["qualifier"], parts["body"]
    invocation_type, log_type, context = (
        parts["invocation_type"],
        parts["log_type"],
        parts["context"],
    )
    sb = minio[0]
    port = svc.config.port
    good_invoke(svc, sb)
    before = worker_pids(svc, "echo")
    from urllib.parse import quote

    url = f"http://127.0.0.1:{port}/2015-03-31/functions/{quote(name, safe='')}/invocations"
    if qualifier is not None:
        url += f"?Qualifier={quote(qualifier, safe='')}"
    headers = {}
    if invocation_type is not None:
        headers["X-Amz-Invocation-Type"] = invocation_type
    if log_type is not None:
        headers["X-Amz-Log-Type"] = log_type
    if context is not None:
        headers["X-Amz-Client-Context"] = context
    response = exchange(port, signed_bytes(sb, url, headers, body))
    well_formed(response)
    if response.status >= 400:
        error_type = response.getheader("x-amzn-ErrorType")
        assert error_type, response.body  # type: ignore[attr-defined]
        assert response.status != 403, response.body  # signed: SigV4 must not be the problem
        json.loads(response.body)  # type: ignore[attr-defined]
    good_invoke(svc, sb)
    assert worker_pids(svc, "echo") >= before, "a bad request cost a warm worker its life"


def signed_bytes(sb: Sandbox, url: str, headers: dict[str, str], body: bytes) -> bytes:
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    creds = Credentials(sb.endpoint.access_key, sb.endpoint.secret_key)
    SigV4Auth(creds, "lambda", sb.endpoint.region).add_auth(request)
    host = url.split("/")[2]  # what botocore signed as "host"
    target = url.split(host, 1)[1]
    items = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()]
    return request_bytes("POST", target, items, body, host=host)


def good_invoke(svc: RunningService, sb: Sandbox) -> int:
    """A good signed invoke of ``echo`` succeeds; the pid of the worker that ran it."""
    url = f"http://127.0.0.1:{svc.config.port}/2015-03-31/functions/echo/invocations"
    response = exchange(svc.config.port, signed_bytes(sb, url, {}, b'{"good": 1}'))
    assert response.status == 200, response.body  # type: ignore[attr-defined]
    out: dict[str, Any] = json.loads(response.body)  # type: ignore[attr-defined]
    assert out["event"] == {"good": 1}
    return int(out["pid"])
