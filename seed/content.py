"""Fake report content: Faker pools built once per seed, combined cheaply per document.

Faker costs ~30 µs a call, too slow to call a dozen times for each of thousands of PDFs. So a
seed builds pools of companies, people, cities, phrases and services once (a few hundred values
each, ~50 ms) and each document draws from them with its own ``random.Random``: same seed, same
pools, same documents. Values are folded to ASCII for the standard PDF fonts.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from seed.pdf import LINES_PER_PAGE, TextLine, ascii_text

__all__ = [
    "REPORT_KINDS",
    "DateRange",
    "Pools",
    "Report",
    "build_pools",
    "date_range_for",
    "format_amount",
    "make_report",
    "report_lines",
]

# (title, key slug) pairs; the key of a regular PDF names its kind.
REPORT_KINDS: tuple[tuple[str, str], ...] = (
    ("Quarterly Financial Report", "quarterly-financial"),
    ("Monthly Sales Report", "monthly-sales"),
    ("Expense Report", "expenses"),
    ("Internal Audit Report", "audit"),
    ("Inventory Report", "inventory"),
    ("Revenue Report", "revenue"),
    ("Payroll Summary", "payroll"),
    ("Procurement Report", "procurement"),
)

_POOL_SIZE = 256
_MONTH_RE = re.compile(r"(?<!\d)(\d{4})[/-](0[1-9]|1[0-2])(?!\d)")


@dataclass(frozen=True, slots=True)
class Pools:
    """ASCII-only Faker values for one seed."""

    companies: tuple[str, ...]
    people: tuple[str, ...]
    cities: tuple[str, ...]
    phrases: tuple[str, ...]
    services: tuple[str, ...]


@functools.lru_cache(maxsize=8)
def build_pools(seed: int, size: int = _POOL_SIZE) -> Pools:
    """Draw ``size`` values of each kind from Faker (en_US) seeded with ``seed``."""
    from faker import Faker  # imported here: Faker's import takes ~0.3 s

    fake = Faker("en_US")
    fake.seed_instance(seed)

    def pool(make: Callable[[], object]) -> tuple[str, ...]:
        values = {ascii_text(str(make())).strip() for _ in range(size)}
        return tuple(sorted(v for v in values if v))

    return Pools(
        companies=pool(fake.company),
        people=pool(fake.name),
        cities=pool(fake.city),
        phrases=pool(fake.catch_phrase),
        services=pool(lambda: fake.bs().capitalize()),
    )


@dataclass(frozen=True, slots=True)
class DateRange:
    """Dates a document may carry: ``first`` plus up to ``days - 1`` days."""

    first: dt.date
    days: int

    def pick(self, rng: random.Random) -> dt.date:
        return self.first + dt.timedelta(days=rng.randrange(self.days))


@functools.lru_cache(maxsize=64)
def date_range_for(key: str) -> DateRange:
    """The month named by the first ``YYYY/MM`` (or ``YYYY-MM``) in ``key``, else all of 2026."""
    match = _MONTH_RE.search(key)
    if match is None:
        return DateRange(dt.date(2026, 1, 1), 365)
    year, month = int(match.group(1)), int(match.group(2))
    return DateRange(dt.date(year, month, 1), calendar.monthrange(year, month)[1])


def format_amount(cents: int) -> str:
    """``123456`` -> ``$1,234.56``."""
    return f"${cents // 100:,}.{cents % 100:02d}"


@dataclass(frozen=True, slots=True)
class Report:
    """The facts printed in one PDF (tests look for them in the extracted text)."""

    report_id: str
    company: str
    title: str
    date: dt.date
    prepared_by: str
    city: str
    summary: str
    items: tuple[tuple[str, int], ...]  # (description, amount in cents)

    @property
    def total_cents(self) -> int:
        return sum(cents for _, cents in self.items)

    @property
    def amounts(self) -> tuple[str, ...]:
        return (*(format_amount(c) for _, c in self.items), format_amount(self.total_cents))


def make_report(
    pools: Pools,
    rng: random.Random,
    *,
    report_id: str,
    kind: int,
    dates: DateRange,
    max_items: int = 40,
) -> Report:
    """Combine pool values into one report; ``kind`` indexes :data:`REPORT_KINDS`."""
    n_items = rng.randint(3, max_items)
    services = pools.services
    items = tuple(
        # Log-uniform amounts between $10 and $100,000: mostly small, a few large.
        (services[rng.randrange(len(services))], int(math.exp(rng.uniform(6.9, 16.1))))
        for _ in range(n_items)
    )
    return Report(
        report_id=report_id,
        company=pools.companies[rng.randrange(len(pools.companies))],
        title=REPORT_KINDS[kind % len(REPORT_KINDS)][0],
        date=dates.pick(rng),
        prepared_by=pools.people[rng.randrange(len(pools.people))],
        city=pools.cities[rng.randrange(len(pools.cities))],
        summary=pools.phrases[rng.randrange(len(pools.phrases))],
        items=items,
    )


def report_lines(report: Report, note: str = "") -> list[list[TextLine]]:
    """Lay ``report`` out as pages of text lines (a new page every ``LINES_PER_PAGE`` lines)."""
    date = report.date
    lines = [
        TextLine(report.company, 16, True),
        TextLine(report.title, 13, True),
        TextLine(f"Report ID: {report.report_id}    Date: {date.isoformat()}"),
        TextLine(f"Period: {date.strftime('%B %Y')}    Prepared by: {report.prepared_by}"),
        TextLine(f"Office: {report.city}"),
        TextLine(f"Summary: {report.summary}."),
    ]
    if note:
        lines.append(TextLine(note))
    lines.append(TextLine("Line items", 11, True))
    lines.extend(
        TextLine(f"{n:>3}. {desc}    {format_amount(cents)}")
        for n, (desc, cents) in enumerate(report.items, 1)
    )
    lines.append(TextLine(f"Total: {format_amount(report.total_cents)}", 11, True))
    return [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)]
