"""Bad arguments get a clear error (exit code 2) before anything touches S3."""

from __future__ import annotations

import io

import pytest

from seed import Connection, SeedArgumentError, SeedOptions, SizeRange, parse_size
from seed.cli import main
from seed.options import validate_bucket_name

ENV = {
    "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000",
    "AWS_ACCESS_KEY_ID": "key",
    "AWS_SECRET_ACCESS_KEY": "secret",
}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"count": -1}, "--count must be a whole number >= 0"),
        ({"count": 1.5}, "--count"),
        ({"seed": -3}, "--seed"),
        ({"noise": -0.1}, "--noise"),
        ({"noise": 11}, "--noise"),
        ({"concurrency": 0}, "--concurrency"),
        ({"concurrency": 100_000}, "--concurrency"),
        ({"prefix": "/2026/04/"}, "starts with '/'"),
        ({"prefix": "manifests/2026/"}, "skips"),
        ({"expected_key": "seed/expected.pdf"}, "ends with .pdf"),
        ({"expected_key": "seed/"}, "must name an object"),
    ],
)
def test_invalid_options_say_what_is_wrong(kwargs: dict, message: str) -> None:
    with pytest.raises(SeedArgumentError, match=message):
        SeedOptions(**kwargs)


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 64,
        "Upper",
        "under_score",
        "-start",
        "end-",
        "a..b",
        "192.168.1.1",
        "xn--bucket",
        "bucket-s3alias",
        "sp ace",
    ],
)
def test_invalid_bucket_names_are_refused(name: str) -> None:
    with pytest.raises(SeedArgumentError, match="invalid bucket name"):
        validate_bucket_name(name)


@pytest.mark.parametrize("name", ["abc", "my-company-reports-bucket", "a.b-c", "a" * 63])
def test_valid_bucket_names_pass(name: str) -> None:
    assert validate_bucket_name(name) == name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20000", SizeRange(20_000, 20_000)),
        ("64KiB", SizeRange(65_536, 65_536)),
        ("1MiB", SizeRange(1_048_576, 1_048_576)),
        ("1.5MB", SizeRange(1_500_000, 1_500_000)),
        ("4KiB-96KiB", SizeRange(4_096, 98_304)),
        ("4096-98304", SizeRange(4_096, 98_304)),
        ("2k", SizeRange(2_000, 2_000)),
    ],
)
def test_sizes_parse_with_units_and_ranges(text: str, expected: SizeRange) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["big", "0", "96KiB-4KiB", "1TB", "-5", "1GiB"])
def test_bad_sizes_are_refused(text: str) -> None:
    with pytest.raises(SeedArgumentError):
        parse_size(text)


def test_the_s3_specific_endpoint_wins_over_the_generic_one() -> None:
    env = {**ENV, "AWS_ENDPOINT_URL": "http://127.0.0.1:1111"}
    assert Connection.from_env(env).endpoint_url == "http://127.0.0.1:9000"
    generic = {k: v for k, v in env.items() if k != "AWS_ENDPOINT_URL_S3"}
    assert Connection.from_env(generic).endpoint_url == "http://127.0.0.1:1111"


def test_an_explicit_endpoint_wins_over_the_environment() -> None:
    conn = Connection.from_env(ENV, "http://localhost:7000")
    assert conn.endpoint_url == "http://localhost:7000"
    assert conn.access_key == "key" and conn.secret_key == "secret"


def test_the_region_falls_back_to_the_default_region_then_us_east_1() -> None:
    assert Connection.from_env(ENV).region == "us-east-1"
    assert Connection.from_env({**ENV, "AWS_DEFAULT_REGION": "eu-west-1"}).region == "eu-west-1"
    both = {**ENV, "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-central-1"}
    assert Connection.from_env(both).region == "eu-central-1"


def test_no_endpoint_at_all_is_refused_rather_than_seeding_real_aws() -> None:
    with pytest.raises(SeedArgumentError, match="no S3 endpoint"):
        Connection.from_env({"AWS_ACCESS_KEY_ID": "k"})


@pytest.mark.parametrize("url", ["127.0.0.1:9000", "ftp://host", "http://", "http://h:notaport"])
def test_malformed_endpoint_urls_are_refused(url: str) -> None:
    with pytest.raises(SeedArgumentError, match="endpoint URL"):
        Connection.from_env(ENV, url)


def test_a_sandbox_endpoint_like_object_is_accepted_and_the_secret_is_not_printed() -> None:
    class Endpoint:
        url = "http://127.0.0.1:9100"
        access_key = "ak"
        secret_key = "very-secret"
        region = "us-east-1"

    class Sandbox:
        endpoint = Endpoint()

    for target in (Endpoint(), Sandbox()):
        conn = Connection.coerce(target, {})
        assert conn.endpoint_url == "http://127.0.0.1:9100" and conn.secret_key == "very-secret"
        assert "very-secret" not in repr(conn)
    with pytest.raises(SeedArgumentError, match="cannot get an S3 endpoint"):
        Connection.coerce(42, {})


def run_cli(*argv: str, env: dict | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), environ=ENV if env is None else env, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--count", "-5"], "--count must be a whole number >= 0"),
        (["--bucket", "Not_Valid"], "invalid bucket name 'Not_Valid'"),
        (["--size", "huge"], "size 'huge' is not understood"),
        (["--endpoint-url", "localhost:9000"], "not an http(s) URL"),
        (["--noise", "-1"], "--noise"),
    ],
)
def test_the_cli_exits_2_with_a_one_line_reason_for_bad_arguments(
    argv: list[str], message: str
) -> None:
    code, out, err = run_cli(*argv)
    assert code == 2
    assert out == ""
    assert err.startswith("seed: invalid argument: ") and message in err


def test_the_cli_without_an_endpoint_explains_how_to_get_one() -> None:
    code, _, err = run_cli("--count", "1", env={})
    assert code == 2
    assert "python -m sandbox env" in err


def test_argparse_type_errors_also_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run_cli("--count", "many")
    assert exc.value.code == 2
    assert "invalid int value" in capsys.readouterr().err


def test_the_python_api_checks_its_arguments_before_connecting() -> None:
    from seed import seed_bucket

    with pytest.raises(SeedArgumentError, match="--count"):
        seed_bucket(count=-1, environ=ENV)
    with pytest.raises(SeedArgumentError, match="not both"):
        seed_bucket("http://127.0.0.1:9", SeedOptions(), count=3)
    with pytest.raises(SeedArgumentError, match="unknown seed option"):
        seed_bucket("http://127.0.0.1:9", colour="blue")
