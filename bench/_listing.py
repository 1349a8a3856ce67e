"""Ways to list one prefix, for the listing baselines and the comparison of listing methods.

Each runner lists ``bucket/prefix`` completely and returns ``(keys, pages)``; the caller times
it (wall) and measures ``time.process_time()`` around it (CPU of this process).

* `server_floor`: the same ListObjectsV2 pages the function asks for, signed, fetched over
  HTTP keep-alive, the body read and *not parsed* (the continuation token is cut out with a
  regular expression). No client can list faster than the server answers these requests.
  ``transport`` picks the HTTP layer: a bare ``aiohttp.ClientSession`` or the aiobotocore
  client's own HTTP session (what the function's lean path uses).
* `obstore_list`: obstore (Rust ``object_store`` bindings), list only.
* `function_list`: ``s3_manifest.listing.pages`` with ``lister="fast"`` or ``"botocore"``.
* `iso_paginator_list`: botocore's paginator with its supported parser hook,
  ``set_parser_defaults(timestamp_parser=...)`` set to ``datetime.fromisoformat``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import aiohttp
from aiobotocore.session import AioSession, get_session
from botocore.awsrequest import AWSPreparedRequest

from bench._common import s3_config
from s3_manifest._sigv4_header import SigV4HeaderSigner, canonical_query
from s3_manifest.listing import pages

__all__ = [
    "client_for",
    "function_list",
    "iso_paginator_list",
    "iso_session",
    "obstore_list",
    "server_floor",
]

_TOKEN = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")
_TRUNCATED = b"<IsTruncated>true</IsTruncated>"


def client_for(session: AioSession, sandbox: Any) -> Any:
    """An aiobotocore S3 client configured as the function's (use with ``async with``)."""
    e = sandbox.endpoint
    return session.create_client(
        "s3",
        region_name=e.region,
        endpoint_url=e.url,
        aws_access_key_id=e.access_key,
        aws_secret_access_key=e.secret_key,
        aws_session_token=e.session_token,
        config=s3_config(sandbox),
    )


class _Creds:
    def __init__(self, sandbox: Any) -> None:
        e = sandbox.endpoint
        self.access_key, self.secret_key, self.token = e.access_key, e.secret_key, e.session_token


async def server_floor(
    session: AioSession, sandbox: Any, bucket: str, prefix: str, transport: str
) -> tuple[int, int]:
    """Fetch every page raw (no XML parsing) over ``transport`` ("aiohttp" | "aiobotocore")."""
    e = sandbox.endpoint
    base = e.url.rstrip("/")
    host = base.split("://", 1)[1]
    signer = SigV4HeaderSigner(host, e.region)
    creds = _Creds(sandbox)
    fixed = [("encoding-type", "url"), ("list-type", "2"), ("max-keys", "1000")]
    fixed.append(("prefix", prefix))
    keys = n_pages = 0
    async with client_for(session, sandbox) as client, aiohttp.ClientSession() as bare:
        token: bytes | None = None
        while True:
            params = fixed if token is None else [*fixed, ("continuation-token", token.decode())]
            query = canonical_query(params)
            headers = signer.headers(f"/{bucket}", query, creds)
            url = f"{base}/{bucket}?{query}"
            if transport == "aiohttp":
                async with bare.get(url, headers=headers) as response:
                    body = await response.read()
                    status = response.status
            else:
                request = AWSPreparedRequest("GET", url, headers, None, False)
                answer = await client._endpoint.http_session.send(request)
                body, status = await answer.content, answer.status_code
            if status != 200:
                raise RuntimeError(f"server floor: HTTP {status}: {body[:300]!r}")
            n_pages += 1
            keys += body.count(b"<Contents>")
            found = _TOKEN.search(body)
            if _TRUNCATED not in body or found is None:
                return keys, n_pages
            token = found.group(1)


async def obstore_list(sandbox: Any, bucket: str, prefix: str) -> tuple[int, int]:
    import obstore
    from obstore.store import S3Store

    e = sandbox.endpoint
    token = {"session_token": e.session_token} if e.session_token else {}
    store = S3Store(
        bucket,
        endpoint=e.url,
        access_key_id=e.access_key,
        secret_access_key=e.secret_key,
        region=e.region,
        virtual_hosted_style_request=False,
        client_options={"allow_http": True},
        **token,
    )
    keys = n_pages = 0
    async for chunk in obstore.list(store, prefix=prefix, chunk_size=1000):
        n_pages += 1
        keys += len(chunk)
    return keys, n_pages


async def function_list(
    session: AioSession, sandbox: Any, bucket: str, prefix: str, lister: str
) -> tuple[int, int]:
    keys = n_pages = 0
    async with client_for(session, sandbox) as client:
        async for page in pages(client, bucket, prefix, lister=lister):
            n_pages += 1
            keys += len(page)
    return keys, n_pages


def iso_session() -> AioSession:
    """A session whose parsers read timestamps with ``datetime.fromisoformat`` (botocore hook)."""
    session = get_session()
    session.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=datetime.fromisoformat
    )
    return session


async def iso_paginator_list(
    session: AioSession, sandbox: Any, bucket: str, prefix: str
) -> tuple[int, int]:
    return await function_list(session, sandbox, bucket, prefix, "botocore")
