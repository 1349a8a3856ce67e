"""Fault rules and specs without any server: which requests a rule picks, S3's error body,
which engine a fault goes to, and the CLI's refusal of bad arguments."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from sandbox.faults import Rule, RuleError, Toxic, bandwidth, latency, reset, slowdown, timeout
from sandbox.faults.cli import main as faults_cli
from sandbox.faults.rules import classify, error_body


@pytest.mark.parametrize(
    ("method", "target", "kind"),
    [
        ("GET", "/bucket?list-type=2&prefix=2026%2F04%2F&encoding-type=url", "list"),
        ("GET", "/bucket?list-type=2&continuation-token=abc", "list"),
        ("GET", "/bucket", "list"),
        ("GET", "/bucket?location", "other"),
        ("GET", "/bucket/2026/04/a.pdf", "get"),
        ("HEAD", "/bucket/key", "head"),
        ("PUT", "/bucket/manifests/x.jsonl", "put"),
        ("PUT", "/bucket/key?partNumber=1&uploadId=u", "put"),
        ("POST", "/bucket/key?uploads", "post"),
        ("POST", "/bucket?delete", "post"),
        ("DELETE", "/bucket/key", "delete"),
        ("GET", "/", "other"),
    ],
)
def test_requests_are_classified_by_method_and_path_style_target(
    method: str, target: str, kind: str
) -> None:
    assert classify(method, target) == kind


def test_every_and_count_pick_the_first_count_of_every_every_requests() -> None:
    rule = slowdown(on="list", every=5, count=2)
    picked = [rule.fires("list") for _ in range(12)]
    assert picked == [True, True, False, False, False] * 2 + [True, True]
    assert (rule.seen, rule.fired) == (12, 6)


def test_nth_picks_one_request_and_other_kinds_are_not_counted() -> None:
    rule = reset(after_bytes=10, on="list", nth=3)
    assert isinstance(rule, Rule)
    seen = [rule.fires(kind) for kind in ("list", "get", "list", "put", "list", "list")]
    assert seen == [False, False, False, False, True, False]
    assert rule.seen == 4


def test_a_rule_without_a_selector_picks_every_matching_request() -> None:
    rule = slowdown()
    assert all(rule.fires(kind) for kind in ("list", "get", "put", "other"))


def test_the_error_body_is_s3s_xml_with_code_message_and_request_id() -> None:
    root = ET.fromstring(error_body("SlowDown", "Please reduce your request rate.", "/b", "ID1"))
    assert root.tag == "Error"
    assert root.findtext("Code") == "SlowDown"
    assert root.findtext("Message") == "Please reduce your request rate."
    assert root.findtext("RequestId") == "ID1"


def test_a_reset_without_a_selector_is_a_toxiproxy_fault_and_with_one_a_shim_rule() -> None:
    tcp = reset(after_bytes=4096)
    assert isinstance(tcp, Toxic) and tcp.type == "limit_data"
    assert tcp.attributes == {"bytes": 4096}
    peer = reset(after_ms=100)
    assert isinstance(peer, Toxic) and peer.type == "reset_peer"
    upload = reset(after_bytes=0, on="put", nth=1)
    assert isinstance(upload, Rule) and upload.during == "request"
    listing = reset(after_bytes=10, on="list", every=3)
    assert isinstance(listing, Rule) and listing.during == "response"


def test_tcp_faults_map_to_toxiproxy_toxics() -> None:
    assert latency(40, 10).to_json()["attributes"] == {"latency": 40, "jitter": 10}
    assert bandwidth(256).to_json()["attributes"] == {"rate": 256}
    assert timeout().to_json()["attributes"] == {"timeout": 0}


@pytest.mark.parametrize(
    "make",
    [
        lambda: slowdown(nth=0),
        lambda: slowdown(nth=2, every=3),
        lambda: slowdown(every=3, count=4),
        lambda: Rule(on="nonsense"),  # type: ignore[arg-type]
        lambda: Rule(status=200),
        lambda: reset(),
        lambda: reset(after_bytes=1, after_ms=1),
        lambda: reset(after_ms=5, on="list"),
        lambda: bandwidth(0),
        lambda: latency(-1),
        lambda: Rule.from_json({"action": "error", "colour": "red"}),
    ],
)
def test_impossible_faults_are_refused_with_a_reason(make: object) -> None:
    with pytest.raises(RuleError):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    "argv",
    [
        ["add", "latency"],
        ["add", "latency", "--ms", "soon"],
        ["add", "bandwidth", "--kbps", "0"],
        ["add", "slowdown", "--nth", "2", "--every", "5"],
        ["add", "reset"],
        ["add", "warp"],
    ],
)
def test_the_cli_exits_2_on_bad_arguments_before_touching_a_sandbox(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        raise SystemExit(faults_cli(argv))
    assert info.value.code == 2
