"""One ListObjectsV2 response body -> entries, with the values botocore's parser would give.

Pure: bytes in, a `ListPage` out, no client, no I/O. ``xml.etree.ElementTree.XML`` builds the
tree in C (expat + the C TreeBuilder); walking ~1000 ``<Contents>`` elements in Python is the
rest. What botocore spends most of its listing CPU on (dateutil timestamp parsing, the generic
XML-to-dict shape walker) is replaced by:

* ``LastModified``: ``datetime.fromisoformat`` (Python 3.11 reads S3's ``...T..:..:...sssZ``),
  memoised per string because objects written together share timestamps; anything it cannot
  read goes to botocore's own ``parse_timestamp``. The result is an aware UTC datetime equal to
  botocore's (``tzutc()`` there, ``timezone.utc`` here; both print ``+00:00``).
* ``Key``: ``unquote_plus`` when, and only when, the response says ``EncodingType`` is
  ``url`` -- exactly botocore's ``decode_list_object_v2`` rule for an auto-set encoding type.
* ``ETag``: the text with its double quotes stripped, as the manifest writes it.
* ``Size``: ``int``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote_plus
from xml.etree.ElementTree import XML as parse_xml
from xml.etree.ElementTree import Element, ParseError

__all__ = ["ListPage", "ListXMLError", "Listed", "parse_list_page", "parse_timestamp"]

#: (key, size, etag without quotes, last modified): one object as the pipeline needs it
Listed = tuple[str, int, str, datetime | None]

_TIMESTAMPS: dict[str, datetime] = {}
_TIMESTAMP_CACHE_MAX = 4096


class ListXMLError(ValueError):
    """The body is not a ListObjectsV2 result this parser reads (the caller asks botocore)."""


@dataclass(frozen=True, slots=True)
class ListPage:
    entries: list[Listed]
    is_truncated: bool
    next_token: str | None
    key_count: int | None


def parse_timestamp(text: str) -> datetime:
    """``LastModified`` as botocore parses it, without dateutil on the common path."""
    value = _TIMESTAMPS.get(text)
    if value is None:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            from botocore.utils import parse_timestamp as botocore_parse

            value = botocore_parse(text)
        if len(_TIMESTAMPS) >= _TIMESTAMP_CACHE_MAX:
            _TIMESTAMPS.clear()
        _TIMESTAMPS[text] = value
    return value


def parse_list_page(body: bytes) -> ListPage:
    """Parse one ``ListBucketResult`` body; raises `ListXMLError` for anything else."""
    try:
        root = parse_xml(body)
    except ParseError as e:
        raise ListXMLError(f"ListObjectsV2 response is not well-formed XML: {e}") from e
    tag = root.tag
    ns = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
    if tag[len(ns) :] != "ListBucketResult":
        raise ListXMLError(f"expected a ListBucketResult, got <{tag}>")
    t_contents, t_key, t_size = f"{ns}Contents", f"{ns}Key", f"{ns}Size"
    t_etag, t_modified = f"{ns}ETag", f"{ns}LastModified"
    truncated = False
    token: str | None = None
    key_count: int | None = None
    url_encoded = False
    contents: list[Element] = []
    for child in root:
        name = child.tag
        if name == t_contents:
            contents.append(child)
        elif name == f"{ns}IsTruncated":
            truncated = (child.text or "").strip().lower() == "true"
        elif name == f"{ns}NextContinuationToken":
            token = child.text or ""
        elif name == f"{ns}KeyCount":
            key_count = int(child.text or "0")
        elif name == f"{ns}EncodingType":
            url_encoded = child.text == "url"
    entries: list[Listed] = []
    append = entries.append
    timestamps = _TIMESTAMPS
    for item in contents:
        key: str | None = None
        size = 0
        etag = ""
        modified: datetime | None = None
        for field in item:
            name = field.tag
            if name == t_key:
                key = field.text or ""
            elif name == t_size:
                size = int(field.text or "0")
            elif name == t_etag:
                etag = (field.text or "").strip('"')
            elif name == t_modified:
                text = field.text or ""
                modified = timestamps.get(text) or parse_timestamp(text)
        if key is None:
            raise ListXMLError("a <Contents> element has no <Key>")
        if url_encoded:
            key = unquote_plus(key)
        append((key, size, etag, modified))
    return ListPage(entries, truncated, token, key_count)
