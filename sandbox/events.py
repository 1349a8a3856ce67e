"""AWS-shaped events for each caller of the function, and ``python -m sandbox event``.

Shapes follow the samples AWS documents today:

* ``s3``: an S3 event notification (eventVersion 2.1) with one record. The key is URL-encoded
  the way S3 encodes it (``quote_plus``: a space is ``+``, ``/`` kept); size and ETag are the
  object's. `s3_event_for_object` reads them from a real object (HEAD) in the sandbox.
* ``apigw``: API Gateway REST API, Lambda proxy integration, payload format 1.0.
* ``apigw-v2``: API Gateway HTTP API, payload format 2.0.
* ``sfn``: Step Functions ``arn:aws:states:::lambda:invoke`` with ``"Payload.$": "$"``: the
  event is the state input itself, a plain JSON object.
* ``direct``: ``aws lambda invoke --payload``: whatever JSON the caller sends.

The function reads ``bucket``/``prefix`` from the query string (API Gateway), from the object
(S3: the key's "folder"), or from the object itself (Step Functions, direct).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import secrets
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote_plus, urlencode

__all__ = [
    "EVENT_KINDS",
    "apigw_event",
    "apigw_v2_event",
    "cli",
    "direct_event",
    "make_event",
    "s3_event",
    "s3_event_for_object",
    "sfn_event",
]

EVENT_KINDS = ("s3", "apigw", "apigw-v2", "sfn", "direct")
ACCOUNT_ID = "123456789012"


def _iso_ms(now: float) -> str:
    """``2026-04-30T12:00:00.123Z`` (S3 event time)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def s3_event(
    bucket: str,
    key: str,
    *,
    size: int | None = 1024,
    etag: str | None = None,
    region: str = "us-east-1",
    event_name: str = "ObjectCreated:Put",
    now: float | None = None,
    version_id: str | None = None,
    event_time: str | None = None,
    sequencer: str | None = None,
    configuration_id: str = "lambda-local-runner",
    principal_id: str = "AWS:AIDAEXAMPLEPRINCIPAL",
    owner_id: str = "A3EXAMPLEOWNER",
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    host_id: str | None = None,
) -> dict[str, Any]:
    """An S3 notification for one object. ``etag`` without quotes (as S3 puts it in events).

    ``key`` is the object's real (decoded) name. The keyword arguments after ``version_id``
    carry what a real server reported (`sandbox.service.s3events` passes MinIO's values);
    left out, they are made up. ``size=None`` leaves out ``size`` and ``eTag``, as S3 does for
    ``ObjectRemoved`` events.
    """
    now = time.time() if now is None else now
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/")}
    if size is not None:
        obj["size"] = size
        obj["eTag"] = (etag or hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()).strip(
            '"'
        )
    if version_id:
        obj["versionId"] = version_id
    obj["sequencer"] = sequencer or f"{int(now * 1e6):X}".rjust(18, "0")[-18:]
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": event_time or _iso_ms(now),
                "eventName": event_name,
                "userIdentity": {"principalId": principal_id},
                "requestParameters": {"sourceIPAddress": source_ip},
                "responseElements": {
                    "x-amz-request-id": request_id or secrets.token_hex(8).upper(),
                    "x-amz-id-2": host_id or secrets.token_urlsafe(48),
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": configuration_id,
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": owner_id},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": obj,
                },
            }
        ]
    }


def s3_event_for_object(client: Any, bucket: str, key: str, *, region: str = "us-east-1") -> dict:
    """An S3 notification describing a real object: its size, ETag and version (HEAD)."""
    head = client.head_object(Bucket=bucket, Key=key)
    return s3_event(
        bucket,
        key,
        size=int(head["ContentLength"]),
        etag=str(head["ETag"]).strip('"'),
        region=region,
        version_id=head.get("VersionId") if head.get("VersionId") not in (None, "null") else None,
    )


_API_ID = "abcdef1234"
_API_HOST = f"{_API_ID}.execute-api.us-east-1.amazonaws.com"
#: The part of an API Gateway ``requestContext`` that names the account and the API.
_API_CONTEXT: Mapping[str, str] = {
    "accountId": ACCOUNT_ID,
    "apiId": _API_ID,
    "domainName": _API_HOST,
    "domainPrefix": _API_ID,
}


