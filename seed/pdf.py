"""Minimal PDF 1.4 writer, templated so that a document is mostly string formatting.

A general-purpose PDF library spends milliseconds per document; the seeder needs thousands per
second on one core (see ``bench/test_seed_bench.py``), so the bytes are written here directly:

    header, catalog (1), pages (2), fonts Helvetica (3) and Helvetica-Bold (4), info (5),
    then one page + one content stream per page, an optional filler stream, xref, trailer.

Text uses the standard Type1 fonts with WinAnsiEncoding, so it must be Latin-1; callers pass
ASCII (see :func:`ascii_text`). Strings are escaped for ``( ) \\``. Every variant this module
can produce is opened and text-extracted with pypdf in ``tests/unit/test_seed_pdf.py``.

The filler stream (raw bytes, no filter, not referenced from the page tree) only grows the file
towards a target size: real report PDFs carry fonts and images, and object sizes matter to the
code that lists and presigns them only through ``Size``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "LINES_PER_PAGE",
    "TextLine",
    "ascii_text",
    "escape_pdf_text",
    "render_pdf",
]

# Letter size, 1-inch margins, 14 pt leading: (756 - 72) / 14 lines fit on a page.
LINES_PER_PAGE = 48
_LEADING = 14

_HEADER = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
_FIXED_OBJECTS = 5  # catalog, pages, font, bold font, info
_STREAM_FOOT = "\nendstream\nendobj\n"
# Length of the xref and trailer text without the variable numbers (object count, ids, offset).
_XREF_FIXED = len("xref\n0 \n") + len(
    "trailer\n<< /Size  /Root 1 0 R /Info 5 0 R /ID [<> <>] >>\nstartxref\n\n%%EOF\n"
)
_ESCAPES = str.maketrans({"\\": "\\\\", "(": "\\(", ")": "\\)", "\r": " ", "\n": " "})


@dataclass(frozen=True, slots=True)
class TextLine:
    """One line of text: ``bold`` selects Helvetica-Bold, ``size`` is in points."""

    text: str
    size: int = 10
    bold: bool = False


def ascii_text(text: str) -> str:
    """Fold ``text`` to printable ASCII ("São Paulo" -> "Sao Paulo"), safe for the Type1 fonts."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch if " " <= ch <= "~" else " " for ch in folded)


def escape_pdf_text(text: str) -> str:
    """Escape ``\\``, ``(`` and ``)`` for a PDF literal string; newlines become spaces."""
    return text.translate(_ESCAPES)


def _content_stream(lines: Sequence[TextLine]) -> str:
    out = [f"BT\n{_LEADING} TL\n72 756 Td\n"]
    font = None
    first = True
    for line in lines:
        want = (line.bold, line.size)
        if want != font:
            out.append(f"/F{2 if line.bold else 1} {line.size} Tf\n")
            font = want
        if not first:
            out.append("T*\n")
        first = False
        out.append(f"({escape_pdf_text(line.text)}) Tj\n")
    out.append("ET\n")
    return "".join(out)


def _pdf_date(date_iso: str) -> str:
    """``2026-04-17`` -> ``D:20260417090000Z``."""
    return f"D:{date_iso.replace('-', '')}090000Z"


def render_pdf(
    pages: Sequence[Sequence[TextLine]],
    *,
    title: str,
    author: str,
    date_iso: str,
    doc_id: str,
    pad_to: int = 0,
    filler: Callable[[int], bytes | memoryview] | None = None,
) -> bytes:
    """Return the bytes of a PDF with one page per item of ``pages``.

    ``date_iso`` (``YYYY-MM-DD``) becomes ``/CreationDate``; ``doc_id`` (32 hex digits) the
    trailer ``/ID``. When the text alone is smaller than ``pad_to`` bytes, ``filler(n)`` gives
    the ``n`` bytes of an extra stream object that brings the file to ``pad_to`` (within a few
    bytes); without ``filler`` the padding is spaces.
    """
    if not pages:
        raise ValueError("a PDF needs at least one page; got an empty list of pages")
    n_pages = len(pages)
    n_objects = _FIXED_OBJECTS + 2 * n_pages
    kids = " ".join(f"{_FIXED_OBJECTS + 1 + 2 * p} 0 R" for p in range(n_pages))

    parts: list[str] = [_HEADER]
    offsets: list[int] = []
    pos = len(_HEADER)

    def add(obj: str) -> None:
        nonlocal pos
        offsets.append(pos)
        parts.append(obj)
        pos += len(obj)

    add("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
    add(f"2 0 obj\n<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>\nendobj\n")
    add(
        "3 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
        " /Encoding /WinAnsiEncoding >>\nendobj\n"
    )
    add(
        "4 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold"
        " /Encoding /WinAnsiEncoding >>\nendobj\n"
    )
    created = _pdf_date(date_iso)
    add(
        f"5 0 obj\n<< /Title ({escape_pdf_text(title)}) /Author ({escape_pdf_text(author)})"
        f" /Producer (lambda_local_runner seed) /CreationDate ({created})"
        f" /ModDate ({created}) >>\nendobj\n"
    )
    for p, lines in enumerate(pages):
        page_no = _FIXED_OBJECTS + 1 + 2 * p
        stream = _content_stream(lines)
        add(
            f"{page_no} 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
            f" /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >>"
            f" /Contents {page_no + 1} 0 R >>\nendobj\n"
        )
        add(
            f"{page_no + 1} 0 obj\n<< /Length {len(stream)} >>\nstream\n{stream}endstream\nendobj\n"
        )

    tail_bytes = b""
    # xref + trailer for one more object, with a startxref of about pad_to's digits.
    room = pad_to - pos - (_XREF_FIXED + len(str(n_objects + 2)) + 20 * (n_objects + 2))
    room -= len(str(pad_to)) + len(doc_id) * 2
    head_guess = f"{n_objects + 1} 0 obj\n<< /Length {room} >>\nstream\n"
    n_fill = room - len(head_guess) - len(_STREAM_FOOT)
    if n_fill > 0:
        n_objects += 1
        offsets.append(pos)
        head = f"{n_objects} 0 obj\n<< /Length {n_fill} >>\nstream\n"
        data = filler(n_fill) if filler is not None else b" " * n_fill
        tail_bytes = b"".join((head.encode("ascii"), data, _STREAM_FOOT.encode("ascii")))
        pos += len(tail_bytes)

    xref = [f"xref\n0 {n_objects + 1}\n0000000000 65535 f \n"]
    xref.extend(f"{off:010d} 00000 n \n" for off in offsets)
    xref.append(
        f"trailer\n<< /Size {n_objects + 1} /Root 1 0 R /Info 5 0 R"
        f" /ID [<{doc_id}> <{doc_id}>] >>\nstartxref\n{pos}\n%%EOF\n"
    )
    body = "".join(parts).encode("latin-1")
    return b"".join((body, tail_bytes, "".join(xref).encode("ascii")))
