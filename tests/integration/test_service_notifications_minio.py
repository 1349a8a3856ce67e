"""S3 triggers on the real MinIO server: its webhook target, our rules, and AWS's event shape.

A module-scoped MinIO is started with a webhook target pointing at a small receiver on
127.0.0.1 (standing in for the service's webhook route), the sample project's trigger rules
are put on a bucket, and real uploads are made with boto3. What MinIO POSTs is recorded, and
translated by `sandbox.service.s3events` exactly as the service will.
"""

from __future__ import annotations

import json
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from s3_manifest.requests import parse_event
from s3_manifest.settings import Settings
from sandbox.backends.minio import MinioBackend
from sandbox.core import Sandbox
from sandbox.project import FunctionSpec, Project, S3Trigger, load_project
from sandbox.service.notifications import (
    DEFAULT_ARN,
    NotificationSetupError,
    WebhookTarget,
    configure_notifications,
    minio_arn,
    new_webhook_target,
)
from sandbox.service.s3events import aws_event_from_minio, events_for, functions_for

from .webhook_receiver import Delivery, Receiver

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
#: How long MinIO may take to deliver: ~5 ms direct, 1-3 s through the queue dir, and its
#: queue store retries a refused endpoint every few seconds.
DELIVERY = 20.0
REDELIVERY = 60.0


@pytest.fixture(scope="module")
def minio_backend() -> MinioBackend:
    backend = MinioBackend(build=False)
    availability = backend.probe()
    if not availability.ok:
        pytest.skip(f"MinIO is not available here: {availability.reason}")
    return backend


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> WebhookTarget:
    return new_webhook_target(tmp_path_factory.mktemp("minio-events") / "queue")


@pytest.fixture(scope="module")
def receiver(target: WebhookTarget) -> Iterator[Receiver]:
    r = Receiver(target.port).start()
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture(scope="module")
def sandbox(
    minio_backend: MinioBackend,
    target: WebhookTarget,
    receiver: Receiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Sandbox]:
    said: list[str] = []
    sb = Sandbox.start(
        "minio",
        backends=[minio_backend],
        webhook=target,
        state_dir=tmp_path_factory.mktemp("sandbox-state"),
        report=said.append,
    )
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project(REPO)


@pytest.fixture(scope="module")
def bucket(sandbox: Sandbox, project: Project) -> str:
    name = f"trig-{uuid.uuid4().hex[:10]}"
    sandbox.client().create_bucket(Bucket=name)
    configure_notifications(sandbox.client(), project, name)
    return name


def put(
    sandbox: Sandbox, bucket: str, key: str, body: bytes = b"%PDF-1.4 test", **extra: Any
) -> None:
    sandbox.client().put_object(Bucket=bucket, Key=key, Body=body, **extra)


def record_of(delivery: Delivery) -> dict[str, Any]:
    records = delivery.body["Records"]
    assert len(records) == 1, "MinIO sends one record per POST"
    record: dict[str, Any] = records[0]
    return record


def for_key(bucket: str, key: str) -> Any:
    def matches(d: Delivery) -> bool:
        if not isinstance(d.body, dict) or not d.body.get("Records"):
            return False
        r = d.body["Records"][0]["s3"]
        return bool(r["bucket"]["name"] == bucket and unquote_plus(r["object"]["key"]) == key)

    return matches


def pending_events(target: WebhookTarget) -> list[str]:
    """Events MinIO holds in its queue dir (files under ``<queue_dir>/minio-webhook-<id>/``)."""
    return sorted(str(p) for p in Path(target.queue_dir).rglob("*") if p.is_file())


