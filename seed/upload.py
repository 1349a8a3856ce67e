"""Write a plan to S3: concurrent, streaming, idempotent.

One producer walks the plan in order, makes each body, and skips it when the bucket already
holds the same bytes (the listing's ETag is the MD5 of a single-part upload). Everything else
goes through a bounded queue to ``concurrency`` workers calling ``put_object`` on one aioboto3
client. At most ``3 * concurrency`` bodies exist at a time, so memory does not grow with
``count``; what does grow is the key list (ground truth and the listing of what is already
there), about 200 bytes a key.

On MinIO (its ``Server`` header; ``method="auto"``) the same stream of bodies goes out as tar
batches instead (:mod:`seed.snowball`), verified by listing. Memory there: at most three
batches of bodies (32 MiB each at most) plus, until the verification listing, the MD5 of every
object sent. Measured with ``python -m seed`` (snowball, ~2.6 KB PDFs): 85 MiB peak RSS for
1,000 objects, 136 MiB for 105,000, so ~0.5 KB per object (keys and MD5s), ~600 MiB for 1M.

Keys under the prefix that the plan does not contain (left by an earlier run with a larger
count, or put there by hand) are kept and added to the ground truth when the rule lists them;
``prune=True`` deletes them instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from seed.connection import Connection
from seed.documents import CONTENT_TYPES, DocumentFactory
from seed.errors import SeedArgumentError, SeedConnectionError
from seed.method import choose_method
from seed.options import SeedOptions
from seed.plan import Plan
from seed.progress import NullProgress, Progress, make_progress
from seed.snowball import Item, snowball_all, storage_full, storage_full_message
from seed.truth import Expected, is_expected

__all__ = ["GENERATOR", "SeedResult", "client_config", "seed_bucket", "seed_bucket_async"]

GENERATOR = "seed/1"  # bump when the same options would produce different bytes


@dataclass(frozen=True, slots=True)
class SeedResult:
    """What a seeding run did. ``expected`` is the ground truth it wrote."""

    expected: Expected
    endpoint: str
    expected_key: str
    objects: int  # objects in the plan (PDFs and noise)
    uploaded: int
    skipped: int  # already in the bucket with the same bytes
    deleted: int  # stale keys removed under the prefix (prune=True)
    bytes_uploaded: int
    seconds: float  # whole run, from connecting to the ground truth written
    upload_seconds: float  # the write phase only
    expected_written: bool  # False when the ground truth object was already equal
    method: str = "put"  # "put" | "snowball": how the objects were written
    repaired: int = 0  # snowball: objects a verification listing found missing, then re-sent

    @property
    def expected_keys(self) -> tuple[str, ...]:
        return self.expected.keys

    @property
    def objects_per_second(self) -> float:
        return self.objects / self.upload_seconds if self.upload_seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (without the key list)."""
        return {
            "bucket": self.expected.bucket,
            "prefix": self.expected.prefix,
            "expected_count": self.expected.count,
            "expected_key": self.expected_key,
            "extra": len(self.expected.extra),
            "endpoint": self.endpoint,
            "objects": self.objects,
            "uploaded": self.uploaded,
            "skipped": self.skipped,
            "deleted": self.deleted,
            "method": self.method,
            "repaired": self.repaired,
            "bytes_uploaded": self.bytes_uploaded,
            "seconds": round(self.seconds, 3),
            "objects_per_second": round(self.objects_per_second, 1),
        }

    def summary(self) -> str:
        e = self.expected
        extra = f" (+{len(e.extra)} found already there)" if e.extra else ""
        return (
            f"seeded s3://{e.bucket}/{e.prefix}: {e.count} PDFs to list{extra}, "
            f"{self.objects} objects planned; uploaded {self.uploaded} "
            f"({self.bytes_uploaded / 1e6:.1f} MB), skipped {self.skipped}, deleted "
            f"{self.deleted} by {self.method}"
            f"{f' ({self.repaired} repaired after verification)' if self.repaired else ''} "
            f"in {self.seconds:.1f}s ({self.objects_per_second:,.0f} objects/s); "
            f"ground truth s3://{e.bucket}/{self.expected_key}"
        )


def client_config(concurrency: int) -> Any:
    """The botocore ``Config`` the seeder uses (path-style, SigV4, checksums only if required)."""
    from botocore.config import Config

    return Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        max_pool_connections=max(10, concurrency),
        connect_timeout=3,
        read_timeout=60,
        retries={"max_attempts": 3, "mode": "standard"},
        # CRC32 of every body costs CPU and local servers do not need it.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


