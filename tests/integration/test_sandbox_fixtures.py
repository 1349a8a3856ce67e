"""The pytest plugin's fixtures against every S3 backend available here."""

from __future__ import annotations

from sandbox import Sandbox


def test_s3_bucket_is_a_fresh_empty_bucket_on_the_sandbox(
    s3_sandbox: Sandbox, s3_bucket: str
) -> None:
    client = s3_sandbox.client()
    assert client.list_objects_v2(Bucket=s3_bucket)["KeyCount"] == 0
    client.put_object(Bucket=s3_bucket, Key="a/b.txt", Body=b"hello")
    assert client.get_object(Bucket=s3_bucket, Key="a/b.txt")["Body"].read() == b"hello"


def test_s3_sandbox_env_points_at_its_endpoint(s3_sandbox: Sandbox) -> None:
    env = s3_sandbox.env()
    assert env["AWS_ENDPOINT_URL_S3"] == s3_sandbox.endpoint.url
    assert env["AWS_ACCESS_KEY_ID"] == s3_sandbox.endpoint.access_key
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == s3_sandbox.endpoint.region
    assert s3_sandbox.endpoint.url.startswith("http://127.0.0.1:")