def wait_until_queue_empty(target: WebhookTarget, timeout: float = DELIVERY) -> None:
    deadline = time.monotonic() + timeout
    while (pending := pending_events(target)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pending == [], f"MinIO still holds {len(pending)} event(s) after {timeout:.0f} s"


# -- plumbing -------------------------------------------------------------------------------
def test_the_webhook_target_is_recorded_in_the_0600_state_file(
    sandbox: Sandbox, target: WebhookTarget
) -> None:
    assert sandbox.webhook == target
    assert sandbox.triggers_problem() is None
    assert sandbox.state_dir is not None
    state_file = sandbox.state_dir / "state.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    attached = Sandbox.attach(sandbox.state_dir)
    assert attached is not None and attached.webhook == target
    # the token reaches the state file, never the server's log
    assert sandbox.handle.log_path is not None
    assert target.token not in sandbox.handle.log_path.read_text(errors="replace")


def test_the_queue_dir_is_private(sandbox: Sandbox, target: WebhookTarget) -> None:
    assert stat.S_IMODE(Path(target.queue_dir).stat().st_mode) == 0o700


def test_the_bucket_has_the_sample_functions_rule(sandbox: Sandbox, bucket: str) -> None:
    config = sandbox.client().get_bucket_notification_configuration(Bucket=bucket)
    (rule,) = config["QueueConfigurations"]
    assert rule["QueueArn"] == minio_arn(REGION)
    filters = {f["Name"].lower(): f["Value"] for f in rule["Filter"]["Key"]["FilterRules"]}
    assert filters == {"prefix": "2026/", "suffix": ".pdf"}


def test_the_arn_may_name_the_region_or_leave_it_out(
    sandbox: Sandbox, bucket: str, project: Project
) -> None:
    for arn in (DEFAULT_ARN, minio_arn(REGION)):
        rules = configure_notifications(sandbox.client(), project, bucket, arn)
        assert [r["QueueArn"] for r in rules[bucket]] == [arn]
    config = sandbox.client().get_bucket_notification_configuration(Bucket=bucket)
    assert [r["QueueArn"] for r in config["QueueConfigurations"]] == [minio_arn(REGION)]


def test_an_unknown_target_is_a_clear_error(
    sandbox: Sandbox, bucket: str, project: Project
) -> None:
    with pytest.raises(NotificationSetupError, match="no webhook target arn:minio:sqs::llr"):
        configure_notifications(sandbox.client(), project, bucket, "arn:minio:sqs::llr:webhook")


def test_a_missing_bucket_is_a_clear_error(sandbox: Sandbox, project: Project) -> None:
    with pytest.raises(NotificationSetupError, match=r"NoSuchBucket.*create the bucket first"):
        configure_notifications(sandbox.client(), project, f"missing-{uuid.uuid4().hex[:8]}")


# -- delivery -------------------------------------------------------------------------------
def test_a_pdf_under_2026_is_posted_with_the_bearer_token(
    sandbox: Sandbox, bucket: str, receiver: Receiver, target: WebhookTarget
) -> None:
    key = "2026/04/one.pdf"
    put(sandbox, bucket, key)
    delivery = receiver.wait_for(for_key(bucket, key), timeout=DELIVERY, what=key)
    assert delivery.headers["authorization"] == f"Bearer {target.token}"
    assert target.authorizes(delivery.headers["authorization"])
    assert delivery.path == "/_llr/s3-events"
    assert record_of(delivery)["eventName"] == "s3:ObjectCreated:Put"


def test_uploads_outside_the_rule_are_never_posted(
    sandbox: Sandbox, bucket: str, receiver: Receiver, target: WebhookTarget
) -> None:
    excluded = ["manifests/2026/04/run.jsonl", "manifests/x.pdf", "2026/04/notes.txt", "2025/a.pdf"]
    for key in excluded:
        put(sandbox, bucket, key)
    marker = "2026/04/marker.pdf"
    put(sandbox, bucket, marker)
    receiver.wait_for(for_key(bucket, marker), timeout=DELIVERY, what=marker)
    # MinIO queues every matched event in the queue dir before sending it, and deletes the
    # file once the POST succeeded: once the queue is empty, nothing matched is on its way.
    wait_until_queue_empty(target)
    assert set(receiver.received_keys()).isdisjoint(excluded)


def test_delivery_survives_the_receiver_being_down(
    sandbox: Sandbox, bucket: str, receiver: Receiver, target: WebhookTarget
) -> None:
    key = f"2026/04/while-down-{uuid.uuid4().hex[:6]}.pdf"
    receiver.stop()
    try:
        put(sandbox, bucket, key)
        # the refused event waits in the queue dir
        deadline = time.monotonic() + DELIVERY
        while not pending_events(target) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pending_events(target), "the event was not queued while the receiver was down"
        assert not any(for_key(bucket, key)(d) for d in receiver.deliveries)
    finally:
        receiver.start()
    delivery = receiver.wait_for(for_key(bucket, key), timeout=REDELIVERY, what=key)
    assert delivery.headers["authorization"] == f"Bearer {target.token}"


# -- MinIO's record, and AWS's ----------------------------------------------------------------
@pytest.fixture(scope="module")
def captured(sandbox: Sandbox, bucket: str, receiver: Receiver) -> dict[str, Delivery]:
    """Real MinIO bodies: a key with a space and a plus, and an empty object with metadata."""
    keys = {"spaced": "2026/04/my report +1 été.pdf", "empty": "2026/04/empty.pdf"}
    put(sandbox, bucket, keys["spaced"])
    put(
        sandbox,
        bucket,
        keys["empty"],
        body=b"",
        ContentType="application/pdf",
        Metadata={"owner": "qa"},
    )
    return {
        name: receiver.wait_for(for_key(bucket, key), timeout=DELIVERY, what=key)
        for name, key in keys.items()
    }


def test_minio_wraps_one_record_in_event_name_key_records(captured: dict[str, Delivery]) -> None:
    body = captured["spaced"].body
    assert set(body) == {"EventName", "Key", "Records"}
    assert aws_event_from_minio(body, region=REGION).keys() == {"Records"}


def test_the_s3_prefix_is_dropped_from_the_event_name(captured: dict[str, Delivery]) -> None:
    body = captured["spaced"].body
    assert body["Records"][0]["eventName"] == "s3:ObjectCreated:Put"
    aws = aws_event_from_minio(body, region=REGION)["Records"][0]
    assert aws["eventName"] == "ObjectCreated:Put"


def test_the_key_is_encoded_as_aws_encodes_it(captured: dict[str, Delivery]) -> None:
    body = captured["spaced"].body
    assert body["Records"][0]["s3"]["object"]["key"].startswith("2026%2F04%2Fmy+report+%2B1")
    aws = aws_event_from_minio(body, region=REGION)["Records"][0]
    assert aws["s3"]["object"]["key"] == "2026/04/my+report+%2B1+%C3%A9t%C3%A9.pdf"


def test_version_source_and_region_are_aws_s(captured: dict[str, Delivery]) -> None:
    raw = captured["spaced"].body["Records"][0]
    assert (raw["eventVersion"], raw["eventSource"]) == ("2.0", "minio:s3")
    aws = aws_event_from_minio(captured["spaced"].body, region="eu-west-3")["Records"][0]
    assert (aws["eventVersion"], aws["eventSource"], aws["awsRegion"]) == (
        "2.1",
        "aws:s3",
        "eu-west-3",
    )


def test_the_configuration_id_is_the_rules_id(
    captured: dict[str, Delivery], project: Project, bucket: str
) -> None:
    body = captured["spaced"].body
    assert body["Records"][0]["s3"]["configurationId"] == "Config"
    ((function, event),) = events_for(body, project, bucket, region=REGION)
    assert function == "lambda-local-runner"
    assert event["Records"][0]["s3"]["configurationId"] == "lambda-local-runner.s3.0"


def test_an_empty_object_has_size_0(captured: dict[str, Delivery]) -> None:
    raw = captured["empty"].body["Records"][0]["s3"]["object"]
    assert "size" not in raw
    aws = aws_event_from_minio(captured["empty"].body, region=REGION)["Records"][0]
    assert aws["s3"]["object"]["size"] == 0
    assert aws["s3"]["object"]["eTag"] == raw["eTag"]


def test_minios_extra_fields_are_dropped(captured: dict[str, Delivery]) -> None:
    raw = captured["empty"].body["Records"][0]
    assert "source" in raw
    assert {"contentType", "userMetadata"} <= set(raw["s3"]["object"])
    aws = aws_event_from_minio(captured["empty"].body, region=REGION)["Records"][0]
    assert "source" not in aws
    assert set(aws["s3"]["object"]) == {"key", "size", "eTag", "sequencer"}
    assert not any(k.startswith("x-minio") for k in aws["responseElements"])


def test_real_values_are_kept(captured: dict[str, Delivery]) -> None:
    raw = captured["spaced"].body["Records"][0]
    aws = aws_event_from_minio(captured["spaced"].body, region=REGION)["Records"][0]
    assert aws["eventTime"] == raw["eventTime"]
    assert aws["s3"]["object"]["eTag"] == raw["s3"]["object"]["eTag"]
    assert aws["s3"]["object"]["size"] == raw["s3"]["object"]["size"]
    assert aws["s3"]["object"]["sequencer"] == raw["s3"]["object"]["sequencer"]
    assert aws["s3"]["bucket"]["name"] == raw["s3"]["bucket"]["name"]
    assert (
        aws["responseElements"]["x-amz-request-id"] == raw["responseElements"]["x-amz-request-id"]
    )


def test_the_translated_event_has_awss_sample_shape(captured: dict[str, Delivery]) -> None:
    sample = json.loads((REPO / "tests" / "events" / "s3_put.json").read_text())["Records"][0]
    aws = aws_event_from_minio(captured["spaced"].body, region=REGION)["Records"][0]
    assert _shape(aws) == _shape(sample)


def test_the_sample_function_reads_the_uploads_folder_from_the_translated_event(
    captured: dict[str, Delivery], bucket: str
) -> None:
    event = aws_event_from_minio(captured["spaced"].body, region=REGION)
    parsed = parse_event(event, Settings())
    assert [(r.bucket, r.prefix) for r in parsed.requests] == [(bucket, "2026/04/")]


def test_functions_for_matches_the_real_record(
    captured: dict[str, Delivery], project: Project, bucket: str
) -> None:
    record = captured["spaced"].body["Records"][0]
    assert functions_for(record, project, bucket) == ["lambda-local-runner"]
    assert functions_for(record, project, "another-bucket") == []


def _shape(value: Any) -> Any:
    """Keys and value types, recursively: the shape of an event without its values."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return type(value).__name__


# -- across restarts of MinIO itself ----------------------------------------------------------
@pytest.mark.slow
def test_queued_events_survive_down_keep_data_and_the_queue_goes_with_the_data(
    minio_backend: MinioBackend, project: Project, tmp_path: Path
) -> None:
    """``up``, an upload while nobody listens, ``down --keep-data``, ``up``: delivered; the
    queue dir (in the state dir) stays with kept data and is removed by a plain ``down``."""
    state_dir = tmp_path / "state"
    target = new_webhook_target(state_dir / "minio-events")
    receiver = Receiver(target.port)  # not started: the service is "down"
    first = Sandbox.up("minio", state_dir=state_dir, backends=[minio_backend], webhook=target)
    try:
        name = f"keep-{uuid.uuid4().hex[:8]}"
        first.client().create_bucket(Bucket=name)
        configure_notifications(first.client(), project, name)
        key = "2026/04/queued.pdf"
        put(first, name, key)
        deadline = time.monotonic() + DELIVERY
        while not pending_events(target) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pending_events(target), "the event was not queued"
    finally:
        first.stop(keep_data=True)
    assert pending_events(target), "down --keep-data dropped the queued event"
    again = Sandbox.up("minio", state_dir=state_dir, backends=[minio_backend], webhook=target)
    try:
        assert again.webhook == target
        receiver.start()
        delivery = receiver.wait_for(for_key(name, key), timeout=REDELIVERY, what=key)
        assert target.authorizes(delivery.headers["authorization"])
    finally:
        receiver.stop()
        again.stop()
    assert not Path(target.queue_dir).exists()


# -- other event types, on a bucket with a project of our own -----------------------------------
EVENTS_PROJECT = Project(
    root=str(REPO),
    functions={
        "created": FunctionSpec("created", triggers=(S3Trigger(prefix="in/"),)),
        "removed": FunctionSpec(
            "removed", triggers=(S3Trigger(prefix="in/", events=("s3:ObjectRemoved:*",)),)
        ),
    },
)


@pytest.fixture(scope="module")
def events_bucket(sandbox: Sandbox) -> str:
    name = f"evts-{uuid.uuid4().hex[:10]}"
    sandbox.client().create_bucket(Bucket=name)
    configure_notifications(sandbox.client(), EVENTS_PROJECT, name)
    return name


def aws_for(delivery: Delivery, bucket: str) -> tuple[list[str], dict[str, Any]]:
    pairs = events_for(delivery.body, EVENTS_PROJECT, bucket, region=REGION)
    assert len(pairs) == 1
    ((function, event),) = pairs
    return [function], event["Records"][0]


def wait_event(receiver: Receiver, bucket: str, key: str, event: str) -> Delivery:
    def matches(d: Delivery) -> bool:
        return for_key(bucket, key)(d) and d.body["Records"][0]["eventName"] == event

    return receiver.wait_for(matches, timeout=DELIVERY, what=f"{event} {key}")


def test_a_delete_is_object_removed_without_size_or_etag(
    sandbox: Sandbox, events_bucket: str, receiver: Receiver
) -> None:
    key = "in/to-delete.txt"
    put(sandbox, events_bucket, key)
    sandbox.client().delete_object(Bucket=events_bucket, Key=key)
    delivery = wait_event(receiver, events_bucket, key, "s3:ObjectRemoved:Delete")
    functions, record = aws_for(delivery, events_bucket)
    assert functions == ["removed"]
    assert record["eventName"] == "ObjectRemoved:Delete"
    assert set(record["s3"]["object"]) == {"key", "sequencer"}
    assert record["s3"]["configurationId"] == "removed.s3.0"


def test_a_copy_and_a_multipart_upload_are_their_created_events(
    sandbox: Sandbox, events_bucket: str, receiver: Receiver
) -> None:
    client = sandbox.client()
    put(sandbox, events_bucket, "in/source.bin", body=b"x" * 10)
    client.copy_object(
        Bucket=events_bucket,
        Key="in/copy.bin",
        CopySource={"Bucket": events_bucket, "Key": "in/source.bin"},
    )
    part = b"p" * (5 * 1024 * 1024)
    upload = client.create_multipart_upload(Bucket=events_bucket, Key="in/multi.bin")
    etags = [
        client.upload_part(
            Bucket=events_bucket,
            Key="in/multi.bin",
            UploadId=upload["UploadId"],
            PartNumber=n,
            Body=part,
        )["ETag"]
        for n in (1, 2)
    ]
    client.complete_multipart_upload(
        Bucket=events_bucket,
        Key="in/multi.bin",
        UploadId=upload["UploadId"],
        MultipartUpload={
            "Parts": [{"ETag": e, "PartNumber": n} for n, e in enumerate(etags, start=1)]
        },
    )
    copy = wait_event(receiver, events_bucket, "in/copy.bin", "s3:ObjectCreated:Copy")
    _, record = aws_for(copy, events_bucket)
    assert (record["eventName"], record["s3"]["object"]["size"]) == ("ObjectCreated:Copy", 10)
    multi = wait_event(
        receiver, events_bucket, "in/multi.bin", "s3:ObjectCreated:CompleteMultipartUpload"
    )
    functions, record = aws_for(multi, events_bucket)
    assert functions == ["created"]
    assert record["eventName"] == "ObjectCreated:CompleteMultipartUpload"
    assert record["s3"]["object"]["size"] == 2 * len(part)
    assert record["s3"]["object"]["eTag"].endswith("-2")