def _request_time(now: float) -> str:
    """``30/Apr/2026:12:00:00 +0000`` (API Gateway request time)."""
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))


def _headers(host: str, extra: Mapping[str, str] | None) -> dict[str, str]:
    headers = {
        "accept": "application/json",
        "host": host,
        "user-agent": "lambda-local-runner",
        "x-amzn-trace-id": f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}",
        "x-forwarded-for": "127.0.0.1",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    headers.update(extra or {})
    return headers


def _api_context(domain_name: str | None) -> dict[str, str]:
    if domain_name is None:
        return dict(_API_CONTEXT)
    return {**_API_CONTEXT, "domainName": domain_name, "domainPrefix": domain_name.split(".")[0]}


def _user_agent(headers: Mapping[str, str]) -> str:
    return next((v for k, v in headers.items() if k.lower() == "user-agent"), "")


def apigw_event(
    *,
    bucket: str | None = None,
    prefix: str | None = None,
    method: str = "GET",
    path: str = "/manifest",
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    stage: str = "prod",
    now: float | None = None,
    multi_query: Mapping[str, Sequence[str]] | None = None,
    real_headers: Mapping[str, Sequence[str]] | None = None,
    resource: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    context_path: str | None = None,
    source_ip: str = "127.0.0.1",
    domain_name: str | None = None,
    protocol: str = "HTTP/1.1",
    is_base64_encoded: bool = False,
) -> dict[str, Any]:
    """API Gateway REST proxy event (payload 1.0); bucket/prefix go in the query string.

    A made-up request has ``query``/``headers`` (defaults such as ``host`` are added). A real
    one (`sandbox.service.apigw`) passes every value of each parameter and header instead:
    ``multi_query`` and ``real_headers``, used as they are; the single-valued maps then hold
    the last value, as API Gateway's do.
    """
    now = time.time() if now is None else now
    multi = {k: list(v) for k, v in (multi_query or {}).items()}
    for k, v in _params(bucket, prefix, query).items():
        multi[k] = [v]
    if real_headers is not None:
        multi_hdrs = {k: list(v) for k, v in real_headers.items()}
        hdrs = {k: v[-1] for k, v in multi_hdrs.items() if v}
    else:
        hdrs = _headers(_API_HOST, headers)
        multi_hdrs = {k: [v] for k, v in hdrs.items()}
    resource = resource or path
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": hdrs,
        "multiValueHeaders": multi_hdrs,
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            **_api_context(domain_name),
            "extendedRequestId": secrets.token_urlsafe(12),
            "httpMethod": method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": source_ip,
                "user": None,
                "userAgent": _user_agent(hdrs),
                "userArn": None,
            },
            "path": context_path if context_path is not None else f"/{stage}{path}",
            "protocol": protocol,
            "requestId": str(uuid.uuid4()),
            "requestTime": _request_time(now),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": "abc123",
            "resourcePath": resource,
            "stage": stage,
        },
        "body": body,
        "isBase64Encoded": is_base64_encoded,
    }


def apigw_v2_event(
    *,
    bucket: str | None = None,
    prefix: str | None = None,
    method: str = "GET",
    path: str = "/manifest",
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    stage: str = "$default",
    now: float | None = None,
    raw_query: str | None = None,
    real_headers: Mapping[str, str] | None = None,
    cookies: Sequence[str] | None = None,
    route_key: str | None = None,
    source_ip: str = "127.0.0.1",
    domain_name: str | None = None,
    protocol: str = "HTTP/1.1",
    is_base64_encoded: bool = False,
) -> dict[str, Any]:
    """API Gateway HTTP API event (payload 2.0); bucket/prefix go in the query string.

    A real request (`sandbox.service.apigw`) passes ``raw_query`` (as sent), ``query`` (each
    parameter's values joined with commas), ``real_headers`` (lower-cased, joined; used as
    they are) and ``cookies``.
    """
    now = time.time() if now is None else now
    params = _params(bucket, prefix, query)
    hdrs = dict(real_headers) if real_headers is not None else _headers(_API_HOST, headers)
    route_key = route_key or f"{method} {path}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": urlencode(params) if raw_query is None else raw_query,
    }
    if cookies:
        event["cookies"] = list(cookies)
    event["headers"] = hdrs
    if params:
        event["queryStringParameters"] = params
    event["requestContext"] = {
        **_api_context(domain_name),
        "http": {
            "method": method,
            "path": path,
            "protocol": protocol,
            "sourceIp": source_ip,
            "userAgent": _user_agent(hdrs),
        },
        "requestId": secrets.token_urlsafe(12),
        "routeKey": route_key,
        "stage": stage,
        "time": _request_time(now),
        "timeEpoch": int(now * 1000),
    }
    if body is not None:
        event["body"] = body
    event["isBase64Encoded"] = is_base64_encoded
    return event


