"""Which objects to write: regular report PDFs, special-but-valid PDFs, and noise.

Keys are a pure function of (prefix, count, noise), the same for every seed; bodies come from
:mod:`seed.documents`. With ``count=N`` the function should list exactly N keys (the ground
truth is computed with :func:`seed.truth.is_expected`, never assumed).

PDFs the function must list (``count`` includes them; ``noise > 0`` turns them on):
  * regular keys ``{prefix}{kind}-{n:06d}.pdf``
  * ``ANNUAL-SUMMARY.PDF`` and ``Board Pack.Pdf``: the extension matches in any case
  * ``archive/2025-q4/nested-report.pdf``: a nested subfolder is listed (recursive listing)
  * names with spaces, parentheses, unicode, ``+``, ``%``, ``#``, ``?``, ``=`` and ``&``

Noise the function must skip (``round(count * noise)`` objects, at least one of each kind):
  * non-PDF names under the prefix: ``.txt``, ``.csv``, ``.pdf.bak``, ``.pdfx``, ``REPORT.PDF.txt``,
    a key that only contains "pdf" (``pdf``, ``pdf-export-notes``, ``report_pdf``), a ``.txt``
    inside a folder named ``scans.pdf/``, a ``.txt`` in a nested subfolder, odd characters
  * PDFs under neighbouring prefixes: the previous and next month (``2026/03/``, ``2026/05/``),
    ``2026/04-old/`` and the sibling key ``2026/04.pdf``
  * ``manifests/previous-run.pdf``: the function's own output area
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from seed.content import REPORT_KINDS
from seed.options import SeedOptions
from seed.truth import is_expected

__all__ = [
    "SKIPPED_NAMES",
    "SPECIAL_PDF_NAMES",
    "ObjectSpec",
    "Plan",
    "neighbour_prefixes",
]

# Valid PDFs under the prefix with names that trip naive code (all listed by the function).
SPECIAL_PDF_NAMES: tuple[str, ...] = (
    "ANNUAL-SUMMARY.PDF",
    "Board Pack.Pdf",
    "archive/2025-q4/nested-report.pdf",
    "Q1 results (final).pdf",
    "Relatório financeiro – São Paulo.pdf",
    "報告書 2026.pdf",
    "a+b=c.pdf",
    "100% complete.pdf",
    "invoice #42.pdf",
    "is this final?.pdf",
    "key=value&x=y.pdf",
    "literal %2F slash.pdf",
)

# Objects under the prefix the function must skip, and their body kind.
SKIPPED_NAMES: tuple[tuple[str, str], ...] = (
    ("notes.txt", "txt"),
    ("ledger.csv", "csv"),
    ("monthly-sales-000000.pdf.bak", "pdf"),
    ("report.pdfx", "txt"),
    ("REPORT.PDF.txt", "txt"),
    ("pdf", "txt"),
    ("pdf-export-notes", "txt"),
    ("report_pdf", "txt"),
    ("scans.pdf/index.txt", "txt"),
    ("archive/2025-q4/notes.txt", "txt"),
    ("weird name?.txt", "txt"),
    ("ünïcödé ledger.csv", "csv"),
    ("a+b=c.txt", "txt"),
    ("100% done #1.txt", "txt"),
)

_MONTH_PREFIX_RE = re.compile(r"^(.*?)(\d{4})/(0[1-9]|1[0-2])/$")


class ObjectSpec(NamedTuple):
    """One object to write: ``n`` is its position in the plan (it seeds its content)."""

    key: str
    body: str  # "pdf" | "txt" | "csv"
    n: int
    kind: int  # index into REPORT_KINDS for PDFs


def neighbour_prefixes(prefix: str) -> tuple[str, ...]:
    """Prefixes next to ``prefix`` that the function must not list.

    ``2026/04/`` -> ``2026/03/``, ``2026/05/``, ``2026/04-old/``; other ``x/`` prefixes ->
    ``x-previous/``, ``x-next/``, ``x-old/``; no neighbours for ``""`` or a prefix without a
    trailing ``/`` (anything next to it would be under it).
    """
    if not prefix.endswith("/"):
        return ()
    stem = prefix[:-1]
    match = _MONTH_PREFIX_RE.match(prefix)
    if match is None:
        return (f"{stem}-previous/", f"{stem}-next/", f"{stem}-old/")
    head, year, month = match.group(1), int(match.group(2)), int(match.group(3))
    prev_y, prev_m = (year, month - 1) if month > 1 else (year - 1, 12)
    next_y, next_m = (year, month + 1) if month < 12 else (year + 1, 1)
    return (
        f"{head}{prev_y:04d}/{prev_m:02d}/",
        f"{head}{next_y:04d}/{next_m:02d}/",
        f"{stem}-old/",
    )


def _kind_of(i: int) -> int:
    # A cheap spread of report kinds (Knuth's multiplicative hash). Independent of the seed on
    # purpose: another seed rewrites the same keys with other bytes instead of adding keys.
    return ((i * 2654435761) >> 7) % len(REPORT_KINDS)


class Plan:
    """The objects for one :class:`SeedOptions`, generated lazily in a fixed order."""

    def __init__(self, options: SeedOptions) -> None:
        self.options = options
        prefix, count = options.prefix, options.count
        self.specials = SPECIAL_PDF_NAMES[:count] if options.noise > 0 else ()
        self.regular = count - len(self.specials)
        self.width = max(6, len(str(max(count, 1) - 1)))
        catalogue: list[tuple[str, str]] = [(prefix + name, kind) for name, kind in SKIPPED_NAMES]
        neighbours = neighbour_prefixes(prefix)
        if neighbours:
            stem = prefix[:-1]
            catalogue += [(f"{p}monthly-sales-000000.pdf", "pdf") for p in neighbours]
            catalogue.append((f"{stem}.pdf", "pdf"))
        catalogue.append(("manifests/previous-run.pdf", "pdf"))
        self.catalogue = tuple(catalogue) if options.noise > 0 else ()
        wanted = round(count * options.noise)
        self.extra_noise = max(0, wanted - len(self.catalogue)) if options.noise > 0 else 0
        self._neighbours = neighbours

    def __len__(self) -> int:
        return len(self.specials) + self.regular + len(self.catalogue) + self.extra_noise

    def _extra_noise(self, j: int) -> tuple[str, str]:
        p, w = self.options.prefix, self.width
        slot = j % 6
        if slot == 0:
            return f"{p}notes-{j:0{w}d}.txt", "txt"
        if slot == 1:
            return f"{p}ledger-{j:0{w}d}.csv", "csv"
        if slot == 2:
            return f"{p}monthly-sales-{j:0{w}d}.pdf.bak", "pdf"
        if slot in (3, 4) and self._neighbours:
            return f"{self._neighbours[slot - 3]}monthly-sales-{j:0{w}d}.pdf", "pdf"
        if slot == 3:
            return f"{p}export-{j:0{w}d}.pdf.txt", "txt"
        return f"{p}archive/notes-{j:0{w}d}.txt", "txt"

    def specs(self) -> Iterator[ObjectSpec]:
        """Every object, in plan order: special PDFs, regular PDFs, noise."""
        prefix, w = self.options.prefix, self.width
        n = 0
        for name in self.specials:
            yield ObjectSpec(prefix + name, "pdf", n, _kind_of(n))
            n += 1
        for i in range(self.regular):
            kind = _kind_of(i)
            yield ObjectSpec(f"{prefix}{REPORT_KINDS[kind][1]}-{i:0{w}d}.pdf", "pdf", n, kind)
            n += 1
        for key, body in self.catalogue:
            yield ObjectSpec(key, body, n, _kind_of(n))
            n += 1
        for j in range(self.extra_noise):
            key, body = self._extra_noise(j)
            yield ObjectSpec(key, body, n, _kind_of(n))
            n += 1

    def all_keys(self) -> Iterator[str]:
        return (spec.key for spec in self.specs())

    def expected_keys(self) -> list[str]:
        """The keys the function should list, sorted (by the rule, not by construction)."""
        prefix = self.options.prefix
        return sorted(k for k in self.all_keys() if is_expected(k, prefix))

    def listing_roots(self) -> tuple[str, ...]:
        """The fewest prefixes whose listing covers every planned key (for the skip check)."""
        prefix = self.options.prefix
        roots = {prefix}
        for key, _ in self.catalogue:
            if not key.startswith(prefix):
                roots.add(key)
        roots.update(self._neighbours if self.extra_noise else ())
        minimal = sorted(roots)
        return tuple(r for r in minimal if not any(r != o and r.startswith(o) for o in minimal))
