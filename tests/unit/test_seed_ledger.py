"""`seed.ledger.SentLedger`: what the snowball path sent, confirmed by a listing, in 9 B/object."""

from __future__ import annotations

import hashlib

import pytest

from seed.ledger import SentLedger


def _item(n: int) -> tuple[str, bytes, str]:
    return f"2026/04/report-{n:06d}.pdf", f"body {n}".encode(), "application/pdf"


def _md5(body: bytes) -> bytes:
    return hashlib.md5(body).digest()


def test_what_the_listing_shows_with_the_same_md5_is_confirmed_and_the_rest_is_named() -> None:
    planned = [_item(n) for n in range(1000)]
    ledger = SentLedger()
    for key, body, _ in planned[:900]:  # the last 100 already existed: skipped, never sent
        ledger.add(key, _md5(body))
    for key, body, _ in planned[:900]:
        if key.endswith(("3.pdf", "7.pdf")):
            continue  # not extracted
        ledger.confirm(key, _md5(body))
    assert len(ledger) == 900 and ledger.unconfirmed_count == 180
    missing = list(ledger.unconfirmed(planned))
    assert [k for k, _, _ in missing] == [
        k for k, _, _ in planned[:900] if k.endswith(("3.pdf", "7.pdf"))
    ]


def test_a_different_body_a_non_md5_etag_or_an_unknown_key_confirms_nothing() -> None:
    key, body, _ = _item(1)
    ledger = SentLedger()
    ledger.add(key, _md5(body))
    ledger.confirm(key, _md5(b"other bytes"))
    ledger.confirm(key, None)  # a multipart ETag
    ledger.confirm("2026/04/elsewhere.pdf", _md5(body))
    assert ledger.unconfirmed_count == 1
    ledger.confirm(key, _md5(body))
    ledger.confirm(key, _md5(body))  # listed twice (two roots): counted once
    assert ledger.unconfirmed_count == 0
    assert list(ledger.unconfirmed([(key, body, "application/pdf")])) == []


def test_adding_after_a_lookup_is_refused_rather_than_misaligning_the_flags() -> None:
    ledger = SentLedger()
    a, b = _item(1), _item(2)
    ledger.add(a[0], _md5(a[1]))
    ledger.confirm(a[0], _md5(a[1]))
    with pytest.raises(RuntimeError, match="new ledger"):
        ledger.add(b[0], _md5(b[1]))
    assert ledger.unconfirmed_count == 0
