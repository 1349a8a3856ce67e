"""The fast presigner returns exactly botocore's string, for every configuration it accepts.

Clock: botocore reads the signing time in ``botocore.auth`` through the module-level name
``get_current_datetime`` (imported there from ``botocore.compat``; it is called by
``SigV4Auth.add_auth``, which ``S3SigV4QueryAuth`` inherits). ``frozen_botocore_clock`` swaps
that one name for the duration of a ``with`` block and restores it in ``finally``. No boto3
object is mocked: botocore still validates, resolves endpoints, serialises and signs for real;
only the time it reads is fixed, like setting a wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import string
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aioboto3
import boto3
import botocore.auth
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import BotoCoreError, ParamValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3_manifest.presign import (
    PROBE_KEY,
    BucketLocation,
    SigV4QueryPresigner,
    UnsupportedPresign,
    make_presigner,
)

FROZEN = datetime(2025, 3, 9, 23, 59, 58)


@contextlib.contextmanager
def frozen_botocore_clock(at: datetime) -> Iterator[None]:
    """botocore signs at ``at`` (naive UTC) inside the block; restored afterwards."""
    original = botocore.auth.get_current_datetime

    def frozen(remove_tzinfo: bool = True) -> datetime:
        return at if remove_tzinfo else at.replace(tzinfo=UTC)

    botocore.auth.get_current_datetime = frozen
    try:
        yield
    finally:
        botocore.auth.get_current_datetime = original


@functools.cache
def _botocore_session() -> botocore.session.Session:
    return botocore.session.Session()


def sync_client(
    region: str,
    endpoint: str | None,
    style: str | None,
    creds: ReadOnlyCredentials,
) -> Any:
    s3 = {"addressing_style": style} if style else None
    return _botocore_session().create_client(
        "s3",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        aws_session_token=creds.token,
        config=Config(signature_version="s3v4", s3=s3),
    )


def botocore_url(client: Any, bucket: str, key: str, expires: int) -> str:
    url: str = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires
    )
    return url


def location_for(client: Any, bucket: str) -> BucketLocation:
    return BucketLocation.from_presigned_url(botocore_url(client, bucket, PROBE_KEY, 60), PROBE_KEY)


# ---- strategies ---------------------------------------------------------------------------

SPECIAL = " +%~=&#?/\\\"'<>^`{}|[]!$()*,;:@ü€😀\t\n\x00\x7f"
keys = st.one_of(
    st.text(min_size=1, max_size=40),
    st.from_regex(r"[A-Za-z0-9_.\-~/]{1,60}", fullmatch=True),  # needs no quoting
    st.text(alphabet=SPECIAL + "ab", min_size=1, max_size=30),
    st.builds(lambda k: "/" + k, st.text(min_size=0, max_size=20)),
    st.builds(lambda a, b: f"{a}//{b}", st.text(max_size=10), st.text(max_size=10)),
    st.text(alphabet=string.ascii_letters + "/é 😀", min_size=900, max_size=1100),
)
buckets = st.one_of(
    st.from_regex(r"[a-z0-9][a-z0-9\-]{1,20}[a-z0-9]", fullmatch=True),
    st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9.\-_]{0,40}", fullmatch=True),
    st.sampled_from(["my.bucket", "MyBucket", "a_b", "my-company-reports-bucket", "a..b"]),
)
regions = st.sampled_from(
    ["us-east-1", "us-west-2", "eu-central-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"]
)
endpoints = st.sampled_from(
    [
        None,
        "http://127.0.0.1:9000",
        "http://localhost:9000/base",
        "https://s3.example.com",
        "https://S3.Example.com:443",
        "http://[::1]:8333",
    ]
)
styles = st.sampled_from([None, "auto", "path", "virtual"])
credentials = st.builds(
    lambda a, s, t: ReadOnlyCredentials(a, s, t, None),
    st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=20),
    st.text(alphabet=string.ascii_letters + string.digits + "+/=", min_size=1, max_size=40),
    st.one_of(
        st.none(), st.text(alphabet=string.ascii_letters + string.digits + "+/=", max_size=300)
    ),
)
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))
expiries = st.integers(min_value=1, max_value=604800)


# ---- the core signer against botocore's client --------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=keys,
    bucket=buckets,
    region=regions,
    endpoint=endpoints,
    style=styles,
    creds=credentials,
    at=instants,
    expires=expiries,
)
def test_signer_returns_botocores_exact_string_for_any_key_bucket_and_configuration(
    key: str,
    bucket: str,
    region: str,
    endpoint: str | None,
    style: str | None,
    creds: ReadOnlyCredentials,
    at: datetime,
    expires: int,
) -> None:
    client = sync_client(region, endpoint, style, creds)
    try:
        with frozen_botocore_clock(at):
            try:
                location = location_for(client, bucket)
            except BotoCoreError:  # botocore refuses this bucket/configuration; so would we
                return
            expected = botocore_url(client, bucket, key, expires)
        ours = SigV4QueryPresigner().presign_get(location, key, expires, creds, now=at)
        assert ours == expected
    finally:
        client.close()


@settings(max_examples=60, deadline=None)
@given(key=keys, at=instants, creds=credentials)
def test_signer_matches_botocores_auth_class_used_on_its_own(
    key: str, at: datetime, creds: ReadOnlyCredentials
) -> None:
    # An oracle independent of endpoint resolution: botocore's S3SigV4QueryAuth on a bare request.
    location = BucketLocation(
        url_prefix="http://127.0.0.1:9000/bkt",
        path_prefix="/bkt",
        host="127.0.0.1:9000",
        region="eu-west-1",
    )
    from urllib.parse import quote

    request = AWSRequest(method="GET", url=f"{location.url_prefix}/{quote(key, safe='/~')}")
    with frozen_botocore_clock(at):
        botocore.auth.S3SigV4QueryAuth(creds, "s3", "eu-west-1", expires=300).add_auth(request)
    assert SigV4QueryPresigner().presign_get(location, key, 300, creds, now=at) == request.url


def test_aware_clock_values_are_converted_to_utc() -> None:
    creds = ReadOnlyCredentials("AKID", "secret", None, None)
    location = BucketLocation("http://h/b", "/b", "h", "us-east-1")
    plus_two = timezone(timedelta(hours=2))
    signer = SigV4QueryPresigner()
    local = signer.presign_get(
        location, "k", 60, creds, now=datetime(2025, 1, 1, 1, 0, tzinfo=plus_two)
    )
    utc = signer.presign_get(location, "k", 60, creds, now=datetime(2024, 12, 31, 23, 0))
    assert local == utc
    assert "X-Amz-Date=20241231T230000Z" in utc


# ---- signing key cache --------------------------------------------------------------------


def test_signing_key_changes_at_utc_midnight_and_both_sides_match_botocore() -> None:
    creds = ReadOnlyCredentials("AKID", "SECRET", "TOKEN/+=", None)
    client = sync_client("us-west-2", "http://127.0.0.1:9000", "path", creds)
    ticks = iter([datetime(2025, 3, 9, 23, 59, 59), datetime(2025, 3, 10, 0, 0, 0)])
    signer = SigV4QueryPresigner(clock=lambda: next(ticks))
    location = location_for(client, "bkt")
    before, after = datetime(2025, 3, 9, 23, 59, 59), datetime(2025, 3, 10, 0, 0, 0)
    with frozen_botocore_clock(before):
        expected_before = botocore_url(client, "bkt", "a.pdf", 60)
    with frozen_botocore_clock(after):
        expected_after = botocore_url(client, "bkt", "a.pdf", 60)
    assert signer.presign_get(location, "a.pdf", 60, creds) == expected_before
    assert signer.presign_get(location, "a.pdf", 60, creds) == expected_after
    assert "20250309%2Fus-west-2" in expected_before and "20250310%2Fus-west-2" in expected_after
    assert signer.signing_key(
        "20250309", "us-west-2", "s3", "AKID", "SECRET"
    ) != signer.signing_key("20250310", "us-west-2", "s3", "AKID", "SECRET")
    client.close()


def test_rotated_credentials_get_their_own_signing_key_and_token() -> None:
    signer = SigV4QueryPresigner(clock=lambda: FROZEN)
    location = BucketLocation("http://127.0.0.1:9000/bkt", "/bkt", "127.0.0.1:9000", "us-east-1")
    for creds in [
        ReadOnlyCredentials("OLD", "old-secret", "old-token", None),
        ReadOnlyCredentials("NEW", "new-secret", "new-token", None),
        ReadOnlyCredentials("NEW", "new-secret", None, None),
        ReadOnlyCredentials("OLD", "old-secret", "old-token", None),
    ]:
        request = AWSRequest(method="GET", url=f"{location.url_prefix}/k")
        with frozen_botocore_clock(FROZEN):
            botocore.auth.S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=60).add_auth(request)
        assert signer.presign_get(location, "k", 60, creds) == request.url


def test_one_signer_alternating_buckets_expiries_and_credentials_matches_fresh_signers() -> None:
    a = BucketLocation("http://h:1/a", "/a", "h:1", "us-east-1")
    b = BucketLocation("https://b.s3.amazonaws.com", "", "b.s3.amazonaws.com", "eu-west-1")
    one = ReadOnlyCredentials("ONE", "s1", None, None)
    two = ReadOnlyCredentials("TWO", "s2", "t2", None)
    shared = SigV4QueryPresigner(clock=lambda: FROZEN)
    calls = [(a, 60, one), (b, 60, one), (b, 61, one), (b, 61, two), (a, 61, two), (a, 60, one)]
    for location, expires, creds in calls * 2:
        fresh = SigV4QueryPresigner(clock=lambda: FROZEN).presign_get(location, "k", expires, creds)
        assert shared.presign_get(location, "k", expires, creds) == fresh
        equal_copy = ReadOnlyCredentials(*creds)  # same values, new object (as frozen ones are)
        assert shared.presign_get(location, "k", expires, equal_copy) == fresh


# ---- BucketLocation parsing ---------------------------------------------------------------


def test_location_refuses_a_sigv2_url() -> None:
    url = "https://b.s3.amazonaws.com/k?AWSAccessKeyId=A&Signature=x&Expires=1"
    with pytest.raises(UnsupportedPresign, match="not plain SigV4"):
        BucketLocation.from_presigned_url(url, "k")


def test_location_refuses_extra_signed_headers() -> None:
    url = (
        "http://h/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=A%2F20250101%2Fr%2Fs3"
        "%2Faws4_request&X-Amz-Date=20250101T000000Z&X-Amz-Expires=1"
        "&X-Amz-SignedHeaders=host%3Bx-amz-checksum-mode&X-Amz-Signature=00"
    )
    with pytest.raises(UnsupportedPresign, match="signed headers"):
        BucketLocation.from_presigned_url(url, "k")


def test_location_refuses_a_url_for_another_key() -> None:
    with pytest.raises(UnsupportedPresign, match="object key"):
        BucketLocation.from_presigned_url("http://h/b/other?X-Amz-Algorithm=x", "k")


# ---- the async Presigner over an aiobotocore client ---------------------------------------


async def _presign_both(
    endpoint: str | None,
    config: Config | None,
    bucket: str,
    key: str,
    token: str | None = "FQoG/+tok==",
    region: str = "eu-central-1",
) -> tuple[Any, str, str]:
    session = aioboto3.Session(
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        aws_session_token=token,
        region_name=region,
    )
    async with session.client("s3", endpoint_url=endpoint, config=config) as client:
        presigner = await make_presigner(client, clock=lambda: FROZEN)
        with frozen_botocore_clock(FROZEN):
            ours = await presigner.presign_get(bucket, key, 3600)
            theirs = await client.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600
            )
    return presigner, ours, theirs


PATH_STYLE = Config(signature_version="s3v4", s3={"addressing_style": "path"})


@pytest.mark.parametrize(
    ("endpoint", "config", "bucket"),
    [
        ("http://127.0.0.1:9000", PATH_STYLE, "my-company-reports-bucket"),
        ("http://127.0.0.1:9000", Config(signature_version="s3v4"), "my.bucket"),
        (None, Config(signature_version="s3v4"), "my-company-reports-bucket"),
        (None, Config(signature_version="s3v4", s3={"addressing_style": "virtual"}), "a-b"),
        (None, Config(signature_version="s3v4"), "Upper.Case"),
    ],
)
def test_presigner_uses_the_fast_path_and_matches_the_async_client(
    endpoint: str | None, config: Config, bucket: str
) -> None:
    presigner, ours, theirs = asyncio.run(
        _presign_both(endpoint, config, bucket, "reports/2025/Q1 résumé+final.pdf")
    )
    assert ours == theirs
    assert isinstance(presigner.buckets[bucket], BucketLocation)
    assert "X-Amz-Security-Token=FQoG%2F%2Btok%3D%3D" in ours


def test_presigner_without_session_token_has_no_token_parameter() -> None:
    _, ours, theirs = asyncio.run(
        _presign_both("http://127.0.0.1:9000", PATH_STYLE, "bkt", "k.pdf", token=None)
    )
    assert ours == theirs
    assert "X-Amz-Security-Token" not in ours


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (Config(signature_version="s3"), "signature_version='s3'"),
        (Config(signature_version="s3v4", use_fips_endpoint=True), "use_fips_endpoint"),
        (Config(signature_version="s3v4", use_dualstack_endpoint=True), "use_dualstack_endpoint"),
        (Config(signature_version="s3v4", s3={"use_accelerate_endpoint": True}), "accelerate"),
    ],
)
def test_uncovered_client_configurations_go_to_botocore_with_a_reason(
    config: Config, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="s3_manifest.presign"):
        presigner, _, _ = asyncio.run(_presign_both(None, config, "bkt", "k"))
    assert not presigner.fast
    assert reason in (presigner.fallback_reason or "")
    assert reason in caplog.text
    assert presigner.buckets == {}


def test_a_client_that_botocore_presigns_with_sigv2_is_left_to_botocore() -> None:
    # No signature_version, AWS default endpoint, us-east-1: botocore presigns S3 with SigV2 even
    # though meta.config says s3v4. The probe shows it, so the bucket goes to botocore (whose
    # SigV2 Expires reads time.time(): compare the shape, not the string).
    presigner, ours, theirs = asyncio.run(_presign_both(None, None, "bkt", "k", region="us-east-1"))
    assert "not plain SigV4" in str(presigner.buckets["bkt"])
    assert set(parse_qs(urlsplit(ours).query)) == set(parse_qs(urlsplit(theirs).query))


@pytest.mark.parametrize(
    "bucket",
    ["arn:aws:s3:eu-central-1:123456789012:accesspoint/reports", "reports--euc1-az1--x-s3"],
)
def test_arns_and_directory_buckets_go_to_botocore_without_a_probe(bucket: str) -> None:
    presigner, ours, theirs = asyncio.run(_presign_both(None, PATH_STYLE, bucket, "k"))
    assert isinstance(presigner.buckets[bucket], str)
    assert ours == theirs


def test_botocore_mode_always_delegates() -> None:
    async def run() -> Any:
        session = aioboto3.Session(
            aws_access_key_id="A", aws_secret_access_key="S", region_name="us-east-1"
        )
        async with session.client("s3", endpoint_url="http://127.0.0.1:1", config=PATH_STYLE) as c:
            presigner = await make_presigner(c, mode="botocore")
            with frozen_botocore_clock(FROZEN):
                url = await presigner.presign_get("bkt", "k", 60)
        return presigner, url

    presigner, url = asyncio.run(run())
    assert not presigner.fast and presigner.buckets == {}
    assert url.startswith("http://127.0.0.1:1/bkt/k?X-Amz-Algorithm=")


def test_an_unknown_mode_is_refused_with_the_choices() -> None:
    async def run() -> None:
        async with aioboto3.Session(region_name="us-east-1").client("s3") as c:
            await make_presigner(c, mode="turbo")

    with pytest.raises(ValueError, match="'fast' or 'botocore'"):
        asyncio.run(run())


def test_invalid_bucket_names_raise_botocores_own_error() -> None:
    with pytest.raises(ParamValidationError):
        asyncio.run(_presign_both("http://127.0.0.1:9000", PATH_STYLE, "bad/bucket", "k"))


def test_boto3_default_client_is_consistent_with_botocore_session_client() -> None:
    # The property tests build clients from a botocore session; boto3.client is the same thing.
    creds = ReadOnlyCredentials("AKID", "SECRET", "TOK", None)
    a = sync_client("us-east-1", None, None, creds)
    b = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="AKID",
        aws_secret_access_key="SECRET",
        aws_session_token="TOK",
        config=Config(signature_version="s3v4"),
    )
    with frozen_botocore_clock(FROZEN):
        assert botocore_url(a, "bkt", "k", 60) == botocore_url(b, "bkt", "k", 60)
    a.close()
    b.close()


def test_explicit_times_and_the_clock_do_not_leak_into_each_other() -> None:
    signer = SigV4QueryPresigner()  # system clock
    today = signer.timestamp()
    assert signer.timestamp(datetime(2001, 2, 3, 4, 5, 6)) == "20010203T040506Z"
    assert signer.timestamp()[:4] == today[:4] != "2001"
    ticking = iter([datetime(2030, 1, 1), datetime(2030, 1, 1, 0, 0, 1)])
    clocked = SigV4QueryPresigner(clock=lambda: next(ticking))
    assert clocked.timestamp() == "20300101T000000Z"
    assert clocked.timestamp(datetime(2001, 2, 3)) == "20010203T000000Z"
    assert clocked.timestamp() == "20300101T000001Z"


class _RotatingProvider:
    """Credentials always due to refresh; each refresh returns generation ``self.generation``."""

    METHOD = "rotating-test"
    CANONICAL_NAME = "rotating-test"

    def __init__(self) -> None:
        self.generation = 1

    async def _refresh(self) -> dict[str, str]:
        n = self.generation
        return {
            "access_key": f"ASIA{n:04d}",
            "secret_key": f"secret-{n}",
            "token": f"token/{n}+=",
            # inside botocore's mandatory refresh window, so every use refreshes
            "expiry_time": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
        }

    async def load(self) -> Any:
        from aiobotocore.credentials import AioRefreshableCredentials

        return AioRefreshableCredentials.create_from_metadata(
            await self._refresh(), self._refresh, self.METHOD
        )


def test_presigner_follows_rotating_credentials_from_the_client() -> None:
    from aiobotocore.session import AioSession

    async def run() -> list[str]:
        core = AioSession()
        provider = _RotatingProvider()
        core.get_component("credential_provider").insert_before("env", provider)
        session = aioboto3.Session(botocore_session=core, region_name="us-east-1")
        async with session.client(
            "s3", endpoint_url="http://127.0.0.1:9000", config=PATH_STYLE
        ) as c:
            presigner = await make_presigner(c, clock=lambda: FROZEN)
            urls = []
            for generation in (1, 2, 3):
                provider.generation = generation
                urls.append(await presigner.presign_get("bkt", "k.pdf", 60))
            assert isinstance(presigner.buckets["bkt"], BucketLocation)
        return urls

    for n, url in enumerate(asyncio.run(run()), start=1):
        creds = ReadOnlyCredentials(f"ASIA{n:04d}", f"secret-{n}", f"token/{n}+=", None)
        request = AWSRequest(method="GET", url="http://127.0.0.1:9000/bkt/k.pdf")
        with frozen_botocore_clock(FROZEN):
            botocore.auth.S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=60).add_auth(request)
        assert url == request.url


class _AlwaysRotatingProvider(_RotatingProvider):
    async def _refresh(self) -> dict[str, str]:
        self.generation += 1
        return await super()._refresh()


def test_a_bucket_whose_probe_always_races_a_rotation_goes_to_botocore() -> None:
    from aiobotocore.session import AioSession

    async def run() -> Any:
        core = AioSession()
        core.get_component("credential_provider").insert_before("env", _AlwaysRotatingProvider())
        session = aioboto3.Session(botocore_session=core, region_name="us-east-1")
        async with session.client(
            "s3", endpoint_url="http://127.0.0.1:9000", config=PATH_STYLE
        ) as c:
            presigner = await make_presigner(c)
            url = await presigner.presign_get("bkt", "k.pdf", 60)
        return presigner, url

    presigner, url = asyncio.run(run())
    assert presigner.buckets["bkt"] == "credentials rotated during every probe"
    assert url.startswith("http://127.0.0.1:9000/bkt/k.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256")
