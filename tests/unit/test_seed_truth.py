"""The ground truth document: valid JSON, sorted keys, round trip, written as it goes."""

from __future__ import annotations

import io
import json

import pytest

from seed.errors import SeedError
from seed.truth import FORMAT, Expected, parse_expected


def expected(keys: tuple[str, ...]) -> Expected:
    return Expected(
        bucket="b",
        prefix="2026/04/",
        keys=keys,
        seed=42,
        noise=0.05,
        sizes="4096-98304",
        objects=len(keys) + 3,
        meta={"generator": "seed/1"},
    )


@pytest.mark.parametrize("n", [0, 1, 2, 4095, 4096, 4097, 10_000])
def test_the_document_is_valid_json_and_round_trips(n: int) -> None:
    keys = tuple(sorted(f'2026/04/ü "q" {i:05d}.pdf' for i in range(n)))
    buf = io.BytesIO()
    expected(keys).write_json(buf)
    doc = json.loads(buf.getvalue())
    assert doc["format"] == FORMAT and doc["count"] == n and doc["keys"] == list(keys)
    back = parse_expected(doc)
    assert back == expected(keys)


def test_a_document_from_another_format_is_refused() -> None:
    with pytest.raises(SeedError, match="format"):
        parse_expected({"format": "other", "keys": [], "count": 0})


def test_a_document_whose_count_disagrees_with_its_keys_is_refused() -> None:
    buf = io.BytesIO()
    expected(("a.pdf",)).write_json(buf)
    doc = json.loads(buf.getvalue())
    doc["count"] = 2
    with pytest.raises(SeedError, match="count=2"):
        parse_expected(doc)
