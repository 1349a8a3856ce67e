"""Every available backend is a real S3 server that checks signatures and serves on loopback."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from sandbox import Sandbox
from sandbox._s3 import make_client


def test_the_server_refuses_a_request_signed_with_the_wrong_secret(s3_sandbox: Sandbox) -> None:
    forged = dataclasses.replace(s3_sandbox.endpoint, secret_key="not-the-secret")
    with pytest.raises(ClientError) as info:
        make_client(forged, probe=True).list_buckets()
    assert info.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_the_server_refuses_an_unknown_access_key(s3_sandbox: Sandbox) -> None:
    stranger = dataclasses.replace(s3_sandbox.endpoint, access_key="AKIAUNKNOWN000000000")
    with pytest.raises(ClientError) as info:
        make_client(stranger, probe=True).list_buckets()
    assert info.value.response["Error"]["Code"] in {"InvalidAccessKeyId", "AccessDenied"}


def test_credentials_are_random_per_sandbox_and_never_the_defaults(s3_sandbox: Sandbox) -> None:
    assert s3_sandbox.endpoint.access_key not in {"minioadmin", "admin", "any"}
    assert s3_sandbox.endpoint.secret_key not in {"minioadmin", "admin", "any"}
    assert len(s3_sandbox.endpoint.secret_key) >= 32


#: 127.0.0.1 and ::1 as /proc/net/tcp{,6} spell them.
LOOPBACK = {"0100007F", "00000000000000000000000001000000"}


def _listening_addresses(pid: int) -> set[str]:
    """Local addresses (hex, as /proc spells them) of the TCP sockets ``pid`` listens on."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    addresses = set()
    for table in ("tcp", "tcp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A = LISTEN
                addresses.add(local.split(":")[0])
    return addresses


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="needs Linux /proc")
def test_the_server_listens_on_loopback_only(s3_sandbox: Sandbox) -> None:
    assert s3_sandbox.endpoint.url.startswith("http://127.0.0.1:")
    pid = s3_sandbox.handle.pid
    if pid is None:
        pytest.skip(f"{s3_sandbox.backend.name} runs no local process to inspect")
    addresses = _listening_addresses(pid)
    assert addresses, "the server listens on nothing?"
    assert addresses <= LOOPBACK, f"listening beyond loopback: {addresses - LOOPBACK}"


def test_a_presigned_get_url_works_and_a_tampered_one_is_refused(
    s3_sandbox: Sandbox, s3_bucket: str
) -> None:
    import urllib.error
    import urllib.request

    client = s3_sandbox.client()
    client.put_object(Bucket=s3_bucket, Key="report.pdf", Body=b"%PDF-1.4")
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": s3_bucket, "Key": "report.pdf"}, ExpiresIn=60
    )
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"%PDF-1.4"
    tampered = url.replace("report.pdf", "other.pdf")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(tampered, timeout=5)
    assert info.value.code == 403
    info.value.close()


def test_s3_bucket_is_emptied_and_deleted_after_the_test(s3_sandbox: Sandbox) -> None:
    # The fixture's cleanup is exercised directly so its result can be observed.
    from sandbox.pytest_plugin import _empty_and_delete

    client = s3_sandbox.client()
    client.create_bucket(Bucket="cleanup-check-bucket")
    for i in range(3):
        client.put_object(Bucket="cleanup-check-bucket", Key=f"k/{i}", Body=b"x")
    _empty_and_delete(client, "cleanup-check-bucket")
    names = {b["Name"] for b in client.list_buckets()["Buckets"]}
    assert "cleanup-check-bucket" not in names


def test_the_external_backend_uses_a_given_server_and_leaves_it_running(
    s3_sandbox: Sandbox,
) -> None:
    from sandbox.backends.external import ExternalBackend

    served = s3_sandbox.endpoint
    external = ExternalBackend(
        url=served.url, access_key=served.access_key, secret_key=served.secret_key
    )
    with Sandbox.start("external", backends=[external], region=served.region) as sb:
        assert sb.endpoint.url == served.url
        assert sb.healthy()
        assert sb.handle.pid is None and sb.handle.container_id is None
    assert s3_sandbox.healthy()
