"""Real S3 triggers: MinIO's webhook target, and the bucket rules that feed it.

MinIO reads its notification targets from the environment once, at server start
(``MINIO_NOTIFY_WEBHOOK_*_<ID>``); `minio_env` writes them, and `sandbox.backends.minio`
starts the server with them when `Sandbox.start(..., webhook=...)` asks. The bucket rules
come after, from the project's S3 triggers (`configure_notifications`), with the target's
ARN ``arn:minio:sqs:<region>:<ID>:webhook``.

* The bearer token is random per sandbox; MinIO sends ``Authorization: Bearer <token>`` and
  the service refuses any POST without it (401).
* The queue dir makes delivery durable: MinIO stores each event there until the endpoint
  accepts it, so events raised while the service is down or restarting arrive later (MinIO
  retries about every few seconds). Without it, MinIO drops an event the endpoint refuses.

Only MinIO run by us has this. SeaweedFS has no webhook notifications, MinIO in Docker cannot
reach a service bound to 127.0.0.1 on the host, and an external endpoint is not ours to
configure: `triggers_problem` says so plainly; nothing is faked.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sandbox.project import Project
from sandbox.service.s3events import rule_id

__all__ = [
    "DEFAULT_ARN",
    "DEFAULT_TARGET_ID",
    "NotificationSetupError",
    "WebhookTarget",
    "bearer_matches",
    "configure_notifications",
    "minio_arn",
    "minio_env",
    "new_webhook_target",
    "notification_rules",
    "triggers_problem",
]

#: Upper case, as MinIO's own docs name targets (``..._ENABLE_PRIMARY`` -> ``:PRIMARY:webhook``).
DEFAULT_TARGET_ID = "LLR"
#: Where the service listens for MinIO's POSTs (a path of its own, beside the APIs).
WEBHOOK_PATH = "/_llr/s3-events"
_PREFIX = "MINIO_NOTIFY_WEBHOOK_"


class NotificationSetupError(RuntimeError):
    """The bucket notification rules could not be put in place."""


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header value is ``Bearer <token>`` (the scheme in any case,
    as RFC 6750 allows); compared in constant time."""
    if not authorization:
        return False
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@dataclass(frozen=True)
class WebhookTarget:
    """Where MinIO POSTs bucket events, the token it sends, and its durable queue."""

    endpoint: str
    token: str = field(repr=False)
    queue_dir: str

    def __post_init__(self) -> None:
        parts = urlsplit(self.endpoint)
        if parts.scheme != "http" or parts.hostname != "127.0.0.1" or parts.port is None:
            raise ValueError(
                f"webhook endpoint {self.endpoint!r}: expected http://127.0.0.1:<port>/<path>, "
                "the service's own loopback address"
            )
        if len(self.token) < 16:
            raise ValueError("the webhook token must be a random string of 16+ characters")

    @property
    def port(self) -> int:
        """The port the service must listen on for MinIO to reach it."""
        port = urlsplit(self.endpoint).port
        assert port is not None  # checked in __post_init__
        return port

    def authorizes(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header value carries this target's token."""
        return bearer_matches(authorization, self.token)

    def public(self) -> dict[str, str]:
        """What may be shown or logged: everything but the token."""
        return {"endpoint": self.endpoint, "queue_dir": self.queue_dir}

    def to_json(self) -> dict[str, str]:
        """For the 0600 state file only (it holds the token)."""
        return {"endpoint": self.endpoint, "token": self.token, "queue_dir": self.queue_dir}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WebhookTarget:
        return cls(str(data["endpoint"]), str(data["token"]), str(data["queue_dir"]))


def new_webhook_target(
    queue_dir: str | Path, *, port: int | None = None, path: str = WEBHOOK_PATH
) -> WebhookTarget:
    """A target with a fresh random token; ``port`` defaults to one free now on 127.0.0.1.

    The port is fixed for the sandbox's life: MinIO keeps POSTing there, so a restarted
    service must listen on the same one.
    """
    if port is None:
        from sandbox._procs import free_ports

        (port,) = free_ports(1)
    return WebhookTarget(
        f"http://127.0.0.1:{port}{path}", secrets.token_urlsafe(32), str(queue_dir)
    )


def minio_env(target: WebhookTarget, target_id: str = DEFAULT_TARGET_ID) -> dict[str, str]:
    """The environment that makes MinIO POST bucket events to ``target``.

    The variables' suffix is the target's ID, case and all: MinIO names the target
    ``arn:minio:sqs:<region>:<suffix>:webhook`` and matches ARNs case-sensitively (measured:
    with ``_LLR`` the ARN ``...::llr:webhook`` is refused, ``...::LLR:webhook`` accepted).
    The queue dir must exist (MinIO refuses to start otherwise); `sandbox.backends.minio`
    creates it, mode 0700.
    """
    suffix = target_id
    return {
        f"{_PREFIX}ENABLE_{suffix}": "on",
        f"{_PREFIX}ENDPOINT_{suffix}": target.endpoint,
        f"{_PREFIX}AUTH_TOKEN_{suffix}": target.token,
        f"{_PREFIX}QUEUE_DIR_{suffix}": target.queue_dir,
    }


def minio_arn(region: str = "", target_id: str = DEFAULT_TARGET_ID) -> str:
    """The ARN of MinIO's webhook target ``target_id``. MinIO lists it with its own region
    (``arn:minio:sqs:us-east-1:LLR:webhook``) and accepts it with the region or without."""
    return f"arn:minio:sqs:{region}:{target_id}:webhook"


#: The default target's ARN, as rules name it (MinIO fills in its region when it stores them).
DEFAULT_ARN = minio_arn()


def triggers_problem(backend: str) -> str | None:
    """``None`` when S3 triggers work on ``backend``, else why not, in a sentence."""
    reasons = {
        "minio": None,
        "seaweedfs": "SeaweedFS has no webhook bucket notifications",
        "docker": (
            "MinIO in Docker cannot reach the service, which listens on 127.0.0.1 only; "
            "use --backend minio for triggers"
        ),
        "external": "an external S3 endpoint's notifications are not ours to configure",
    }
    if backend not in reasons:
        return f"unknown backend {backend!r}"
    reason = reasons[backend]
    return None if reason is None else f"S3 triggers are not available: {reason}"


def notification_rules(
    project: Project, default_bucket: str, arn: str
) -> dict[str, list[dict[str, Any]]]:
    """Each bucket's ``QueueConfigurations`` for the project's S3 triggers."""
    rules: dict[str, list[dict[str, Any]]] = {}
    for name, spec in project.functions.items():
        for index, trigger in enumerate(spec.triggers):
            filters = [
                {"Name": kind, "Value": value}
                for kind, value in (("prefix", trigger.prefix), ("suffix", trigger.suffix))
                if value
            ]
            rule: dict[str, Any] = {
                "Id": rule_id(name, index),
                "QueueArn": arn,
                "Events": list(trigger.events),
            }
            if filters:
                rule["Filter"] = {"Key": {"FilterRules": filters}}
            rules.setdefault(trigger.bucket or default_bucket, []).append(rule)
    return rules


def configure_notifications(
    s3_client: Any,
    project: Project,
    default_bucket: str,
    arn: str = DEFAULT_ARN,
) -> dict[str, list[dict[str, Any]]]:
    """Put the project's S3 trigger rules on each bucket they name; return what was put.

    ``arn`` is the webhook target's (`minio_arn`; default ID ``LLR``). Each named bucket's
    notification configuration is replaced as a whole (S3's PUT semantics). A missing bucket
    or a server without the webhook target raises `NotificationSetupError` saying which and
    what to do.
    """
    from botocore.exceptions import ClientError

    rules = notification_rules(project, default_bucket, arn)
    for bucket, queue_rules in rules.items():
        try:
            s3_client.put_bucket_notification_configuration(
                Bucket=bucket,
                NotificationConfiguration={"QueueConfigurations": queue_rules},
            )
        except ClientError as e:
            error = e.response.get("Error", {})
            code = error.get("Code", "")
            if code == "NoSuchBucket":
                hint = "create the bucket first (python -m seed creates the default one)"
            elif code in ("InvalidArgument", "InvalidRequest", "NotImplemented"):
                hint = (
                    f"the server has no webhook target {arn} (start the sandbox with a "
                    "webhook, on the minio backend)"
                )
            else:
                hint = "see the server's log"
            raise NotificationSetupError(
                f"could not put {len(queue_rules)} trigger rule(s) on bucket {bucket!r}: "
                f"{code or e} ({error.get('Message', '')}); {hint}"
            ) from e
    return rules
