"""API Gateway over HTTP: real requests become proxy events; handler returns become replies."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from s3_manifest.requests import parse_event
from s3_manifest.settings import Settings
from sandbox.service.apigw import (
    INTERNAL_SERVER_ERROR,
    HttpReply,
    MalformedProxyResponse,
    event_from_request,
    is_text_content_type,
    response_to_http,
)

HEADERS = [
    ("Host", "127.0.0.1:8123"),
    ("User-Agent", "curl/8.5.0"),
    ("Accept", "*/*"),
    ("X-Multi", "a"),
    ("x-multi", "b"),
    ("Cookie", "session=abc; theme=dark"),
    ("Cookie", "lang=en"),
]


def request(version: str, **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "method": "get",
        "path": "/reports/2026",
        "raw_query": "bucket=b-1&prefix=2026%2F04%2F&tag=x&tag=y&empty=",
        "headers": HEADERS,
        "body": b"",
        "version": version,
        "source_ip": "127.0.0.1",
    }
    args.update(overrides)
    return event_from_request(**args)


# -- payload 2.0 ----------------------------------------------------------------------------
def test_v2_event_has_the_http_api_shape_with_the_default_route() -> None:
    event = request("2.0")
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/reports/2026"
    context = event["requestContext"]
    assert context["routeKey"] == "$default"
    assert context["stage"] == "$default"
    assert context["http"] == {
        "method": "GET",
        "path": "/reports/2026",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "curl/8.5.0",
    }
    assert context["domainName"] == "127.0.0.1"
    assert context["requestId"] and isinstance(context["timeEpoch"], int)
    assert "body" not in event and event["isBase64Encoded"] is False


def test_v2_headers_are_lower_cased_and_repeats_joined_with_commas() -> None:
    headers = request("2.0")["headers"]
    assert headers["x-multi"] == "a,b"
    assert headers["host"] == "127.0.0.1:8123"
    assert headers["user-agent"] == "curl/8.5.0"
    assert all(name == name.lower() for name in headers)


def test_v2_cookies_get_their_own_list_and_leave_the_headers() -> None:
    event = request("2.0")
    assert event["cookies"] == ["session=abc", "theme=dark", "lang=en"]
    assert "cookie" not in event["headers"]


def test_v2_query_keeps_the_raw_string_and_joins_repeated_parameters() -> None:
    event = request("2.0")
    assert event["rawQueryString"] == "bucket=b-1&prefix=2026%2F04%2F&tag=x&tag=y&empty="
    assert event["queryStringParameters"] == {
        "bucket": "b-1",
        "prefix": "2026/04/",
        "tag": "x,y",
        "empty": "",
    }


def test_v2_without_a_query_has_no_query_parameters() -> None:
    event = request("2.0", raw_query="")
    assert event["rawQueryString"] == ""
    assert "queryStringParameters" not in event


def test_api_gateway_adds_the_forwarding_headers() -> None:
    headers = request("2.0", source_ip="127.0.0.9")["headers"]
    assert headers["x-forwarded-for"] == "127.0.0.9"
    assert headers["x-forwarded-port"] == "8123"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-amzn-trace-id"].startswith("Root=1-")


def test_a_text_body_is_passed_as_text() -> None:
    body = json.dumps({"bucket": "b", "note": "été"}).encode()
    event = request(
        "2.0", method="POST", headers=[*HEADERS, ("Content-Type", "application/json")], body=body
    )
    assert event["body"] == body.decode()
    assert event["isBase64Encoded"] is False


def test_a_binary_body_is_base64_encoded() -> None:
    body = bytes(range(256))
    headers = [*HEADERS, ("Content-Type", "application/octet-stream")]
    for version in ("2.0", "1.0"):
        event = request(version, method="PUT", headers=headers, body=body)
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(event["body"]) == body


def test_bytes_that_are_not_utf8_are_base64_even_when_labelled_text() -> None:
    event = request("2.0", method="POST", headers=[("Content-Type", "text/plain")], body=b"\xff")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff"


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        (None, True),
        ("text/html; charset=utf-8", True),
        ("application/json", True),
        ("application/vnd.api+json", True),
        ("application/x-www-form-urlencoded", True),
        ("image/png", False),
        ("application/pdf", False),
        ("application/octet-stream", False),
    ],
)
def test_text_content_types_are_told_from_binary_ones(content_type: str | None, text: bool) -> None:
    assert is_text_content_type(content_type) is text


def test_the_sample_function_reads_bucket_and_prefix_from_a_real_request() -> None:
    for version in ("2.0", "1.0"):
        parsed = parse_event(json.loads(json.dumps(request(version))), Settings())
        assert [(r.bucket, r.prefix) for r in parsed.requests] == [("b-1", "2026/04/")]


# -- payload 1.0 ----------------------------------------------------------------------------
def test_v1_event_has_the_rest_proxy_shape_for_a_greedy_resource() -> None:
    event = request("1.0")
    assert event["httpMethod"] == "GET"
    assert event["path"] == "/reports/2026"
    assert event["resource"] == "/{proxy+}"
    assert event["pathParameters"] == {"proxy": "reports/2026"}
    context = event["requestContext"]
    assert context["path"] == "/reports/2026"
    assert context["resourcePath"] == "/{proxy+}"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "curl/8.5.0"
    assert event["body"] is None and event["isBase64Encoded"] is False


def test_v1_root_path_is_the_root_resource() -> None:
    event = request("1.0", path="/")
    assert event["resource"] == "/"
    assert event["pathParameters"] is None


def test_v1_headers_keep_the_last_value_and_multi_value_headers_keep_all() -> None:
    event = request("1.0")
    assert event["headers"]["Cookie"] == "lang=en"
    assert event["multiValueHeaders"]["Cookie"] == ["session=abc; theme=dark", "lang=en"]
    assert event["headers"]["Host"] == "127.0.0.1:8123"
    # names as sent: "X-Multi" and "x-multi" are two names in payload 1.0
    assert event["multiValueHeaders"]["X-Multi"] == ["a"]
    assert event["multiValueHeaders"]["x-multi"] == ["b"]


def test_v1_query_has_single_and_multi_value_maps() -> None:
    event = request("1.0")
    assert event["queryStringParameters"]["tag"] == "y"
    assert event["multiValueQueryStringParameters"]["tag"] == ["x", "y"]
    assert event["queryStringParameters"]["prefix"] == "2026/04/"


def test_v1_without_a_query_has_null_query_maps() -> None:
    event = request("1.0", raw_query="")
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None


def test_an_unknown_payload_version_is_refused() -> None:
    with pytest.raises(ValueError, match=re.escape('expected "2.0" or "1.0"')):
        request("3.0")
    with pytest.raises(ValueError, match=re.escape('expected "2.0" or "1.0"')):
        response_to_http({}, "3.0")


# -- responses ------------------------------------------------------------------------------
def test_a_proxy_response_maps_status_headers_and_body() -> None:
    reply = response_to_http(
        {"statusCode": 404, "headers": {"Content-Type": "text/plain", "X-N": 3}, "body": "no"},
        "2.0",
    )
    assert reply == HttpReply(404, [("Content-Type", "text/plain"), ("X-N", "3")], b"no")


@pytest.mark.parametrize(
    ("value", "body"),
    [
        ({"count": 3}, b'{"count": 3}'),
        ("Hello from Lambda!", b"Hello from Lambda!"),
        ([1, 2], b"[1, 2]"),
        (42, b"42"),
        (None, b"null"),
    ],
)
def test_v2_a_plain_returned_value_is_a_200_json_body(value: Any, body: bytes) -> None:
    reply = response_to_http(value, "2.0")
    assert reply.status == 200
    assert reply.header("content-type") == "application/json"
    assert reply.body == body


def test_v2_cookies_become_set_cookie_headers() -> None:
    reply = response_to_http(
        {"statusCode": 200, "cookies": ["a=1; Path=/", "b=2"], "body": ""}, "2.0"
    )
    assert [v for k, v in reply.headers if k == "Set-Cookie"] == ["a=1; Path=/", "b=2"]


def test_a_base64_body_is_decoded() -> None:
    data = bytes(range(256))
    result = {
        "statusCode": 200,
        "headers": {"content-type": "application/octet-stream"},
        "body": base64.b64encode(data).decode(),
        "isBase64Encoded": True,
    }
    for version in ("2.0", "1.0"):
        assert response_to_http(result, version).body == data


def test_v1_multi_value_headers_merge_with_headers_and_win_on_a_clash() -> None:
    reply = response_to_http(
        {
            "statusCode": 201,
            "headers": {"X-One": "1", "X-Both": "single"},
            "multiValueHeaders": {"x-both": ["m1", "m2"], "Set-Cookie": ["a=1", "b=2"]},
            "body": "{}",
        },
        "1.0",
    )
    assert reply.status == 201
    assert ("X-One", "1") in reply.headers
    assert [v for k, v in reply.headers if k.lower() == "x-both"] == ["m1", "m2"]
    assert [v for k, v in reply.headers if k == "Set-Cookie"] == ["a=1", "b=2"]


def test_a_missing_content_type_defaults_to_json_and_length_is_left_to_the_server() -> None:
    reply = response_to_http(
        {"statusCode": 200, "headers": {"Content-Length": "999"}, "body": "{}"}, "1.0"
    )
    assert reply.header("content-type") == "application/json"
    assert reply.header("content-length") is None


def test_a_missing_body_is_an_empty_body() -> None:
    assert response_to_http({"statusCode": 204}, "1.0").body == b""


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ("plain string", "expected a JSON object with statusCode"),
        (None, "got null"),
        ({"count": 3}, "unexpected key"),
        ({"statusCode": "200", "body": ""}, "statusCode must be an integer"),
        ({"statusCode": 700}, "not an HTTP status"),
        ({"statusCode": 200, "body": {"a": 1}}, "body must be a string"),
        ({"statusCode": 200, "headers": ["a"]}, "headers must be an object"),
        ({"statusCode": 200, "headers": {"a": {"b": 1}}}, "header 'a' must be a string"),
        ({"statusCode": 200, "multiValueHeaders": {"a": "b"}}, "must be a list"),
        ({"statusCode": 200, "body": "%%%", "isBase64Encoded": True}, "not base64"),
        ({"statusCode": 200, "isBase64Encoded": "yes"}, "isBase64Encoded must be"),
    ],
)
def test_v1_malformed_proxy_responses_are_refused_with_the_reason(result: Any, reason: str) -> None:
    with pytest.raises(MalformedProxyResponse, match=reason) as info:
        response_to_http(result, "1.0")
    assert info.value.status == 502
    assert json.loads(info.value.body) == {"message": "Internal server error"}
    assert info.value.body == INTERNAL_SERVER_ERROR


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ({"statusCode": "200"}, "statusCode must be an integer"),
        ({"statusCode": True}, "statusCode must be an integer"),
        ({"statusCode": 200, "body": "!!", "isBase64Encoded": True}, "not base64"),
        ({"statusCode": 200, "cookies": "a=1"}, "cookies must be a list"),
        ({"statusCode": 200, "body": 5}, "body must be a string"),
    ],
)
def test_v2_malformed_proxy_responses_are_refused_with_the_reason(result: Any, reason: str) -> None:
    with pytest.raises(MalformedProxyResponse, match=reason):
        response_to_http(result, "2.0")


@pytest.mark.parametrize(
    ("version", "sample"), [("2.0", "apigw_http_v2.json"), ("1.0", "apigw_rest.json")]
)
def test_a_real_request_event_has_every_field_of_awss_sample(version: str, sample: str) -> None:
    events = Path(__file__).resolve().parents[1] / "events"
    expected = json.loads((events / sample).read_text())
    event = request(version)
    assert set(expected) <= set(event)
    assert set(expected["requestContext"]) <= set(event["requestContext"])
    if version == "1.0":
        assert set(expected["requestContext"]["identity"]) <= set(
            event["requestContext"]["identity"]
        )
