"""API Gateway mapping over real HTTP: an aiohttp server on 127.0.0.1, real client requests.

The server does what the service's API route does with `sandbox.service.apigw` (the request's
raw headers, raw query string and body in; the reply's status, header lines and bytes out),
with small Python handlers in place of a Lambda function, so what is tested is the mapping
of real wire traffic: repeated headers, cookies, query strings, binary bodies both ways.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict

from sandbox.service.apigw import MalformedProxyResponse, event_from_request, response_to_http

pytestmark = pytest.mark.integration

Handler = Callable[[dict[str, Any]], Any]


def echo_event(event: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200, "body": json.dumps(event)}


def echo_body(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/octet-stream"},
        "body": event.get("body") or "",
        "isBase64Encoded": event["isBase64Encoded"],
    }


def cookies_and_plain(event: dict[str, Any]) -> Any:
    if event["rawPath"] == "/plain":
        return {"count": 3}
    return {"statusCode": 204, "cookies": ["a=1; Path=/", "b=2; HttpOnly"]}


def malformed(event: dict[str, Any]) -> Any:
    return {"statusCode": "200", "body": "x"}


HANDLERS: dict[str, Handler] = {
    "echo": echo_event,
    "binary": echo_body,
    "cookies": cookies_and_plain,
    "malformed": malformed,
}


class ApiServer:
    """aiohttp on 127.0.0.1:0 in a thread; ``/<handler>/<version>/...`` picks both."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.malformed: list[str] = []
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _handle(self, request: web.Request) -> web.Response:
        _, name, version, *rest = request.path.split("/")
        body = await request.read()
        event = event_from_request(
            method=request.method,
            path="/" + "/".join(rest),
            raw_query=request.rel_url.raw_query_string,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers],
            body=body,
            version=version,
            source_ip=request.remote or "127.0.0.1",
        )
        try:
            reply = response_to_http(HANDLERS[name](event), version)
        except MalformedProxyResponse as e:
            self.malformed.append(e.reason)
            return web.Response(status=e.status, body=e.body, content_type="application/json")
        return web.Response(
            status=reply.status, body=reply.body, headers=CIMultiDict(reply.headers)
        )

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def start(self) -> ApiServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def server() -> Iterator[ApiServer]:
    s = ApiServer().start()
    try:
        yield s
    finally:
        s.stop()


def call(
    server: ApiServer,
    method: str,
    target: str,
    *,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
) -> tuple[int, list[tuple[str, str]], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.putrequest(method, target)
        for name, value in headers:
            conn.putheader(name, value)  # repeats go out as separate lines
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def test_a_real_get_becomes_a_v2_event(server: ApiServer) -> None:
    status, _, raw = call(
        server,
        "GET",
        "/echo/2.0/reports/2026?bucket=b-1&prefix=2026%2F04%2F&tag=x&tag=y",
        headers=[("X-Multi", "a"), ("X-Multi", "b"), ("Cookie", "s=1; t=2"), ("User-Agent", "it")],
    )
    assert status == 200
    event = json.loads(raw)
    assert event["rawPath"] == "/reports/2026"
    assert event["rawQueryString"] == "bucket=b-1&prefix=2026%2F04%2F&tag=x&tag=y"
    assert event["queryStringParameters"] == {"bucket": "b-1", "prefix": "2026/04/", "tag": "x,y"}
    assert event["headers"]["x-multi"] == "a,b"
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert event["requestContext"]["http"]["userAgent"] == "it"
    assert event["headers"]["x-forwarded-port"] == str(server.port)


def test_a_real_get_becomes_a_v1_event(server: ApiServer) -> None:
    status, _, raw = call(
        server, "GET", "/echo/1.0/a/b?tag=x&tag=y", headers=[("X-M", "1"), ("X-M", "2")]
    )
    assert status == 200
    event = json.loads(raw)
    assert event["resource"] == "/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["x", "y"]}
    assert event["multiValueHeaders"]["X-M"] == ["1", "2"]
    assert event["headers"]["X-M"] == "2"


@pytest.mark.parametrize("version", ["2.0", "1.0"])
def test_a_binary_body_round_trips(server: ApiServer, version: str) -> None:
    data = bytes(range(256)) * 40
    status, headers, raw = call(
        server,
        "POST",
        f"/binary/{version}/upload",
        headers=[("Content-Type", "application/octet-stream")],
        body=data,
    )
    assert status == 201
    assert raw == data
    assert dict(headers)["Content-Type"] == "application/octet-stream"


def test_a_text_body_arrives_as_text(server: ApiServer) -> None:
    payload = json.dumps({"note": "été"}).encode()
    status, _, raw = call(
        server, "POST", "/echo/2.0/x", headers=[("Content-Type", "application/json")], body=payload
    )
    event = json.loads(raw)
    assert (status, event["isBase64Encoded"], event["body"]) == (200, False, payload.decode())
    assert base64.b64encode(payload).decode() != event["body"]


def test_cookies_become_separate_set_cookie_lines(server: ApiServer) -> None:
    status, headers, raw = call(server, "GET", "/cookies/2.0/c")
    assert status == 204 and raw == b""
    assert [v for k, v in headers if k.lower() == "set-cookie"] == ["a=1; Path=/", "b=2; HttpOnly"]


def test_a_plain_returned_value_is_200_json(server: ApiServer) -> None:
    status, headers, raw = call(server, "GET", "/cookies/2.0/plain")
    assert status == 200
    assert dict(headers)["Content-Type"] == "application/json"
    assert json.loads(raw) == {"count": 3}


def test_a_malformed_response_is_a_502_with_api_gateways_body(server: ApiServer) -> None:
    status, _, raw = call(server, "GET", "/malformed/2.0/x")
    assert status == 502
    assert json.loads(raw) == {"message": "Internal server error"}
    assert server.malformed and "statusCode must be an integer" in server.malformed[-1]