def _s3_error(action: str, conn: Connection, e: Exception) -> SeedConnectionError:
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    if isinstance(e, EndpointConnectionError):
        hint = "is the S3 server running? Start it with `python -m sandbox up`"
    elif isinstance(e, NoCredentialsError):
        hint = 'set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (eval "$(python -m sandbox env)")'
    elif isinstance(e, ClientError) and e.response.get("Error", {}).get("Code") in (
        "403",
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
    ):
        hint = "the credentials were refused; check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    elif isinstance(e, ClientError) and storage_full(
        e.response.get("Error", {}).get("Code", ""), e
    ):
        return SeedConnectionError(storage_full_message(action, conn.endpoint_url, e))
    else:
        hint = "check the endpoint and the server's log"
    return SeedConnectionError(f"{action} at {conn.endpoint_url} failed: {e}; {hint}")


def _server_header(response: Any) -> str:
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) if response else {}
    return str(headers.get("server", ""))


async def _ensure_bucket(s3: Any, bucket: str, conn: Connection) -> str:
    """Create ``bucket`` if missing; return the server's ``Server`` response header."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return _server_header(await s3.head_bucket(Bucket=bucket))
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise _s3_error(f"checking bucket {bucket!r}", conn, e) from e
        server = _server_header(e.response)
    except BotoCoreError as e:
        raise _s3_error(f"checking bucket {bucket!r}", conn, e) from e
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if conn.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": conn.region}
    try:
        return _server_header(await s3.create_bucket(**kwargs)) or server
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise _s3_error(f"creating bucket {bucket!r}", conn, e) from e
    except BotoCoreError as e:
        raise _s3_error(f"creating bucket {bucket!r}", conn, e) from e
    return server


def _md5_of_etag(etag: str) -> bytes | None:
    etag = etag.strip('"')
    if len(etag) != 32:
        return None  # multipart or encrypted: not an MD5, so never "equal"
    try:
        return bytes.fromhex(etag)
    except ValueError:
        return None


async def _iter_listing(
    s3: Any, bucket: str, roots: tuple[str, ...], conn: Connection
) -> AsyncIterator[tuple[str, bytes | None]]:
    """``(key, MD5 from the ETag or None)`` for every object under ``roots``.

    Pages come from the function's own lister (`s3_manifest.listing.pages`: the response body
    read with four regular expressions, botocore for anything else): botocore's parser spent
    ~300 µs of CPU per key here, mostly on timestamps we do not need, which on two cores is
    CPU taken from the server we are seeding (measured: 6.4 of 27 s for 20,000 objects)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from s3_manifest.listing import pages

    try:
        for root in roots:
            async for page in pages(s3, bucket, root):
                for key, _size, etag, _modified in page:
                    yield key, _md5_of_etag(etag)
    except (ClientError, BotoCoreError) as e:
        raise _s3_error(f"listing s3://{bucket}/", conn, e) from e


async def _list_existing(
    s3: Any, bucket: str, roots: tuple[str, ...], conn: Connection
) -> dict[str, bytes | None]:
    return {key: md5 async for key, md5 in _iter_listing(s3, bucket, roots, conn)}


async def _put_all(
    s3: Any,
    bucket: str,
    conn: Connection,
    items: Iterator[Item],
    concurrency: int,
    on_put: Callable[[str, str, int], None],
) -> None:
    """Concurrent ``put_object`` of ``items``: one producer, ``concurrency`` workers."""
    from botocore.exceptions import BotoCoreError, ClientError

    queue: asyncio.Queue[Item | None] = asyncio.Queue(maxsize=2 * concurrency)

    async def produce() -> None:
        for item in items:
            await queue.put(item)
        for _ in range(concurrency):
            await queue.put(None)

    async def work() -> None:
        while (item := await queue.get()) is not None:
            key, body, content_type = item
            for attempt in (1, 2):
                try:
                    put = await s3.put_object(
                        Bucket=bucket, Key=key, Body=body, ContentType=content_type
                    )
                    break
                except (ClientError, BotoCoreError) as e:
                    # A server that runs out of disk mid-body may cut the request short
                    # (IncompleteBody) before it says why; a second try gets the reason.
                    code = (
                        e.response.get("Error", {}).get("Code")
                        if isinstance(e, ClientError)
                        else None
                    )
                    if attempt == 2 or code not in ("IncompleteBody", "RequestTimeout"):
                        raise _s3_error(f"uploading s3://{bucket}/{key}", conn, e) from e
            on_put(key, put.get("ETag", ""), len(body))

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(produce())
            for _ in range(concurrency):
                tg.create_task(work())
    except BaseExceptionGroup as group:
        raise _first_error(group) from None  # keeps its own cause chain


