"""Deadline continuation against a real S3 server: rounds that add up to one run exactly."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

import lambda_function
from s3_manifest import BadRequest, RunAborted
from tests.integration.test_function import manifest_lines, manifests, put

pytestmark = pytest.mark.integration

PREFIX = "2026/04/"


class PagesContext:
    """A Lambda context with plenty of time until the round has taken ``pages`` pages.

    The handler reads the remaining time once for its hard stop, once to check it can make
    progress, then once after each page: this context answers 60 s until the ``pages``-th page,
    then 0, so every round stops after exactly ``pages`` pages whatever the machine's speed.
    """

    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.calls = 0

    def get_remaining_time_in_millis(self) -> int:
        self.calls += 1
        return 60_000 if self.calls < 2 + self.pages else 0


def run_rounds(event: dict[str, Any], pages: int, limit: int = 50) -> list[dict[str, Any]]:
    """Call the handler, passing each ``next`` back, until ``done`` (the Step Functions loop)."""
    responses = []
    for _ in range(limit):
        response = lambda_function.handler(event, PagesContext(pages))
        responses.append(response)
        if response["done"]:
            return responses
        event = response["next"]
    raise AssertionError(f"not done after {limit} rounds")


def test_rounds_cut_by_the_deadline_add_up_to_one_uninterrupted_run(
    s3_sandbox: Any,
    s3_bucket: str,
    function_env: dict[str, str],
    lambda_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = s3_sandbox.client()
    keys = [f"{PREFIX}r{i:04d}.{'txt' if i % 4 == 3 else 'pdf'}" for i in range(400)]
    put(client, s3_bucket, [*keys, "2026/05/other.pdf"])
    monkeypatch.setenv("PAGE_SIZE", "40")  # 10 pages; 3 a round -> 4 rounds
    event = {"bucket": s3_bucket, "prefix": PREFIX}

    whole = lambda_function.handler(event, None)
    responses = run_rounds(event, pages=3)

    assert len(responses) == 4
    expected = [line["key"] for line in manifest_lines(client, s3_bucket, whole["manifest_key"])]
    assert len(expected) == whole["count"] == 300
    run = responses[0]["run"]
    got: list[str] = []
    for n, response in enumerate(responses, start=1):
        assert response["manifest_key"] == f"manifests/{run}/part-{n:05d}.jsonl"
        assert len(json.dumps(response)) < 1024
        part = manifest_lines(client, s3_bucket, response["manifest_key"])
        assert len(part) == response["part_count"]
        got += [line["key"] for line in part]
    assert got == expected  # no key missing, none twice, same order
    for response, after in itertools.pairwise(responses):
        assert response["done"] is False and response["next"]["part"] == after["part"]
    final = responses[-1]
    assert final["count"] == 300 and final["parts"] == 4 and "next" not in final
    index = json.loads(client.get_object(Bucket=s3_bucket, Key=final["index_key"])["Body"].read())
    assert index["parts"] == [r["manifest_key"] for r in responses]
    assert (index["count"], index["prefix"], index["run"]) == (300, PREFIX, run)
    assert sorted(manifests(client, s3_bucket)) == sorted(
        [whole["manifest_key"], final["index_key"], *(r["manifest_key"] for r in responses)]
    )
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert list(lambda_tmp.iterdir()) == []


def test_a_run_that_fits_is_answered_as_before_with_done_true(
    s3_sandbox: Any, s3_bucket: str, function_env: dict[str, str], lambda_tmp: Path
) -> None:
    put(s3_sandbox.client(), s3_bucket, [f"{PREFIX}a.pdf", f"{PREFIX}b.pdf"])

    response = lambda_function.handler({"bucket": s3_bucket, "prefix": PREFIX}, PagesContext(1))

    assert set(response) == {"count", "bucket", "prefix", "manifest_key", "manifest_url", "done"}
    assert response["done"] is True and response["count"] == 2
    assert response["manifest_key"].count("/") == 1  # manifests/<run>.jsonl, as before


class _Left:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def get_remaining_time_in_millis(self) -> int:
        return self.ms


def test_a_deadline_too_short_for_one_page_is_an_error_not_a_loop(
    s3_sandbox: Any, s3_bucket: str, function_env: dict[str, str], lambda_tmp: Path
) -> None:
    client = s3_sandbox.client()
    put(client, s3_bucket, [f"{PREFIX}a.pdf"])

    with pytest.raises(RunAborted, match="cannot make progress"):
        lambda_function.handler({"bucket": s3_bucket, "prefix": PREFIX}, _Left(1200))

    assert manifests(client, s3_bucket) == [] and list(lambda_tmp.iterdir()) == []


def test_a_next_with_a_missing_field_is_refused_before_any_request(
    s3_sandbox: Any, s3_bucket: str, function_env: dict[str, str]
) -> None:
    event = {"bucket": s3_bucket, "prefix": PREFIX, "start_after": f"{PREFIX}a.pdf", "part": 2}
    with pytest.raises(BadRequest, match="run missing"):
        lambda_function.handler(event, None)