def sfn_event(*, bucket: str | None = None, prefix: str | None = None, **extra: Any) -> dict:
    """Step Functions task input (``"Payload.$": "$"``): the state input object."""
    return {**_params(bucket, prefix, None), **extra}


def direct_event(*, bucket: str | None = None, prefix: str | None = None, **extra: Any) -> dict:
    """A direct invoke's payload: ``{"bucket": ..., "prefix": ...}``."""
    return {**_params(bucket, prefix, None), **extra}


def _params(
    bucket: str | None, prefix: str | None, query: Mapping[str, str] | None
) -> dict[str, str]:
    params = dict(query or {})
    if bucket is not None:
        params["bucket"] = bucket
    if prefix is not None:
        params["prefix"] = prefix
    return params


_MAKERS: dict[str, Callable[..., dict[str, Any]]] = {
    "apigw": apigw_event,
    "apigw-v2": apigw_v2_event,
    "sfn": sfn_event,
    "direct": direct_event,
}


def make_event(
    kind: str,
    *,
    bucket: str | None = None,
    prefix: str | None = None,
    key: str | None = None,
    client: Any = None,
    region: str = "us-east-1",
) -> dict[str, Any]:
    """The event ``kind`` (one of `EVENT_KINDS`) asking for ``bucket``/``prefix``.

    For ``s3`` with a ``client``: the object ``key`` (or, without one, the first PDF under
    ``prefix``) is looked up so that the event carries its real size and ETag.
    """
    if kind == "s3":
        if bucket is None:
            raise ValueError("an s3 event needs a bucket (--bucket)")
        if client is not None:
            key = key or _first_pdf(client, bucket, prefix or "")
            return s3_event_for_object(client, bucket, key, region=region)
        return s3_event(bucket, key or f"{prefix or ''}example.pdf", region=region)
    if kind not in _MAKERS:
        raise ValueError(f"unknown event kind {kind!r}; expected one of {', '.join(EVENT_KINDS)}")
    return _MAKERS[kind](bucket=bucket, prefix=prefix)


def _first_pdf(client: Any, bucket: str, prefix: str) -> str:
    # Imported here: the function's package loads aioboto3, which must stay out of the
    # runner's process until the function's own INIT has been timed.
    from s3_manifest.requests import is_pdf_key

    page = client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1000)
    keys = [o["Key"] for o in page.get("Contents", [])]
    pdfs = [k for k in keys if is_pdf_key(k) and "/" not in k[len(prefix) :]]
    if not pdfs:
        raise ValueError(
            f"no PDF directly under s3://{bucket}/{prefix} to describe in the S3 event "
            f"(found {len(keys)} keys); seed the bucket first or pass --key"
        )
    return pdfs[0]


def cli(argv: Sequence[str] | None = None) -> int:
    """``python -m sandbox event KIND [--bucket B] [--prefix P] [--key K]``: JSON to stdout.

    For ``s3``, a running sandbox (``.sandbox/state.json``) is asked for the object's real size
    and ETag; ``--offline`` makes one up instead. Exit 2 on bad arguments.
    """
    parser = argparse.ArgumentParser(prog="python -m sandbox event", description=cli.__doc__)
    parser.add_argument("kind", choices=EVENT_KINDS)
    parser.add_argument("--bucket")
    parser.add_argument("--prefix")
    parser.add_argument("--key")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--offline", action="store_true", help="do not look the object up")
    args = parser.parse_args(argv)
    client = None
    if args.kind == "s3" and not args.offline:
        from sandbox.runtime.target import sandbox_client

        client = sandbox_client()
    try:
        event = make_event(
            args.kind,
            bucket=args.bucket,
            prefix=args.prefix,
            key=args.key,
            client=client,
            region=args.region,
        )
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # botocore ClientError: a missing bucket or key
        print(f"error: cannot read the object from the sandbox: {e}", file=sys.stderr)
        return 2
    json.dump(event, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