async def _delete(s3: Any, bucket: str, keys: list[str], conn: Connection) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    for i in range(0, len(keys), 1000):
        batch = [{"Key": k} for k in keys[i : i + 1000]]
        try:
            resp = await s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        except (ClientError, BotoCoreError) as e:
            raise _s3_error(f"deleting stale keys in s3://{bucket}/", conn, e) from e
        if resp.get("Errors"):
            first = resp["Errors"][0]
            raise SeedConnectionError(
                f"deleting {len(resp['Errors'])} stale keys in s3://{bucket}/ failed, first "
                f"{first.get('Key')!r}: {first.get('Code')} {first.get('Message')}"
            )


def _first_error(group: BaseExceptionGroup[Any]) -> BaseException:
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


async def seed_bucket_async(
    target: Any = None,
    options: SeedOptions | None = None,
    *,
    progress: Progress | bool = False,
    environ: Mapping[str, str] | None = None,
    tamper: Callable[[int, bytes], bytes] | None = None,
    on_uploaded: Callable[[str, str], None] | None = None,
    **option_kwargs: Any,
) -> SeedResult:
    """Seed a bucket; see :func:`seed_bucket`."""
    import aioboto3

    opts = _options(options, option_kwargs)
    conn = Connection.coerce(target, os.environ if environ is None else environ)
    prog: Progress
    if isinstance(progress, bool):
        prog = make_progress(enabled=progress)
    else:
        prog = progress if progress is not None else NullProgress()

    t0 = time.perf_counter()
    plan = Plan(opts)
    factory = DocumentFactory(opts.seed, opts.sizes)
    bucket, prefix = opts.bucket, opts.prefix
    session = aioboto3.Session()
    async with session.client(
        "s3", config=client_config(opts.concurrency), **conn.client_kwargs()
    ) as s3:
        server = await _ensure_bucket(s3, bucket, conn)
        method = choose_method(opts.method, server)
        if on_uploaded is not None and method == "snowball":
            # A tar batch is acknowledged as a whole, before its members are verified.
            raise ValueError("on_uploaded reports single PUTs: seed with method='put'")
        existing = await _list_existing(s3, bucket, plan.listing_roots(), conn)

        counts = {"uploaded": 0, "skipped": 0, "bytes": 0, "repaired": 0}
        planned_expected: list[str] = []

        def pending() -> Iterator[Item]:
            """The plan's objects that the bucket does not already hold with the same bytes."""
            for spec in plan.specs():
                if is_expected(spec.key, prefix):
                    planned_expected.append(spec.key)
                body = factory.body(spec)
                if existing.pop(spec.key, None) == hashlib.md5(body).digest():
                    counts["skipped"] += 1
                    prog.advance()
                    continue
                yield spec.key, body, CONTENT_TYPES[spec.body]

        def on_put(key: str, etag: str, size: int) -> None:
            if on_uploaded is not None:
                on_uploaded(key, etag)
            counts["uploaded"] += 1
            counts["bytes"] += size
            prog.advance()

        def on_batch(objects: int, size: int) -> None:
            counts["bytes"] += size
            prog.advance(objects)

        def regenerate() -> Iterator[Item]:
            for spec in plan.specs():
                yield spec.key, factory.body(spec), CONTENT_TYPES[spec.body]

        async def put_items(items: Iterator[Item]) -> None:
            await _put_all(s3, bucket, conn, items, opts.concurrency, lambda *_: None)

        def listing() -> AsyncIterator[tuple[str, bytes | None]]:
            return _iter_listing(s3, bucket, plan.listing_roots(), conn)

        prog.start(len(plan), f"seed s3://{bucket}/{prefix} ({method})")
        t_upload = time.perf_counter()
        try:
            if method == "snowball":
                outcome = await snowball_all(
                    s3,
                    bucket,
                    conn.endpoint_url,
                    pending(),
                    listing=listing,
                    regenerate=regenerate,
                    put_items=put_items,
                    on_batch=on_batch,
                    tamper=tamper,
                )
                counts["uploaded"], counts["repaired"] = outcome.uploaded, outcome.repaired
            else:
                await _put_all(s3, bucket, conn, pending(), opts.concurrency, on_put)
        finally:
            prog.finish()
        upload_seconds = time.perf_counter() - t_upload

        # Whatever is still in `existing` was not planned; only keys under the prefix matter.
        stale = sorted(k for k in existing if k.startswith(prefix) and k != opts.expected_key)
        deleted = 0
        if opts.prune and stale:
            await _delete(s3, bucket, stale, conn)
            deleted, stale = len(stale), []
        extra = tuple(k for k in stale if is_expected(k, prefix))
        existing.clear()

        expected = Expected(
            bucket=bucket,
            prefix=prefix,
            keys=tuple(sorted([*planned_expected, *extra])),
            seed=opts.seed,
            noise=opts.noise,
            sizes=str(opts.sizes),
            objects=len(plan),
            extra=extra,
            meta={"generator": GENERATOR, "faker": _faker_version()},
        )
        written = await _write_expected(s3, bucket, opts.expected_key, expected, conn)

    return SeedResult(
        expected=expected,
        endpoint=conn.endpoint_url,
        expected_key=opts.expected_key,
        objects=len(plan),
        uploaded=counts["uploaded"],
        skipped=counts["skipped"],
        deleted=deleted,
        bytes_uploaded=counts["bytes"],
        seconds=time.perf_counter() - t0,
        upload_seconds=upload_seconds,
        expected_written=written,
        method=method,
        repaired=counts["repaired"],
    )


