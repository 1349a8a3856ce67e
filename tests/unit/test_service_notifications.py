"""MinIO's webhook target and the bucket rules built from the project's S3 triggers."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.project import FunctionSpec, Project, S3Trigger, load_project
from sandbox.service.notifications import (
    DEFAULT_ARN,
    WebhookTarget,
    minio_arn,
    minio_env,
    new_webhook_target,
    notification_rules,
    triggers_problem,
)

REPO = Path(__file__).resolve().parents[2]


def target(tmp_path: Path) -> WebhookTarget:
    return WebhookTarget("http://127.0.0.1:9999/_llr/s3-events", "t" * 32, str(tmp_path / "q"))


def test_the_target_id_keeps_its_case_in_the_env_names(tmp_path: Path) -> None:
    assert "MINIO_NOTIFY_WEBHOOK_ENABLE_mine" in minio_env(target(tmp_path), "mine")


def test_minio_env_enables_the_target_with_endpoint_token_and_queue(tmp_path: Path) -> None:
    env = minio_env(target(tmp_path))
    assert env == {
        "MINIO_NOTIFY_WEBHOOK_ENABLE_LLR": "on",
        "MINIO_NOTIFY_WEBHOOK_ENDPOINT_LLR": "http://127.0.0.1:9999/_llr/s3-events",
        "MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_LLR": "t" * 32,
        "MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_LLR": str(tmp_path / "q"),
    }


def test_the_arn_names_the_target_and_the_server_region() -> None:
    assert minio_arn("us-east-1") == "arn:minio:sqs:us-east-1:LLR:webhook"
    assert minio_arn("", "other") == "arn:minio:sqs::other:webhook"
    assert DEFAULT_ARN == "arn:minio:sqs::LLR:webhook"


def test_a_new_target_has_a_random_token_and_a_free_loopback_port(tmp_path: Path) -> None:
    a, b = new_webhook_target(tmp_path), new_webhook_target(tmp_path)
    assert a.token != b.token and len(a.token) >= 32
    assert a.endpoint.startswith("http://127.0.0.1:")
    assert a.port > 0
    assert new_webhook_target(tmp_path, port=4567).port == 4567


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://0.0.0.0:9000/x",
        "http://localhost:9000/x",
        "https://127.0.0.1:9000/",
        "http://127.0.0.1/",
    ],
)
def test_only_a_loopback_http_endpoint_with_a_port_is_accepted(
    endpoint: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        WebhookTarget(endpoint, "t" * 32, str(tmp_path))


def test_a_short_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="16"):
        WebhookTarget("http://127.0.0.1:9/x", "short", str(tmp_path))


def test_the_token_is_never_in_repr_or_the_public_view(tmp_path: Path) -> None:
    t = target(tmp_path)
    assert t.token not in repr(t)
    assert t.token not in str(t.public())
    assert WebhookTarget.from_json(t.to_json()) == t


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("Bearer " + "t" * 32, True),
        ("bearer " + "t" * 32, True),
        ("Bearer " + "t" * 31, False),
        ("Bearer wrong", False),
        ("Basic " + "t" * 32, False),
        ("", False),
        (None, False),
    ],
)
def test_authorizes_only_the_bearer_token(tmp_path: Path, header: str | None, ok: bool) -> None:
    assert target(tmp_path).authorizes(header) is ok


def test_the_sample_function_gets_a_2026_prefix_and_pdf_suffix_rule() -> None:
    project = load_project(REPO)
    rules = notification_rules(project, "reports", minio_arn("us-east-1"))
    assert rules == {
        "reports": [
            {
                "Id": "lambda-local-runner.s3.0",
                "QueueArn": "arn:minio:sqs:us-east-1:LLR:webhook",
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {
                    "Key": {
                        "FilterRules": [
                            {"Name": "prefix", "Value": "2026/"},
                            {"Name": "suffix", "Value": ".pdf"},
                        ]
                    }
                },
            }
        ]
    }


def test_rules_are_grouped_by_bucket_and_empty_filters_left_out() -> None:
    project = Project(
        root=".",
        functions={
            "a": FunctionSpec(
                "a", triggers=(S3Trigger(), S3Trigger(bucket="other", suffix=".csv"))
            ),
            "b": FunctionSpec(
                "b", triggers=(S3Trigger(prefix="in/", events=("s3:ObjectRemoved:*",)),)
            ),
            "c": FunctionSpec("c"),
        },
    )
    rules = notification_rules(project, "main", "arn")
    assert [r["Id"] for r in rules["main"]] == ["a.s3.0", "b.s3.0"]
    assert "Filter" not in rules["main"][0]
    assert rules["main"][1]["Events"] == ["s3:ObjectRemoved:*"]
    assert rules["other"] == [
        {
            "Id": "a.s3.1",
            "QueueArn": "arn",
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".csv"}]}},
        }
    ]


@pytest.mark.parametrize("backend", ["seaweedfs", "docker", "external"])
def test_backends_without_webhooks_say_triggers_are_not_available(backend: str) -> None:
    problem = triggers_problem(backend)
    assert problem is not None and problem.startswith("S3 triggers are not available")


def test_minio_has_triggers() -> None:
    assert triggers_problem("minio") is None


def test_a_sandbox_without_a_webhook_says_triggers_are_off(tmp_path: Path) -> None:
    from sandbox.backends import Endpoint, Handle
    from sandbox.backends.minio import MinioBackend
    from sandbox.core import Sandbox

    endpoint = Endpoint("http://127.0.0.1:1", "a", "s", "us-east-1", "minio")
    plain = Sandbox(MinioBackend(), Handle("minio", endpoint), workdir=tmp_path)
    assert plain.webhook is None
    assert plain.triggers_problem() == (
        "S3 triggers are off: the sandbox was started without a webhook target"
    )
    t = target(tmp_path)
    wired = Sandbox(
        MinioBackend(), Handle("minio", endpoint, extra={"webhook": t.to_json()}), workdir=tmp_path
    )
    assert wired.webhook == t
    assert wired.triggers_problem() is None


def test_only_the_minio_backend_is_given_the_webhook_and_others_say_why(tmp_path: Path) -> None:
    from sandbox.backends import Selection
    from sandbox.backends.docker import DockerBackend
    from sandbox.backends.external import ExternalBackend
    from sandbox.backends.minio import MinioBackend
    from sandbox.backends.seaweedfs import SeaweedFSBackend
    from sandbox.core import _with_webhook

    t = target(tmp_path)
    minio = MinioBackend(build=False)
    chosen = _with_webhook(Selection(minio, "requested"), t, lambda _m: None)
    assert isinstance(chosen.backend, MinioBackend) and chosen.backend.webhook == t
    assert minio.webhook is None  # the shared instance is left as it was
    for other in (DockerBackend(), SeaweedFSBackend(), ExternalBackend()):
        said: list[str] = []
        selection = Selection(other, "requested")
        assert _with_webhook(selection, t, said.append) is selection
        assert said == [triggers_problem(other.name)]
    assert _with_webhook(Selection(minio, "r"), None, lambda _m: None).backend is minio
