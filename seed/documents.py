"""Object bodies for a plan: report PDFs, text notes and CSV ledgers, all seeded per object.

Object ``n`` of seed ``s`` draws everything from ``random.Random((s << 40) | n)``, so bodies do
not depend on the order or the process that makes them, and the report id ``RPT-s-n`` makes
every PDF distinct.
"""

from __future__ import annotations

import random

from seed.content import build_pools, date_range_for, format_amount, make_report, report_lines
from seed.options import SizeRange
from seed.pdf import ascii_text, render_pdf
from seed.plan import ObjectSpec

__all__ = ["CONTENT_TYPES", "DocumentFactory"]

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "txt": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
_FILLER_MARGIN = 4096


class DocumentFactory:
    """Makes the bytes of each :class:`ObjectSpec` for one seed and size range."""

    def __init__(self, seed: int, sizes: SizeRange) -> None:
        self.seed = seed
        self.sizes = sizes
        self.pools = build_pools(seed)
        # Incompressible filler, sliced at a per-document offset: real PDFs are mostly
        # compressed streams, and slicing is ~100x cheaper than drawing fresh random bytes.
        self._filler = memoryview(random.Random(seed).randbytes(sizes.high + _FILLER_MARGIN))

    def _rng(self, n: int) -> random.Random:
        return random.Random((self.seed << 40) | n)

    def body(self, spec: ObjectSpec) -> bytes:
        if spec.body == "pdf":
            return self.pdf(spec)
        if spec.body == "csv":
            return self.csv(spec)
        return self.text(spec)

    def pdf(self, spec: ObjectSpec) -> bytes:
        rng = self._rng(spec.n)
        report = make_report(
            self.pools,
            rng,
            report_id=f"RPT-{self.seed}-{spec.n:06d}",
            kind=spec.kind,
            dates=date_range_for(spec.key),
        )
        name = spec.key.rsplit("/", 1)[-1]
        pages = report_lines(report, note=f"File: {ascii_text(name)}")
        target = self.sizes.pick(rng)
        pool = self._filler

        def filler(n: int) -> memoryview:
            start = rng.randrange(max(1, len(pool) - n + 1))
            return pool[start : start + n]

        return render_pdf(
            pages,
            title=f"{report.company} - {report.title}",
            author=report.prepared_by,
            date_iso=report.date.isoformat(),
            doc_id=f"{rng.getrandbits(128):032x}",
            pad_to=target,
            filler=filler,
        )

    def text(self, spec: ObjectSpec) -> bytes:
        rng = self._rng(spec.n)
        pools = self.pools
        lines = [f"Notes ({spec.key})", ""]
        lines += [
            pools.phrases[rng.randrange(len(pools.phrases))] for _ in range(rng.randint(2, 12))
        ]
        return ("\n".join(lines) + "\n").encode()

    def csv(self, spec: ObjectSpec) -> bytes:
        rng = self._rng(spec.n)
        dates = date_range_for(spec.key)
        services = self.pools.services
        rows = ["date,description,amount"]
        for _ in range(rng.randint(3, 40)):
            amount = format_amount(rng.randrange(1000, 10_000_000)).replace(",", "")
            rows.append(
                f"{dates.pick(rng).isoformat()},{services[rng.randrange(len(services))]},{amount}"
            )
        return ("\n".join(rows) + "\n").encode()
