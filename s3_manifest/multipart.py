"""The manifest streamed to S3 part by part, so /tmp holds at most one part whatever N is.

Lines go into one part file in the temp dir (``/tmp`` on Lambda). When it reaches the part
size, it is uploaded as the next part of an S3 multipart upload, truncated and reused: the
temp dir's peak is one part plus one line, and memory stays flat (botocore streams the part
from the file). A manifest that never fills a part is sent with one plain ``put_object``,
exactly as before multipart existed.

Failure leaves nothing behind. Whatever stops the run (a listing error, a part upload that
fails, a full /tmp, the deadline cancelling the task), leaving the ``async with`` block without
`PartSpool.finish` aborts the multipart upload and removes the part file. S3 then holds no
upload (``list_multipart_uploads`` is empty) and no object.

The key is only fixed when S3 needs it. A run that turns out to be the first of several
continuation rounds uploads under its *provisional* key until it knows; ``finish(key)`` then
puts the small case straight at the final key, and for the multipart case completes the upload
and moves the object (server-side copy, then delete; no bytes pass through the function).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from s3_manifest.errors import ManifestUploadFailed
from s3_manifest.manifest import CONTENT_TYPE, TmpFull

__all__ = ["DEFAULT_PART_SIZE", "MIN_PART_SIZE", "PartSpool", "Uploaded"]

log = logging.getLogger(__name__)

MIB = 1024 * 1024
# S3 refuses a non-last part under 5 MiB (EntityTooSmall); MinIO and AWS enforce it.
MIN_PART_SIZE = 5 * MIB
DEFAULT_PART_SIZE = 8 * MIB
# S3 allows at most 10,000 parts: 8 MiB parts hold ~16 million 490-byte lines.
MAX_PARTS = 10_000


@dataclass(frozen=True)
class Uploaded:
    """Where the finished manifest is and what it holds."""

    key: str
    size: int
    lines: int
    parts: int  # 0: a plain put_object; else the number of multipart parts


class PartSpool:
    """JSON lines spooled to one part file and streamed to ``s3://bucket/key`` in parts.

    Use as ``async with PartSpool(...) as spool``; `put_line` each line (the pipeline's
    consumers do), then ``await spool.finish(final_key)``. Leaving the block without a
    finished upload aborts it. Several consumers may `put_line` at once: while a part uploads,
    the others wait, so the part file never grows past one part plus one line.
    """

    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        *,
        run_id: str,
        part_size: int = DEFAULT_PART_SIZE,
        directory: str | None = None,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(
                f"part size {part_size} bytes is under S3's {MIN_PART_SIZE}-byte minimum "
                "for a multipart part; use MANIFEST_PART_MB >= 5"
            )
        self.client, self.bucket, self.key = client, bucket, key
        self.part_size = part_size
        self.path = Path(directory or tempfile.gettempdir()) / f"{run_id}.part"
        self.lines = 0
        self.size = 0  # bytes of manifest written so far (all parts)
        self.peak_part_bytes = 0  # the largest the part file grew: the /tmp peak
        self._in_file = 0  # bytes in the part file now
        self._file: IO[bytes] | None = None
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._busy = False  # a part is being uploaded; put_line() waits
        self._idle: asyncio.Event | None = None  # created on first need, inside the loop
        self._finished = False

    async def __aenter__(self) -> PartSpool:
        # "x": never clobber an existing file; the run id makes a clash a bug worth seeing.
        self._file = open(self.path, "x+b")  # noqa: SIM115 - closed in __aexit__
        return self

    async def put_line(self, text: str) -> None:
        """Append ``text`` (one line, newline included); upload the part when it is full."""
        while self._busy and self._idle is not None:
            await self._idle.wait()
        assert self._file is not None, "put_line() outside the async with block"
        data = text.encode()
        try:
            self._file.write(data)
        except OSError as e:
            raise _tmp_error(e, self.path) from e
        self.lines += 1
        self.size += len(data)
        self._in_file += len(data)
        if self._in_file >= self.part_size:
            await self._upload_part()

    async def finish(self, key: str | None = None) -> Uploaded:
        """Send what is left and make the object; returns where it is (``key`` or the
        provisional key given at construction)."""
        final_key = key or self.key
        file = self._require_file()
        try:
            file.flush()
        except OSError as e:
            raise _tmp_error(e, self.path) from e
        self.peak_part_bytes = max(self.peak_part_bytes, self._in_file)
        if self._upload_id is None:
            file.seek(0)
            await self._call(
                "put_object",
                final_key,
                Bucket=self.bucket,
                Key=final_key,
                Body=file,
                ContentType=CONTENT_TYPE,
            )
            self._finished = True
            return Uploaded(final_key, self.size, self.lines, 0)
        if self._in_file or not self._parts:
            await self._upload_part()
        await self._call(
            "complete_multipart_upload",
            self.key,
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        self._finished = True  # the upload is an object now: nothing left to abort
        if final_key != self.key:
            await self._move(final_key)
        return Uploaded(final_key, self.size, self.lines, len(self._parts))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._upload_id is not None and not self._finished:
                await self._abort(raise_errors=exc is None)
        finally:
            if self._file is not None and not self._file.closed:
                try:
                    self._file.close()
                except OSError:
                    if exc is None:  # a failing close must not hide the error being raised
                        raise
            self.path.unlink(missing_ok=True)

    def _require_file(self) -> IO[bytes]:
        assert self._file is not None, "used outside the async with block"
        return self._file

    async def _upload_part(self) -> None:
        file = self._require_file()
        if self._idle is None:
            self._idle = asyncio.Event()
        self._busy = True
        self._idle.clear()
        try:
            file.flush()
            self.peak_part_bytes = max(self.peak_part_bytes, self._in_file)
            if self._upload_id is None:
                created = await self._call(
                    "create_multipart_upload",
                    self.key,
                    Bucket=self.bucket,
                    Key=self.key,
                    ContentType=CONTENT_TYPE,
                )
                self._upload_id = created["UploadId"]
            number = len(self._parts) + 1
            if number > MAX_PARTS:
                raise ManifestUploadFailed(
                    f"the manifest s3://{self.bucket}/{self.key} needs more than S3's "
                    f"{MAX_PARTS} parts; raise MANIFEST_PART_MB"
                )
            file.seek(0)
            answer = await self._call(
                "upload_part",
                self.key,
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=file,
                ContentLength=self._in_file,
            )
            self._parts.append({"ETag": answer["ETag"], "PartNumber": number})
            # Reuse the space: the next part starts at the beginning of the same file.
            file.seek(0)
            file.truncate()
            self._in_file = 0
        finally:
            self._busy = False
            self._idle.set()

    async def _move(self, final_key: str) -> None:
        source = {"Bucket": self.bucket, "Key": self.key}
        await self._call(
            "copy_object",
            final_key,
            Bucket=self.bucket,
            Key=final_key,
            CopySource=source,
            MetadataDirective="COPY",
        )
        await self._call("delete_object", self.key, Bucket=self.bucket, Key=self.key)

    async def _abort(self, *, raise_errors: bool) -> None:
        try:
            await self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self._upload_id
            )
        except (ClientError, BotoCoreError) as e:
            # Nothing better to do than say so loudly: the bucket's lifecycle rule
            # (AbortIncompleteMultipartUpload in template.yaml) is the backstop.
            log.error(
                "could not abort multipart upload %s of s3://%s/%s: %s",
                self._upload_id, self.bucket, self.key, e,
            )  # fmt: skip
            if raise_errors:
                raise

    async def _call(self, operation: str, key: str, **kwargs: Any) -> Any:
        try:
            return await getattr(self.client, operation)(**kwargs)
        except (ClientError, BotoCoreError) as e:
            raise ManifestUploadFailed(
                f"{operation} for the manifest s3://{self.bucket}/{key} failed: {e}"
            ) from e
        except OSError as e:  # reading the part file back
            raise _tmp_error(e, self.path) from e


def _tmp_error(e: OSError, path: Path) -> OSError:
    if e.errno == errno.ENOSPC:
        return TmpFull(
            errno.ENOSPC,
            f"no space left in {path.parent} while writing a manifest part ({path.name}); "
            "lower MANIFEST_PART_MB or raise the function's ephemeral storage (/tmp) size",
        )
    return e
