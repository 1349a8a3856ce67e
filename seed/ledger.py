"""What the snowball path sent, in 8 bytes per object, for the verification listing.

Verification asks, for every listed ``(key, MD5)``, "was this exactly what we sent?", and after
the listing, "what did we send that the listing did not show?". A ``dict`` of key -> MD5 answers
both but costs ~150 bytes per object (150 MB at a million objects, on top of the ground truth).
`SentLedger` keeps one 64-bit fingerprint of ``key + MD5`` per object in a sorted ``array``, and
one byte per object for "confirmed": 9 bytes per object (9 MB at a million).

What it gives up: it cannot name the keys it has not seen confirmed. A repair round (rare:
a tar MinIO did not extract whole) asks the plan again (`unconfirmed`), regenerating bodies to
recompute their MD5s. A fingerprint collision (two different objects, one fingerprint) has a
probability of about n^2 / 2^65, 3e-8 at a million objects; it would let one missing object
pass as confirmed.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator

__all__ = ["SentLedger", "fingerprint"]


def fingerprint(key: str, md5: bytes) -> int:
    """64 bits of BLAKE2b over the key's UTF-8 bytes and the body's MD5."""
    digest = hashlib.blake2b(key.encode(), digest_size=8, key=md5).digest()
    return int.from_bytes(digest, "big")


class SentLedger:
    """Fingerprints of ``(key, MD5)`` sent; `confirm` marks what a listing shows."""

    def __init__(self) -> None:
        self._fps = array("Q")
        self._confirmed = bytearray()
        self._sorted = True
        self._left = 0  # sent and not yet confirmed
        self._looked_up = False

    def __len__(self) -> int:
        return len(self._fps)

    def add(self, key: str, md5: bytes) -> None:
        """Record one object sent. All adds come before the first `confirm` or `unconfirmed`
        (the confirmed flags follow the sorted order; a repair round uses a new ledger)."""
        if self._looked_up:
            raise RuntimeError("SentLedger.add after a lookup: use a new ledger for a new round")
        self._fps.append(fingerprint(key, md5))
        self._confirmed.append(0)
        self._sorted = False
        self._left += 1

    def _sort(self) -> None:
        self._looked_up = True
        if not self._sorted:
            self._fps = array("Q", sorted(self._fps))
            self._sorted = True

    def _index(self, fp: int) -> int | None:
        self._sort()
        i = bisect_left(self._fps, fp)
        return i if i < len(self._fps) and self._fps[i] == fp else None

    def confirm(self, key: str, md5: bytes | None) -> None:
        """A listing shows ``key`` with ``md5`` (None: not a plain MD5 ETag, never a match)."""
        if md5 is None or not self._left:
            return
        i = self._index(fingerprint(key, md5))
        if i is not None and not self._confirmed[i]:
            self._confirmed[i] = 1
            self._left -= 1

    @property
    def unconfirmed_count(self) -> int:
        return self._left

    def unconfirmed(
        self, planned: Iterable[tuple[str, bytes, str]]
    ) -> Iterator[tuple[str, bytes, str]]:
        """The items of ``planned`` (key, body, Content-Type) that were sent and not confirmed."""
        if not self._left:
            return
        for item in planned:
            i = self._index(fingerprint(item[0], hashlib.md5(item[1]).digest()))
            if i is not None and not self._confirmed[i]:
                yield item
