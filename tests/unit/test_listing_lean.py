"""The lean listing's pure parts: the ListObjectsV2 parser and the SigV4 header signer.

The signer is checked byte for byte against botocore's own ``S3SigV4Auth`` on the same request;
the parser against the values botocore's parser gives for the same body.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.utils import parse_timestamp as botocore_parse_timestamp
from hypothesis import given
from hypothesis import strategies as st

from s3_manifest._listxml import (
    ListXMLError,
    _plain_page,
    _tree_page,
    parse_list_page,
    parse_timestamp,
)
from s3_manifest._sigv4_header import SigV4HeaderSigner, canonical_query
from s3_manifest.settings import ConfigError, Settings

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def _body(contents: str, *, extra: str = "", ns: str = NS) -> bytes:
    xmlns = f' xmlns="{ns}"' if ns else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult{xmlns}><Name>b</Name>'
        f"<Prefix>p/</Prefix>{extra}{contents}</ListBucketResult>"
    ).encode()


def _item(key: str, size: int = 7, etag: str = "&#34;abc-3&#34;", when: str = "") -> str:
    when = when or "2026-11-28T21:24:29.123Z"
    return (
        f"<Contents><Key>{key}</Key><LastModified>{when}</LastModified><ETag>{etag}</ETag>"
        f"<Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>"
    )


def test_a_url_encoded_page_decodes_keys_as_botocore_does() -> None:
    body = _body(
        _item("p/a%20b%2Bc+d%01%E2%80%A8") + _item("p/x", size=0),
        extra="<KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"
        "<NextContinuationToken>tok/+=</NextContinuationToken><EncodingType>url</EncodingType>",
    )
    page = parse_list_page(body)
    assert page.entries[0][0] == "p/a b+c d\x01\u2028"
    assert page.entries[0][1:3] == (7, "abc-3")
    assert page.entries[1][:3] == ("p/x", 0, "abc-3")
    assert (page.is_truncated, page.next_token, page.key_count) == (True, "tok/+=", 2)


def test_keys_are_left_alone_when_the_server_did_not_url_encode_them() -> None:
    page = parse_list_page(_body(_item("p/a%20b+c"), ns=""))
    assert page.entries[0][0] == "p/a%20b+c"
    assert (page.is_truncated, page.next_token) == (False, None)


def test_an_empty_prefix_is_one_empty_page() -> None:
    page = parse_list_page(
        _body("", extra="<KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>")
    )
    assert (page.entries, page.is_truncated, page.key_count) == ([], False, 0)


def _both_readers(body: bytes) -> tuple[object, object]:
    return _plain_page(body.decode()), _tree_page(body)


def test_the_plain_reader_and_the_tree_reader_give_the_same_page() -> None:
    body = _body(
        "".join(
            _item(f"p/k%20{i}+x%E2%82%AC", size=i, when=f"2026-01-0{i % 9 + 1}T00:00:00Z")
            for i in range(50)
        ),
        extra="<KeyCount>50</KeyCount><IsTruncated>true</IsTruncated>"
        "<NextContinuationToken>t==</NextContinuationToken><EncodingType>url</EncodingType>",
    )
    plain, tree = _both_readers(body)
    assert plain is not None and plain == tree
    assert plain.entries[3][0] == "p/k 3 x€"


@pytest.mark.parametrize(
    "body",
    [
        _body(_item("p/a&amp;b"), ns=""),  # an entity the plain reader leaves to the parser
        _body(_item("p/<![CDATA[x]]>")),
        _body(_item("p/a\r\nb")),  # XML normalises line ends: botocore gets "p/a\nb"
        _body("<Contents><Key>p/a</Key><Size>1</Size></Contents>"),  # no ETag, no LastModified
        _body(_item("p/a"), ns="urn:other"),
        b'<s3:ListBucketResult xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<s3:Contents><s3:Key>p/a</s3:Key><s3:Size>3</s3:Size></s3:Contents>"
        b"</s3:ListBucketResult>",
    ],
    ids=["entity", "cdata", "carriage return", "missing fields", "other namespace", "prefixed"],
)
def test_unusual_bodies_go_to_the_tree_reader(body: bytes) -> None:
    plain, _ = _both_readers(body)
    assert plain is None
    page = parse_list_page(body)
    assert len(page.entries) == 1 and page.entries[0][0].startswith("p/")
    assert page.entries[0][0] in {"p/a&b", "p/x", "p/a\nb", "p/a"}


@pytest.mark.parametrize(
    "body",
    [
        b"<Error><Code>NoSuchBucket</Code></Error>",
        b"not xml",
        _body("<Contents><Size>1</Size></Contents>"),
    ],
    ids=["an error document", "not xml", "contents without a key"],
)
def test_anything_but_a_list_result_is_refused_for_botocore_to_handle(body: bytes) -> None:
    with pytest.raises(ListXMLError):
        parse_list_page(body)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-28T21:24:29.123Z",
        "2026-11-28T21:24:29Z",
        "2026-11-28T21:24:29.123456789Z",
        "2026-11-28T21:24:29+02:00",
        "Sat, 28 Nov 2026 21:24:29 GMT",
    ],
)
def test_last_modified_equals_botocores_and_prints_the_same(text: str) -> None:
    ours, theirs = parse_timestamp(text), botocore_parse_timestamp(text)
    assert ours == theirs
    assert ours.tzinfo is not None
    assert ours.isoformat() == theirs.isoformat()


def _botocore_headers(url: str, creds: ReadOnlyCredentials) -> dict[str, str]:
    request = AWSRequest(method="GET", url=url, headers={})
    S3SigV4Auth(creds, "s3", "eu-west-3").add_auth(request)
    return dict(request.headers.items())


@given(
    prefix=st.text(max_size=20),
    token=st.none() | st.text(min_size=1, max_size=30),
    session_token=st.none() | st.text(alphabet="abcXYZ019+/=", min_size=1, max_size=40),
    port=st.sampled_from(["", ":9000", ":80"]),
)
def test_the_authorization_header_is_botocores_byte_for_byte(
    prefix: str, token: str | None, session_token: str | None, port: str
) -> None:
    creds = ReadOnlyCredentials(
        "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", session_token
    )
    params = [
        ("list-type", "2"),
        ("encoding-type", "url"),
        ("max-keys", "1000"),
        ("prefix", prefix),
    ]
    if token is not None:
        params.append(("continuation-token", token))
    query = canonical_query(params)
    url = f"http://127.0.0.1{port}/my-bucket?{query}"
    host = "127.0.0.1" if port in ("", ":80") else f"127.0.0.1{port}"
    theirs = _botocore_headers(url, creds)  # signed now; ours at botocore's timestamp
    now = datetime.strptime(theirs["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    ours = SigV4HeaderSigner(host, "eu-west-3").headers("/my-bucket", query, creds, now=now)
    assert ours["Authorization"] == theirs["Authorization"]
    for name in ("X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token"):
        assert ours.get(name) == theirs.get(name)


def test_lister_comes_from_the_environment_and_bad_values_are_refused() -> None:
    assert Settings.from_env({}).lister == "fast"
    assert Settings.from_env({"LISTER": "botocore"}).lister == "botocore"
    with pytest.raises(ConfigError, match="LISTER must be one of"):
        Settings.from_env({"LISTER": "obstore"})
