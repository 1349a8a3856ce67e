"""The continuation rules without a server: the margin, the ``next`` fields, the part keys."""

from __future__ import annotations

import pytest

from s3_manifest.continuation import (
    DeadlineRule,
    Resume,
    index_key,
    next_event,
    parse_resume,
    part_key,
)
from s3_manifest.multipart import MIN_PART_SIZE, PartSpool
from s3_manifest.requests import BadRequest, parse_event
from s3_manifest.settings import ConfigError, Settings


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_margin_is_safety_plus_finish_plus_three_slowest_pages() -> None:
    clock, left = Clock(), [10_000]
    rule = DeadlineRule(lambda: left[0], clock=clock)
    clock.now = 0.2  # a 200 ms page
    assert rule.should_stop() is False
    clock.now = 0.3  # a faster page does not lower the margin
    assert rule.should_stop() is False
    assert rule.margin_ms() == pytest.approx(500 + 1000 + 3 * 200)
    left[0] = 2_099
    clock.now = 0.4
    assert rule.should_stop() is True and rule.stopped_with_ms == 2_099
    assert rule.pages == 3


def test_a_round_that_cannot_finish_one_page_is_refused_at_the_start() -> None:
    with pytest.raises(ValueError, match="needs at least 1500 ms"):
        DeadlineRule(lambda: 1_499).check_start()
    DeadlineRule(lambda: 1_500).check_start()


def test_next_passed_back_parses_into_the_same_resume() -> None:
    nxt = next_event("bkt", "2026/04/", "2026/04/k.pdf", "run-1", 3, 41_000)
    assert parse_resume(nxt, "2026/04/") == Resume("run-1", 3, "2026/04/k.pdf", 41_000)
    request = parse_event(nxt, Settings()).requests[0]
    assert request.resume == Resume("run-1", 3, "2026/04/k.pdf", 41_000)
    assert parse_event({"bucket": "bkt", "prefix": "p/"}, Settings()).requests[0].resume is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"run": None}, "run missing"),
        ({"part": 1}, "'part' must be a whole number from 2"),
        ({"part": True}, "'part' must be a whole number"),
        ({"run": "../etc"}, "'run' must be a run id"),
        ({"start_after": "2026/05/x.pdf"}, "under the prefix"),
        ({"count_so_far": -1}, "'count_so_far'"),
    ],
)
def test_a_damaged_next_is_a_bad_request_saying_what(change: dict, message: str) -> None:
    event = {**next_event("bkt", "2026/04/", "2026/04/k.pdf", "run-1", 2, 5), **change}
    event = {k: v for k, v in event.items() if v is not None}
    with pytest.raises(BadRequest, match=message):
        parse_event(event, Settings())


def test_parts_and_the_index_live_under_the_run() -> None:
    assert part_key("manifests/", "r", 12) == "manifests/r/part-00012.jsonl"
    assert index_key("manifests/", "r") == "manifests/r/index.json"


def test_a_part_size_under_s3s_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="5242880-byte minimum"):
        PartSpool(None, "b", "k", run_id="r", part_size=MIN_PART_SIZE - 1)
    with pytest.raises(ConfigError, match="MANIFEST_PART_MB must be between 5"):
        Settings.from_env({"MANIFEST_PART_MB": "4"})
    assert Settings.from_env({"MANIFEST_PART_MB": "6"}).part_size == 6 * 1024 * 1024
