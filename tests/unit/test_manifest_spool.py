"""The /tmp spool: streamed lines, and nothing left behind in any case."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3_manifest.manifest import ManifestSpool, TmpFull, _translate, entry_line, line


def test_spool_writes_one_json_line_per_record_and_removes_the_file(tmp_path: Path) -> None:
    with ManifestSpool("run-1", str(tmp_path)) as spool:
        spool.write({"key": "2026/04/é + %.pdf", "size": 3})
        spool.write({"key": "b.pdf", "size": 4})
        size = spool.finish()
        lines = spool.path.read_text(encoding="utf-8").splitlines()
        assert size == spool.path.stat().st_size
    assert [json.loads(line)["key"] for line in lines] == ["2026/04/é + %.pdf", "b.pdf"]
    assert spool.lines == 2
    assert list(tmp_path.iterdir()) == []


def test_spool_is_removed_when_the_run_fails(tmp_path: Path) -> None:
    with (
        pytest.raises(RuntimeError, match="listing broke"),
        ManifestSpool("run-2", str(tmp_path)) as spool,
    ):
        spool.write({"key": "a.pdf"})
        raise RuntimeError("listing broke")
    assert not spool.path.exists()
    assert list(tmp_path.iterdir()) == []


def test_spool_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "same.jsonl").write_text("someone else's\n")
    with pytest.raises(FileExistsError), ManifestSpool("same", str(tmp_path)):
        pass
    assert (tmp_path / "same.jsonl").read_text() == "someone else's\n"


def test_a_full_temp_dir_becomes_an_error_that_says_what_to_raise(tmp_path: Path) -> None:
    error = _translate(OSError(errno.ENOSPC, "No space left on device"), tmp_path / "x.jsonl")
    assert isinstance(error, TmpFull) and error.errno == errno.ENOSPC
    assert "ephemeral storage" in str(error)
    other = OSError(errno.EIO, "I/O error")
    assert _translate(other, tmp_path / "x.jsonl") is other


# Any text a key, an ETag or a URL can hold (control characters, quotes, backslashes, astral
# characters), sizes past 2**63, LastModified present or not.
_text = st.text(st.characters(codec="utf-8"), max_size=40)


@given(
    key=_text,
    size=st.integers(min_value=0, max_value=2**70),
    etag=_text,
    modified=st.none() | _text,
    url=_text,
)
def test_entry_line_is_the_same_text_as_the_generic_line(
    key: str, size: int, etag: str, modified: str | None, url: str
) -> None:
    record = {"key": key, "size": size, "etag": etag, "last_modified": modified, "url": url}
    assert entry_line(key, size, etag, modified, url) == line(record)
    assert json.loads(entry_line(key, size, etag, modified, url)) == record


def test_entry_line_escapes_what_json_must() -> None:
    text = entry_line('a"b\\c\n\x00é.pdf', 3, '"abc-2"', None, "http://h/a?b=c&d=%2F")
    assert text == (
        '{"key":"a\\"b\\\\c\\n\\u0000é.pdf","size":3,"etag":"\\"abc-2\\"",'
        '"last_modified":null,"url":"http://h/a?b=c&d=%2F"}\n'
    )
