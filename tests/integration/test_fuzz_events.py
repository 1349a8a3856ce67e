"""Fuzzing the handler's front door: hypothesis-generated events (S3, API Gateway REST 1.0 and
HTTP API 2.0, Step Functions / direct shapes, and anything JSON) with missing, extra,
wrong-type and huge fields, through a warm `sandbox.runtime.Environment` on a real S3 server.

The handler must always give a result or one of its own clear errors, never a runtime crash
(KeyError, TypeError, ...) and never an API Gateway 500; the environment stays warm and usable.

Derandomized (the same examples on every run). ``FUZZ_EXAMPLES`` sets how many (default 200;
``make fuzz`` runs 2000).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3_manifest.requests import is_http_event
from sandbox.backends import default_backends
from sandbox.runtime import Environment, FunctionConfig

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
#: The handler's own errors: each says what was wrong with the request or the world.
CLEAR_ERRORS = {"BadRequest", "ConfigError", "BucketNotFound", "AccessDenied"}
BUCKET = f"fuzz-{uuid.uuid4().hex[:12]}"

_MISSING = object()
_text = st.text(max_size=40)
_huge = st.integers(min_value=10_000, max_value=120_000).map(lambda n: "é/" * (n // 2))
_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _text, _huge)
_json = st.recursive(
    _leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
_bucket = st.one_of(
    st.sampled_from([BUCKET, "no-such-bucket-fuzz", "", "UPPER", "ab", "a" * 64, "10.0.0.1"]),
    _text,
)
_prefix = st.one_of(
    st.sampled_from(["2026/04/", "", "/", "../", "manifests/", "a" * 1025, "2026/04/%zz"]), _text
)
_key = st.one_of(st.sampled_from(["2026/04/a.pdf", "2026/04/b+c%20d.PDF", "x.txt", ""]), _text)


def _field(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly valid; sometimes missing or any JSON value at all (wrong type, huge)."""
    return st.one_of(valid, valid, st.just(_MISSING), _json)


def _obj(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A dict of those fields (each maybe missing or wrong), plus maybe extra keys."""

    def build(values: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        return {**extra, **{k: v for k, v in values.items() if v is not _MISSING}}

    return st.builds(
        build,
        st.fixed_dictionaries({k: _field(v) for k, v in fields.items()}),
        st.dictionaries(_text, _json, max_size=2),
    )


_query = st.one_of(st.none(), _obj(bucket=_bucket, prefix=_prefix))
_s3_record = _obj(
    eventVersion=st.just("2.1"),
    eventSource=st.just("aws:s3"),
    eventName=st.sampled_from(["ObjectCreated:Put", "ObjectRemoved:Delete"]),
    awsRegion=st.just("us-east-1"),
    s3=_obj(bucket=_obj(name=_bucket), object=_obj(key=_key, size=st.integers(0, 10**13))),
)
EVENTS = st.one_of(
    _obj(Records=st.lists(_s3_record, max_size=3)),
    _obj(
        resource=st.just("/manifest"),
        path=st.just("/manifest"),
        httpMethod=st.sampled_from(["GET", "POST", "DELETE"]),
        queryStringParameters=_query,
        multiValueQueryStringParameters=st.one_of(st.none(), _obj(bucket=st.lists(_bucket))),
        requestContext=_obj(requestId=_text, stage=st.just("prod")),
        body=st.one_of(st.none(), _text),
        isBase64Encoded=st.booleans(),
    ),
    _obj(
        version=st.just("2.0"),
        routeKey=st.just("GET /manifest"),
        rawPath=st.just("/manifest"),
        rawQueryString=_text,
        queryStringParameters=_query,
        requestContext=_obj(http=_obj(method=st.just("GET"), path=st.just("/manifest"))),
        body=st.one_of(st.none(), _text),
    ),
    _obj(bucket=_bucket, prefix=_prefix),
    _json,
)


@pytest.fixture(scope="module")
def warm_env(s3_sandbox: Any) -> Iterator[Environment]:
    """One warm execution environment on the sandbox, with one small real bucket."""
    minio = next(b for b in default_backends() if b.name == "minio")
    if s3_sandbox.backend.name != "minio" and minio.probe().ok:
        pytest.skip("the front door does not depend on the backend: fuzzed on MinIO only")
    client = s3_sandbox.client()
    client.create_bucket(Bucket=BUCKET)
    for key in ("2026/04/a.pdf", "2026/04/b c.PDF", "2026/04/notes.txt"):
        client.put_object(Bucket=BUCKET, Key=key, Body=b"%PDF-1.4 fuzz")
    env_vars = {**s3_sandbox.env(), "BUCKET_NAME": BUCKET, "PREFIX": "2026/04/"}
    try:
        with Environment(FunctionConfig(env=env_vars, timeout=30)) as env:
            yield env
    finally:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for obj in page.get("Contents", []):
                client.delete_object(Bucket=BUCKET, Key=obj["Key"])
        client.delete_bucket(Bucket=BUCKET)


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(event=EVENTS)
def test_any_event_gets_a_result_or_a_clear_error_never_a_crash(
    warm_env: Environment, event: Any
) -> None:
    inv = warm_env.invoke(event)
    if is_http_event(event):
        assert inv.ok, inv.error
        response = inv.response
        assert response["statusCode"] in (200, 400, 404), response
        body = json.loads(response["body"])
        assert ("count" in body) if response["statusCode"] == 200 else body["message"]
    elif inv.ok:
        assert isinstance(inv.response, dict) and "count" in inv.response, inv.response
    else:
        assert inv.status == "error", inv.status
        assert inv.error is not None
        assert inv.error["errorType"] in CLEAR_ERRORS, inv.error
        assert inv.error["errorMessage"]
    assert not warm_env.cold  # no crash ended the execution environment


def test_the_environment_still_serves_a_good_request_after_the_fuzzing(
    warm_env: Environment,
) -> None:
    inv = warm_env.invoke({"bucket": BUCKET, "prefix": "2026/04/"})
    assert inv.ok, inv.error
    assert inv.response["count"] == 2
