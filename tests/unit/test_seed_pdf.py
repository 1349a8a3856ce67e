"""Every kind of PDF the seeder writes opens with pypdf and carries its facts as text."""

from __future__ import annotations

import dataclasses
import io
import random

import pytest
from pypdf import PdfReader

from seed.content import build_pools, date_range_for, format_amount, make_report, report_lines
from seed.documents import DocumentFactory
from seed.options import SeedOptions, SizeRange
from seed.pdf import LINES_PER_PAGE, TextLine, ascii_text, escape_pdf_text, render_pdf
from seed.plan import SPECIAL_PDF_NAMES, ObjectSpec, Plan


def read(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data), strict=True)
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, text


def test_a_one_line_pdf_opens_strictly_and_has_one_page() -> None:
    data = render_pdf(
        [[TextLine("Hello")]], title="t", author="a", date_iso="2026-04-01", doc_id="0" * 32
    )
    reader, text = read(data)
    assert data.startswith(b"%PDF-1.4") and data.endswith(b"%%EOF\n")
    assert len(reader.pages) == 1
    assert "Hello" in text


def test_xref_offsets_point_at_each_object() -> None:
    pages = [[TextLine("one")], [TextLine("two", 14, True)]]
    data = render_pdf(pages, title="t", author="a", date_iso="2026-04-01", doc_id="ab" * 16)
    start = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert data[start:].startswith(b"xref\n")
    rows = data[start:].split(b"\n")[3:]
    for number, row in enumerate(rows[: 5 + 2 * len(pages)], start=1):
        offset = int(row[:10])
        assert data[offset:].startswith(f"{number} 0 obj\n".encode())


def test_pdf_string_specials_are_escaped_and_survive_extraction() -> None:
    tricky = r"Costs (net) \ gross ((nested)) a\b"
    data = render_pdf(
        [[TextLine(tricky)]], title=tricky, author="(x)", date_iso="2026-04-01", doc_id="1" * 32
    )
    reader, text = read(data)
    assert tricky in text
    assert reader.metadata is not None and reader.metadata.title == tricky
    assert escape_pdf_text("a(b)c\\") == "a\\(b\\)c\\\\"


def test_ascii_text_folds_accents_and_drops_what_the_standard_font_cannot_show() -> None:
    assert ascii_text("Relatório – São Paulo 報告") == "Relatorio  Sao Paulo "
    assert ascii_text("tab\there") == "tab here"


@pytest.mark.parametrize("pad_to", [0, 2_000, 4_096, 50_000, 1_000_000])
@pytest.mark.parametrize("filler", [None, b"\x00\xff" * 600_000], ids=["spaces", "binary"])
def test_padding_reaches_the_target_size_within_a_few_bytes(
    pad_to: int, filler: bytes | None
) -> None:
    fill = (lambda n: filler[:n]) if filler is not None else None
    data = render_pdf(
        [[TextLine("Padded")]],
        title="t",
        author="a",
        date_iso="2026-04-01",
        doc_id="2" * 32,
        pad_to=pad_to,
        filler=fill,
    )
    reader, text = read(data)
    assert "Padded" in text and len(reader.pages) == 1
    if pad_to > 2_000:
        assert abs(len(data) - pad_to) <= 4


def test_render_refuses_a_document_without_pages() -> None:
    with pytest.raises(ValueError, match="at least one page"):
        render_pdf([], title="t", author="a", date_iso="2026-04-01", doc_id="3" * 32)


@pytest.mark.parametrize("n_items", [3, 45, 100, 140])
def test_reports_of_one_to_four_pages_carry_company_title_date_and_amounts(n_items: int) -> None:
    rng = random.Random(n_items)
    report = make_report(
        build_pools(7), rng, report_id="RPT-7-1", kind=2, dates=date_range_for("2026/04/")
    )
    report = dataclasses.replace(report, items=(report.items * n_items)[:n_items])
    pages = report_lines(report)
    assert len(pages) == -(-(len(report.items) + 8) // LINES_PER_PAGE)
    data = render_pdf(
        pages,
        title=report.title,
        author=report.prepared_by,
        date_iso=report.date.isoformat(),
        doc_id="4" * 32,
    )
    reader, text = read(data)
    assert len(reader.pages) == len(pages)
    for fact in (report.company, report.title, report.date.isoformat(), *report.amounts[:3]):
        assert fact in text
    assert format_amount(report.total_cents) in text


def test_every_special_name_and_every_pdf_body_in_a_plan_is_a_valid_distinct_pdf() -> None:
    plan = Plan(SeedOptions(count=60, noise=1.0, seed=3))
    factory = DocumentFactory(3, SizeRange(2_000, 40_000))
    seen: set[bytes] = set()
    pdf_specs = [s for s in plan.specs() if s.body == "pdf"]
    assert {plan.options.prefix + n for n in SPECIAL_PDF_NAMES} <= {s.key for s in pdf_specs}
    for spec in pdf_specs:
        data = factory.body(spec)
        reader, text = read(data)
        assert len(reader.pages) >= 1
        assert f"RPT-3-{spec.n:06d}" in text
        assert data not in seen
        seen.add(data)


def test_pdf_facts_match_the_month_of_the_key() -> None:
    factory = DocumentFactory(11, SizeRange(4_096, 4_096))
    for key, month in [
        ("2026/04/x.pdf", "2026-04-"),
        ("2026/03/x.pdf", "2026-03-"),
        ("reports/2025-12/x.pdf", "2025-12-"),
    ]:
        _, text = read(factory.body(ObjectSpec(key, "pdf", 5, 1)))
        assert f"Date: {month}" in text


def test_default_sizes_vary_within_the_configured_range() -> None:
    sizes = SizeRange(4_096, 96 * 1024)
    factory = DocumentFactory(42, sizes)
    plan = Plan(SeedOptions(count=300, noise=0))
    lengths = [len(factory.body(s)) for s in plan.specs()]
    assert min(lengths) >= sizes.low - 4
    assert max(lengths) <= sizes.high + 4
    assert len(set(lengths)) > 250


def test_a_large_fixed_size_for_benchmarks_is_honoured() -> None:
    factory = DocumentFactory(1, SizeRange(2 * 1024 * 1024, 2 * 1024 * 1024))
    data = factory.body(ObjectSpec("2026/04/big.pdf", "pdf", 0, 0))
    assert abs(len(data) - 2 * 1024 * 1024) <= 4
    reader, _ = read(data)
    assert len(reader.pages) == 1