def _options(options: SeedOptions | None, kwargs: dict[str, Any]) -> SeedOptions:
    if options is not None:
        if kwargs:
            raise SeedArgumentError(
                f"pass either options= or option keywords, not both (got {sorted(kwargs)})"
            )
        return options
    try:
        return SeedOptions(**kwargs)
    except TypeError as e:
        raise SeedArgumentError(f"unknown seed option: {e}") from e


def _faker_version() -> str:
    from importlib.metadata import version

    return version("faker")


async def _write_expected(
    s3: Any, bucket: str, key: str, expected: Expected, conn: Connection
) -> bool:
    # Through an unlinked temporary file, not a BytesIO: at a million keys the document is
    # ~45 MB, and a BytesIO plus its getvalue() copy set the seeder's peak memory.
    with tempfile.TemporaryFile() as data:
        expected.write_json(data)
        data.seek(0)
        md5 = hashlib.md5()
        while chunk := data.read(1 << 20):
            md5.update(chunk)
        data.seek(0)
        return await _put_expected(s3, bucket, key, data, md5.digest(), conn)


async def _put_expected(
    s3: Any, bucket: str, key: str, data: IO[bytes], md5: bytes, conn: Connection
) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        head = await s3.head_object(Bucket=bucket, Key=key)
        if _md5_of_etag(head.get("ETag", "")) == md5:
            return False
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise _s3_error(f"checking s3://{bucket}/{key}", conn, e) from e
    except BotoCoreError as e:
        raise _s3_error(f"checking s3://{bucket}/{key}", conn, e) from e
    try:
        await s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/json")
    except (ClientError, BotoCoreError) as e:
        raise _s3_error(f"writing the ground truth s3://{bucket}/{key}", conn, e) from e
    return True


def seed_bucket(
    target: Any = None,
    options: SeedOptions | None = None,
    *,
    progress: Progress | bool = False,
    environ: Mapping[str, str] | None = None,
    tamper: Callable[[int, bytes], bytes] | None = None,
    on_uploaded: Callable[[str, str], None] | None = None,
    **option_kwargs: Any,
) -> SeedResult:
    """Fill a bucket with fake report PDFs and noise; write and return the ground truth.

    ``target``: a :class:`~seed.connection.Connection`, an endpoint URL, a sandbox ``Endpoint``
    or ``Sandbox``, or ``None`` to read ``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL`` and the
    ``AWS_*`` credentials from ``environ`` (default ``os.environ``). Options come as a
    :class:`SeedOptions` or as its fields (``bucket=``, ``prefix=``, ``count=``, ``seed=``,
    ``noise=``, ``sizes=``, ``concurrency=``, ``expected_key=``, ``prune=``).
    ``progress``: ``True`` for a bar (terminal) or lines (otherwise) on stderr, or a
    :class:`~seed.progress.Progress`. ``on_uploaded(key, etag)`` is called for each object
    the server acknowledged (crash tests check those survive). Raises
    :class:`~seed.errors.SeedError` subclasses. Inside a running event loop, await
    :func:`seed_bucket_async` instead.
    """
    return asyncio.run(
        seed_bucket_async(
            target,
            options,
            progress=progress,
            environ=environ,
            tamper=tamper,
            on_uploaded=on_uploaded,
            **option_kwargs,
        )
    )
