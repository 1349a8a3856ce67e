"""The plugin wires itself: ``lambda_invoke`` in a test that uses ``s3_sandbox`` (directly or
through ``s3_bucket``) points the function at that sandbox, with no ``env=``."""

from __future__ import annotations

from typing import Any

S3_KEYS = "tests.unit.handlers.s3_keys.handler"
ENVIRON = "tests.unit.handlers.probes.environ"
NAMES = ["AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID"]


def test_a_test_using_s3_bucket_gets_its_function_pointed_at_the_sandbox(
    s3_sandbox: Any, s3_bucket: str, lambda_invoke: Any
) -> None:
    s3_sandbox.client().put_object(Bucket=s3_bucket, Key="a.txt", Body=b"x")
    inv = lambda_invoke({"bucket": s3_bucket}, S3_KEYS)  # no env=
    assert inv.ok, inv.error
    assert inv.response == ["a.txt"]
    seen = lambda_invoke({"names": NAMES}, ENVIRON).response["env"]
    assert seen["AWS_ENDPOINT_URL_S3"] == s3_sandbox.endpoint.url
    assert seen["AWS_ACCESS_KEY_ID"] == s3_sandbox.endpoint.access_key


def test_an_explicit_env_still_wins_over_the_sandbox(s3_sandbox: Any, lambda_invoke: Any) -> None:
    mine = {"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "mine"}
    seen = lambda_invoke({"names": NAMES}, ENVIRON, env=mine).response["env"]
    assert seen == mine
