"""Event generators: AWS's shapes, and the function understands every one of them."""

from __future__ import annotations

import json

import pytest

from s3_manifest.requests import parse_event
from s3_manifest.settings import Settings
from sandbox.events import (
    EVENT_KINDS,
    apigw_event,
    apigw_v2_event,
    cli,
    make_event,
    s3_event,
)


def test_s3_event_url_encodes_the_key_like_s3_does() -> None:
    event = s3_event("bucket-1", "2026/04/my report (1)+v2.pdf", size=123, etag='"abc"')
    obj = event["Records"][0]["s3"]["object"]
    assert obj["key"] == "2026/04/my+report+%281%29%2Bv2.pdf"
    assert obj["size"] == 123
    assert obj["eTag"] == "abc"


def test_s3_event_has_the_documented_record_fields() -> None:
    record = s3_event("bucket-1", "a.pdf")["Records"][0]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["eventTime"].endswith("Z")
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::bucket-1"
    assert set(record["s3"]["object"]) >= {"key", "size", "eTag", "sequencer"}


def test_apigw_rest_event_is_a_payload_1_0_proxy_event() -> None:
    event = apigw_event(bucket="b-1", prefix="2026/04/")
    assert event["httpMethod"] == "GET"
    assert event["queryStringParameters"] == {"bucket": "b-1", "prefix": "2026/04/"}
    assert event["multiValueQueryStringParameters"]["bucket"] == ["b-1"]
    assert event["requestContext"]["stage"] == "prod"
    assert event["isBase64Encoded"] is False


def test_http_api_event_is_a_payload_2_0_event() -> None:
    event = apigw_v2_event(bucket="b-1", prefix="2026/04/")
    assert event["version"] == "2.0"
    assert event["rawQueryString"] == "bucket=b-1&prefix=2026%2F04%2F"
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["routeKey"] == "GET /manifest"


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_the_function_reads_bucket_and_prefix_from_every_kind(kind: str) -> None:
    event = make_event(kind, bucket="my-bucket", prefix="2026/04/", key="2026/04/a b.pdf")
    parsed = parse_event(json.loads(json.dumps(event)), Settings())
    assert [(r.bucket, r.prefix) for r in parsed.requests] == [("my-bucket", "2026/04/")]


def test_an_unknown_kind_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="expected one of s3, apigw"):
        make_event("sqs", bucket="b")


def test_the_cli_prints_the_event_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["s3", "--bucket", "b-1", "--key", "k.pdf", "--offline"]) == 0
    event = json.loads(capsys.readouterr().out)
    assert event["Records"][0]["s3"]["bucket"]["name"] == "b-1"


def test_the_cli_exits_2_when_an_s3_event_has_no_bucket(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["s3", "--offline"]) == 2
    assert "needs a bucket" in capsys.readouterr().err
