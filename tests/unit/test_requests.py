"""Event normalisation for every caller shape, and malformed events."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from s3_manifest.requests import BadRequest, is_http_event, is_pdf_key, parse_event
from s3_manifest.settings import Settings

EVENTS = Path(__file__).parent.parent / "events"
SETTINGS = Settings(bucket="default-bucket", prefix="default/")


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def s3_event(*keys: str, bucket: str = "my-company-reports-bucket") -> dict[str, Any]:
    template = load("s3_put.json")["Records"][0]
    records = []
    for key in keys:
        record = copy.deepcopy(template)
        record["s3"]["bucket"]["name"] = bucket
        record["s3"]["object"]["key"] = key
        records.append(record)
    return {"Records": records}


def test_s3_event_gives_the_folder_of_the_url_decoded_key() -> None:
    parsed = parse_event(load("s3_put.json"), SETTINGS)
    (request,) = parsed.requests
    assert (request.bucket, request.prefix, request.source) == (
        "my-company-reports-bucket",
        "2026/04/",
        "s3",
    )
    assert request.trigger_keys == ("2026/04/Quarterly report été + 50%.pdf",)


def test_s3_records_for_one_folder_make_one_run() -> None:
    parsed = parse_event(s3_event("2026/04/a.pdf", "2026/04/b.PDF", "2026/05/c.pdf"), SETTINGS)
    assert [(r.prefix, len(r.trigger_keys)) for r in parsed.requests] == [
        ("2026/04/", 2),
        ("2026/05/", 1),
    ]


def test_s3_key_at_the_bucket_root_lists_the_whole_bucket() -> None:
    (request,) = parse_event(s3_event("report.pdf"), SETTINGS).requests
    assert request.prefix == ""


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("manifests/0b6d.jsonl", "recursive trigger"),
        ("manifests/evil.pdf", "recursive trigger"),
        ("2026/04/notes.txt", "not a PDF"),
        ("2026/04/report.pdf.bak", "not a PDF"),
    ],
)
def test_s3_records_that_must_not_run_are_skipped_with_a_reason(key: str, reason: str) -> None:
    parsed = parse_event(s3_event(key), SETTINGS)
    assert parsed.requests == ()
    assert len(parsed.skipped) == 1 and reason in parsed.skipped[0]


def test_a_skipped_record_does_not_hide_the_others() -> None:
    parsed = parse_event(s3_event("manifests/x.jsonl", "2026/04/a.pdf"), SETTINGS)
    assert [r.prefix for r in parsed.requests] == ["2026/04/"]
    assert len(parsed.skipped) == 1


@pytest.mark.parametrize("name", ["apigw_rest.json", "apigw_http_v2.json"])
def test_api_gateway_events_take_bucket_and_prefix_from_the_query(name: str) -> None:
    event = load(name)
    assert is_http_event(event)
    (request,) = parse_event(event, SETTINGS).requests
    assert (request.bucket, request.prefix) == ("my-company-reports-bucket", "2026/04/")
    assert request.source == ("apigw" if "rest" in name else "apigw-v2")


@pytest.mark.parametrize("name", ["apigw_rest.json", "apigw_http_v2.json"])
def test_api_gateway_without_a_query_falls_back_to_the_settings(name: str) -> None:
    event = load(name)
    event["queryStringParameters"] = None
    event.pop("multiValueQueryStringParameters", None)
    (request,) = parse_event(event, SETTINGS).requests
    assert (request.bucket, request.prefix) == ("default-bucket", "default/")


def test_rest_api_refuses_a_repeated_bucket_parameter() -> None:
    event = load("apigw_rest.json")
    event["multiValueQueryStringParameters"]["bucket"] = ["a-bucket", "b-bucket"]
    with pytest.raises(BadRequest, match="more than once"):
        parse_event(event, SETTINGS)


def test_step_functions_input_is_a_plain_object() -> None:
    (request,) = parse_event(load("sfn_task.json"), SETTINGS).requests
    assert (request.bucket, request.prefix, request.source) == (
        "my-company-reports-bucket",
        "2026/04/",
        "direct",
    )


def test_direct_invoke_with_an_empty_object_uses_the_settings() -> None:
    (request,) = parse_event({}, SETTINGS).requests
    assert (request.bucket, request.prefix) == ("default-bucket", "default/")


def test_settings_come_from_env_vars_with_documented_defaults() -> None:
    assert Settings.from_env({}).bucket == "my-company-reports-bucket"
    assert Settings.from_env({}).prefix == "2026/04/"
    env = {"BUCKET_NAME": "other", "PREFIX": "x/", "QUEUE_MAXSIZE": "10", "URL_EXPIRES": "60"}
    s = Settings.from_env(env)
    assert (s.bucket, s.prefix, s.queue_maxsize, s.url_expires) == ("other", "x/", 10, 60)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"QUEUE_MAXSIZE": "many"}, "QUEUE_MAXSIZE must be a whole number"),
        ({"URL_EXPIRES": "0"}, "URL_EXPIRES must be between 1 and 604800"),
        ({"CONSUMERS": "0"}, "CONSUMERS must be between 1 and 256"),
        ({"PRESIGNER": "fastest"}, "PRESIGNER must be one of"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ([], "event is a list"),
        ("bucket", "event is a str"),
        ({"Records": []}, "non-empty list"),
        ({"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}, "handles 'aws:s3'"),
        ({"Records": [{"s3": {"bucket": {}}}]}, "no s3.bucket.name"),
        ({"bucket": 42}, "'bucket' must be a string"),
        ({"prefix": ["2026/"]}, "'prefix' must be a string"),
        ({"bucket": "Not_A_Bucket"}, "invalid bucket name"),
        ({"bucket": "192.168.1.1"}, "invalid bucket name"),
        ({"prefix": "x" * 1025}, "1024-byte key limit"),
    ],
)
def test_malformed_events_get_an_error_that_says_what_was_expected(
    event: Any, message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        parse_event(event, SETTINGS)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("a.pdf", True),
        ("A.PDF", True),
        ("dir/with space+plus%.Pdf", True),
        ("a.pdf.bak", False),
        ("pdf", False),
        ("a-pdf", False),
        ("reportpdf", False),
        ("a.pdfx", False),
    ],
)
def test_a_pdf_is_a_key_ending_in_dot_pdf_in_any_case(key: str, expected: bool) -> None:
    assert is_pdf_key(key) is expected
