"""MinIO's webhook notification, translated into the S3 event AWS sends a Lambda function.

MinIO POSTs one record per request, wrapped as ``{"EventName", "Key", "Records": [...]}``.
Its record is close to AWS's but not the same; each difference is fixed here, field by field,
and each is tested against a body captured from the real server:

======================  =====================================  ===============================
field                   MinIO                                  AWS (what the function gets)
======================  =====================================  ===============================
body                    ``{EventName, Key, Records}``          ``{"Records": [...]}``
``eventName``           ``s3:ObjectCreated:Put``               ``ObjectCreated:Put``
``s3.object.key``       ``2026%2F04%2Fa+b.pdf`` (Go's          ``2026/04/a+b.pdf`` (``/`` kept,
                        QueryEscape: ``/`` is ``%2F``)         space ``+``)
``eventVersion``        ``2.0``                                ``2.1``
``eventSource``         ``minio:s3``                           ``aws:s3``
``awsRegion``           ``""`` (unless a site region is set)   the sandbox's region
``configurationId``     always ``Config``                      the rule's Id (`rule_id`)
``s3.object.size``      missing for an empty object            ``0``
extras                  ``contentType``, ``userMetadata``,     not there
                        top-level ``source``, MinIO's own
                        ``responseElements``
======================  =====================================  ===============================

The AWS record is built by `sandbox.events.s3_event`, the same builder ``python -m sandbox
event s3`` uses, from MinIO's real values (time, ETag, sequencer, request ids, principal).
Which function a record is for is decided here too (`functions_for`), from the project's S3
trigger rules, so the service never invokes a function for an object its rules exclude.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from sandbox.events import s3_event
from sandbox.project import Project, S3Trigger

__all__ = [
    "MalformedNotification",
    "Rule",
    "aws_event_from_minio",
    "aws_record_from_minio",
    "events_for",
    "functions_for",
    "matching_rules",
    "minio_records",
    "rule_id",
]


class MalformedNotification(ValueError):
    """The POST body is not a MinIO bucket notification (the service answers 400)."""


@dataclass(frozen=True)
class Rule:
    """One S3 trigger of one function, with the Id its notification rule is given."""

    function: str
    id: str
    bucket: str
    trigger: S3Trigger


def rule_id(function: str, index: int) -> str:
    """The notification rule's Id (and the event's ``configurationId``) for a trigger.

    ``.`` cannot appear in a Lambda function name, so the Id names one trigger unambiguously.
    """
    return f"{function}.s3.{index}"


def minio_records(body: Any) -> list[dict[str, Any]]:
    """The records of MinIO's POST body ``{"EventName", "Key", "Records": [...]}``."""
    if not isinstance(body, dict) or not isinstance(body.get("Records"), list):
        raise MalformedNotification(
            "expected MinIO's notification body, a JSON object with a 'Records' list; got "
            f"{type(body).__name__}"
            + (f" with keys {sorted(body)[:8]}" if isinstance(body, dict) else "")
        )
    records = body["Records"]
    for i, record in enumerate(records):
        if not isinstance(record, dict) or not isinstance(record.get("s3"), dict):
            raise MalformedNotification(f"Records[{i}] is not an S3 event record")
    return records


def _event_name(record: Mapping[str, Any]) -> str:
    name = record.get("eventName")
    if not isinstance(name, str) or not name:
        raise MalformedNotification("the record has no eventName")
    return name.removeprefix("s3:")


def _bucket_and_key(record: Mapping[str, Any]) -> tuple[str, str]:
    """Bucket name and the object's real key (decoded from either MinIO's or AWS's form)."""
    try:
        bucket = record["s3"]["bucket"]["name"]
        key = record["s3"]["object"]["key"]
    except (KeyError, TypeError) as e:
        raise MalformedNotification(f"the record has no s3.bucket.name/s3.object.key ({e})") from e
    if not isinstance(bucket, str) or not isinstance(key, str):
        raise MalformedNotification("s3.bucket.name and s3.object.key must be strings")
    # Both encodings are form-encoding (space '+', '+' '%2B'); they differ only in '/'.
    return bucket, unquote_plus(key)


