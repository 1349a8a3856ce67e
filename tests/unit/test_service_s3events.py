"""MinIO's notification body translated into AWS's S3 event, and which functions it is for.

``tests/events/minio_put*.json`` are bodies captured from the pinned MinIO build (the
object of AWS's sample ``s3_put.json``, and an empty object; see
``tests/integration/test_service_notifications_minio.py``, which checks the same differences
live). The hand-made bodies below vary one field at a time.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.project import FunctionSpec, Project, S3Trigger, load_project
from sandbox.service.s3events import (
    MalformedNotification,
    aws_event_from_minio,
    events_for,
    functions_for,
    matching_rules,
    rule_id,
)

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "tests" / "events"
CAPTURED = json.loads((EVENTS / "minio_put.json").read_text())
CAPTURED_EMPTY = json.loads((EVENTS / "minio_put_empty.json").read_text())
AWS_SAMPLE = json.loads((EVENTS / "s3_put.json").read_text())


def body(
    key: str = "2026%2F04%2Fa.pdf", *, event: str = "s3:ObjectCreated:Put", **obj: Any
) -> dict[str, Any]:
    """A MinIO body for bucket ``reports`` with the object fields replaced by ``obj``."""
    b = copy.deepcopy(CAPTURED)
    record = b["Records"][0]
    record["eventName"] = event
    record["s3"]["bucket"]["name"] = "reports"
    record["s3"]["object"]["key"] = key
    record["s3"]["object"].update(obj)
    b["EventName"], b["Key"] = event, f"reports/{key}"
    return b


def aws(b: dict[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    record: dict[str, Any] = aws_event_from_minio(b, region=region)["Records"][0]
    return record


def test_the_captured_body_shows_every_difference_the_issue_lists() -> None:
    raw = CAPTURED["Records"][0]
    assert set(CAPTURED) == {"EventName", "Key", "Records"}
    assert raw["eventName"].startswith("s3:")
    assert "%2F" in raw["s3"]["object"]["key"]
    assert (raw["eventVersion"], raw["eventSource"]) == ("2.0", "minio:s3")
    assert raw["s3"]["configurationId"] == "Config"
    assert "source" in raw and "contentType" in raw["s3"]["object"]


def test_the_wrapper_is_unwrapped_into_records() -> None:
    assert list(aws_event_from_minio(CAPTURED, region="us-east-1")) == ["Records"]


def test_the_event_name_loses_its_s3_prefix() -> None:
    assert aws(body(event="s3:ObjectCreated:CompleteMultipartUpload"))["eventName"] == (
        "ObjectCreated:CompleteMultipartUpload"
    )


@pytest.mark.parametrize(
    ("minio_key", "aws_key"),
    [
        ("2026%2F04%2Fa.pdf", "2026/04/a.pdf"),
        ("2026%2F04%2Fmy+report+%2B1.pdf", "2026/04/my+report+%2B1.pdf"),
        ("2026%2F04%2F%C3%A9t%C3%A9%3D%281%29.pdf", "2026/04/%C3%A9t%C3%A9%3D%281%29.pdf"),
    ],
)
def test_the_key_keeps_slashes_and_spaces_are_plus(minio_key: str, aws_key: str) -> None:
    assert aws(body(minio_key))["s3"]["object"]["key"] == aws_key


def test_version_source_and_region_are_set() -> None:
    b = body()
    b["Records"][0]["awsRegion"] = ""  # MinIO's value without a site region
    record = aws(b, region="eu-west-3")
    assert (record["eventVersion"], record["eventSource"], record["awsRegion"]) == (
        "2.1",
        "aws:s3",
        "eu-west-3",
    )


def test_the_captured_key_is_encoded_exactly_as_in_awss_sample() -> None:
    sample = AWS_SAMPLE["Records"][0]["s3"]["object"]["key"]
    assert CAPTURED["Records"][0]["s3"]["object"]["key"] != sample
    assert aws(CAPTURED)["s3"]["object"]["key"] == sample


def test_an_empty_object_has_size_0() -> None:
    assert "size" not in CAPTURED_EMPTY["Records"][0]["s3"]["object"]
    obj = aws(CAPTURED_EMPTY)["s3"]["object"]
    assert obj["size"] == 0
    assert obj["eTag"] == "d41d8cd98f00b204e9800998ecf8427e"


def test_removals_carry_no_size_or_etag_as_on_s3() -> None:
    b = body(event="s3:ObjectRemoved:Delete")
    obj = aws(b)["s3"]["object"]
    assert set(obj) == {"key", "sequencer"}


def test_minios_extras_are_dropped_and_the_shape_is_awss_sample() -> None:
    record = aws(CAPTURED)
    assert "source" not in record
    assert "contentType" not in record["s3"]["object"]
    assert "userMetadata" not in record["s3"]["object"]
    assert _shape(record) == _shape(AWS_SAMPLE["Records"][0])


def test_real_values_are_kept() -> None:
    raw, record = CAPTURED["Records"][0], aws(CAPTURED)
    assert record["eventTime"] == raw["eventTime"]
    assert record["s3"]["object"]["eTag"] == raw["s3"]["object"]["eTag"]
    assert record["s3"]["object"]["sequencer"] == raw["s3"]["object"]["sequencer"]
    assert record["responseElements"] == {
        "x-amz-request-id": raw["responseElements"]["x-amz-request-id"],
        "x-amz-id-2": raw["responseElements"]["x-amz-id-2"],
    }
    assert record["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    assert record["userIdentity"] == raw["userIdentity"]


def test_a_version_id_is_kept() -> None:
    assert aws(body(versionId="v-123"))["s3"]["object"]["versionId"] == "v-123"


@pytest.mark.parametrize(
    "bad",
    [[], {"EventName": "x"}, {"Records": "x"}, {"Records": [{"eventName": "s3:x"}]}],
)
def test_a_body_that_is_not_a_notification_is_refused(bad: Any) -> None:
    with pytest.raises(MalformedNotification):
        aws_event_from_minio(bad, region="us-east-1")


# -- which functions -------------------------------------------------------------------------
PROJECT = Project(
    root=".",
    functions={
        "pdfs": FunctionSpec("pdfs", triggers=(S3Trigger(prefix="2026/", suffix=".pdf"),)),
        "csvs": FunctionSpec(
            "csvs",
            triggers=(
                S3Trigger(bucket="other", suffix=".csv"),
                S3Trigger(suffix=".csv", events=("s3:ObjectCreated:Put",)),
            ),
        ),
        "cleanup": FunctionSpec("cleanup", triggers=(S3Trigger(events=("s3:ObjectRemoved:*",)),)),
        "none": FunctionSpec("none"),
    },
)


@pytest.mark.parametrize(
    ("key", "event", "functions"),
    [
        ("2026%2F04%2Fa.pdf", "s3:ObjectCreated:Put", ["pdfs"]),
        ("2026%2F04%2Fa+b.pdf", "s3:ObjectCreated:Copy", ["pdfs"]),
        ("manifests%2F2026%2Fa.pdf", "s3:ObjectCreated:Put", []),
        ("2026%2F04%2Fa.txt", "s3:ObjectCreated:Put", []),
        ("x.csv", "s3:ObjectCreated:Put", ["csvs"]),
        ("x.csv", "s3:ObjectCreated:Copy", []),
        ("2026%2F04%2Fa.pdf", "s3:ObjectRemoved:Delete", ["cleanup"]),
    ],
)
def test_functions_match_bucket_prefix_suffix_and_event(
    key: str, event: str, functions: list[str]
) -> None:
    record = body(key, event=event)["Records"][0]
    assert functions_for(record, PROJECT, "reports") == functions


def test_a_trigger_on_another_bucket_matches_only_that_bucket() -> None:
    record = body("x.csv")["Records"][0]
    record["s3"]["bucket"]["name"] = "other"
    assert functions_for(record, PROJECT, "reports") == ["csvs"]
    (rule,) = matching_rules(record, PROJECT, "reports")
    assert rule.id == rule_id("csvs", 0) == "csvs.s3.0"


def test_an_aws_shaped_record_matches_the_same_way() -> None:
    record = aws(body("2026%2F04%2Fa+b.pdf"))
    assert functions_for(record, PROJECT, "reports") == ["pdfs"]


def test_events_for_gives_each_function_its_event_with_its_rule_id() -> None:
    pairs = events_for(body("2026%2F04%2Fa.pdf"), PROJECT, "reports", region="us-east-1")
    assert [(name, e["Records"][0]["s3"]["configurationId"]) for name, e in pairs] == [
        ("pdfs", "pdfs.s3.0")
    ]


def test_the_sample_project_never_triggers_on_its_own_manifests() -> None:
    project = load_project(REPO)
    assert functions_for(body("2026%2F04%2Fa.pdf")["Records"][0], project, "reports") == [
        "lambda-local-runner"
    ]
    manifest = body("manifests%2F2026%2F04%2Frun.jsonl")["Records"][0]
    assert functions_for(manifest, project, "reports") == []


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return type(value).__name__