def aws_record_from_minio(
    record: Mapping[str, Any], *, region: str, configuration_id: str = "lambda-local-runner"
) -> dict[str, Any]:
    """One MinIO record as the record AWS S3 would have sent (see the module's table)."""
    name = _event_name(record)
    bucket, key = _bucket_and_key(record)
    s3 = record["s3"]
    obj = s3.get("object") or {}
    removed = name.startswith("ObjectRemoved")
    response = record.get("responseElements") or {}
    aws = s3_event(
        bucket,
        key,
        # S3 sends no size or ETag for removals; MinIO leaves size out for an empty object.
        size=None if removed else int(obj.get("size") or 0),
        etag=None if removed else (obj.get("eTag") or _EMPTY_MD5),
        region=region,
        event_name=name,
        version_id=obj.get("versionId") or None,
        event_time=record.get("eventTime") or None,
        sequencer=obj.get("sequencer") or None,
        configuration_id=configuration_id,
        principal_id=(record.get("userIdentity") or {}).get("principalId") or "minio",
        owner_id=((s3.get("bucket") or {}).get("ownerIdentity") or {}).get("principalId")
        or "minio",
        source_ip=(record.get("requestParameters") or {}).get("sourceIPAddress") or "127.0.0.1",
        request_id=response.get("x-amz-request-id") or None,
        host_id=response.get("x-amz-id-2") or None,
    )
    result: dict[str, Any] = aws["Records"][0]
    return result


#: The ETag of an empty object (MinIO reports it; kept for a record that has none).
_EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def aws_event_from_minio(
    body: dict[str, Any], *, region: str, configuration_id: str = "lambda-local-runner"
) -> dict[str, Any]:
    """MinIO's whole POST body as AWS's S3 event ``{"Records": [...]}``.

    ``configuration_id`` names the notification rule; `events_for` passes the real rule's Id.
    Raises `MalformedNotification` for a body that is not a MinIO notification.
    """
    return {
        "Records": [
            aws_record_from_minio(r, region=region, configuration_id=configuration_id)
            for r in minio_records(body)
        ]
    }


def _event_matches(patterns: tuple[str, ...], name: str) -> bool:
    full = f"s3:{name}"
    return any(full.startswith(p[:-1]) if p.endswith("*") else full == p for p in patterns)


def matching_rules(record: Mapping[str, Any], project: Project, default_bucket: str) -> list[Rule]:
    """The first matching trigger of each function, for a MinIO or AWS record.

    A trigger matches on bucket (its own, or ``default_bucket``), key prefix and suffix, and
    event name (``s3:ObjectCreated:*`` covers every ``ObjectCreated`` event).
    """
    name = _event_name(record)
    bucket, key = _bucket_and_key(record)
    found: list[Rule] = []
    for function, spec in project.functions.items():
        for index, trigger in enumerate(spec.triggers):
            if (
                (trigger.bucket or default_bucket) == bucket
                and trigger.matches(key)
                and _event_matches(trigger.events, name)
            ):
                found.append(Rule(function, rule_id(function, index), bucket, trigger))
                break  # one invocation per function, as one notification per target
    return found


def functions_for(record: dict[str, Any], project: Project, default_bucket: str) -> list[str]:
    """Names of the functions whose S3 triggers match ``record`` (MinIO's or AWS's shape)."""
    return [rule.function for rule in matching_rules(record, project, default_bucket)]


def events_for(
    body: dict[str, Any], project: Project, default_bucket: str, *, region: str
) -> list[tuple[str, dict[str, Any]]]:
    """What to invoke for one MinIO POST: ``(function name, AWS S3 event)`` pairs.

    Each event holds one record (as S3 sends them) whose ``configurationId`` is the Id of the
    function's matching rule. A record no rule matches yields nothing.
    """
    out: list[tuple[str, dict[str, Any]]] = []
    for record in minio_records(body):
        for rule in matching_rules(record, project, default_bucket):
            aws = aws_record_from_minio(record, region=region, configuration_id=rule.id)
            out.append((rule.function, {"Records": [aws]}))
    return out
