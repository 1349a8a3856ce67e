"""Keys, noise and ground truth: deterministic, and following the function's listing rule."""

from __future__ import annotations

import hashlib

import pytest

from seed import expected_keys, is_expected
from seed.documents import DocumentFactory
from seed.options import SeedOptions, SizeRange
from seed.plan import SKIPPED_NAMES, SPECIAL_PDF_NAMES, Plan, neighbour_prefixes


def digest_of_plan(options: SeedOptions) -> tuple[list[str], str]:
    factory = DocumentFactory(options.seed, options.sizes)
    h = hashlib.sha256()
    keys = []
    for spec in Plan(options).specs():
        keys.append(spec.key)
        h.update(factory.body(spec))
    return keys, h.hexdigest()


def test_the_same_seed_gives_the_same_keys_and_bytes() -> None:
    options = SeedOptions(count=120, seed=42, noise=0.3)
    assert digest_of_plan(options) == digest_of_plan(options)


def test_bytes_do_not_depend_on_the_order_objects_are_made_in() -> None:
    options = SeedOptions(count=30, seed=5)
    specs = list(Plan(options).specs())
    forward = [DocumentFactory(5, options.sizes).body(s) for s in specs]
    backward = [DocumentFactory(5, options.sizes).body(s) for s in reversed(specs)]
    assert forward == backward[::-1]


def test_another_seed_gives_other_bytes_for_the_same_keys() -> None:
    keys_a, bytes_a = digest_of_plan(SeedOptions(count=40, seed=1))
    keys_b, bytes_b = digest_of_plan(SeedOptions(count=40, seed=2))
    assert bytes_a != bytes_b
    assert keys_a == keys_b


@pytest.mark.parametrize(
    ("key", "listed"),
    [
        ("2026/04/report.pdf", True),
        ("2026/04/REPORT.PDF", True),
        ("2026/04/Mixed.Pdf", True),
        ("2026/04/archive/deep/x.pdf", True),
        ("2026/04/with space ü+%#?=.pdf", True),
        ("2026/04/report.pdf.bak", False),
        ("2026/04/report.pdfx", False),
        ("2026/04/pdf", False),
        ("2026/04/pdf-notes.txt", False),
        ("2026/04/scans.pdf/index.txt", False),
        ("2026/03/report.pdf", False),
        ("2026/04.pdf", False),
        ("2026/04-old/report.pdf", False),
        ("manifests/2026/04/report.pdf", False),
    ],
)
def test_the_ground_truth_rule_matches_the_function(key: str, listed: bool) -> None:
    assert is_expected(key, "2026/04/") is listed


def test_manifests_are_skipped_even_when_the_prefix_is_the_whole_bucket() -> None:
    assert not is_expected("manifests/run.pdf", "")
    assert is_expected("reports/run.pdf", "")


@pytest.mark.parametrize("count", [0, 1, 11, 12, 13, 500])
@pytest.mark.parametrize("noise", [0.0, 0.05, 2.0])
def test_count_is_the_number_of_keys_the_function_should_list(count: int, noise: float) -> None:
    keys = expected_keys(SeedOptions(count=count, noise=noise))
    assert len(keys) == count
    assert keys == sorted(keys)
    assert len(set(keys)) == count


def test_without_noise_only_regular_pdfs_are_written() -> None:
    plan = Plan(SeedOptions(count=50, noise=0))
    specs = list(plan.specs())
    assert len(specs) == 50
    assert all(is_expected(s.key, "2026/04/") and s.key.endswith(".pdf") for s in specs)
    assert all("/" not in s.key.removeprefix("2026/04/") for s in specs)


def test_noise_exercises_every_rule_at_least_once() -> None:
    prefix = "2026/04/"
    plan = Plan(SeedOptions(count=100, noise=0.01, prefix=prefix))
    keys = {s.key for s in plan.specs()}
    listed = set(expected_keys(plan.options))
    for name in SPECIAL_PDF_NAMES:
        assert prefix + name in listed
    for name, _ in SKIPPED_NAMES:
        assert prefix + name in keys and prefix + name not in listed
    skipped = keys - listed
    assert any(k.endswith(".txt") for k in skipped)
    assert any(k.endswith(".csv") for k in skipped)
    assert any(k.endswith(".pdf.bak") for k in skipped)
    assert any(k.startswith("2026/03/") and k.endswith(".pdf") for k in skipped)
    assert any(k.startswith("2026/05/") and k.endswith(".pdf") for k in skipped)
    assert "2026/04.pdf" in skipped
    assert "manifests/previous-run.pdf" in skipped
    assert any(k.endswith(".PDF") for k in listed)
    assert any(k.count("/") > 2 for k in listed)  # a nested subfolder
    for char in " +%#?=":
        assert any(char in k for k in listed), char
        assert any(char in k for k in skipped), char
    assert any(not k.isascii() for k in listed) and any(not k.isascii() for k in skipped)


def test_noise_fraction_sets_the_number_of_noise_objects() -> None:
    plan = Plan(SeedOptions(count=1000, noise=0.5))
    assert len(plan) - 1000 == 500
    noise = [s for s in plan.specs() if not is_expected(s.key, "2026/04/")]
    assert len(noise) == 500
    assert len({s.key for s in plan.specs()}) == len(plan)


def test_extra_noise_lands_in_the_neighbouring_months() -> None:
    plan = Plan(SeedOptions(count=600, noise=0.5))
    keys = [s.key for s in plan.specs()]
    assert sum(k.startswith("2026/03/") for k in keys) > 10
    assert sum(k.startswith("2026/05/") for k in keys) > 10


@pytest.mark.parametrize(
    ("prefix", "neighbours"),
    [
        ("2026/04/", ("2026/03/", "2026/05/", "2026/04-old/")),
        ("2026/01/", ("2025/12/", "2026/02/", "2026/01-old/")),
        ("r/2025/12/", ("r/2025/11/", "r/2026/01/", "r/2025/12-old/")),
        ("reports/", ("reports-previous/", "reports-next/", "reports-old/")),
        ("", ()),
        ("2026/04", ()),
    ],
)
def test_neighbour_prefixes_sit_next_to_the_prefix(prefix: str, neighbours: tuple) -> None:
    assert neighbour_prefixes(prefix) == neighbours
    for n in neighbours:
        assert not n.startswith(prefix)


@pytest.mark.parametrize("prefix", ["", "reports/", "2026/04", "a b/ü/"])
def test_any_prefix_gives_a_consistent_ground_truth(prefix: str) -> None:
    options = SeedOptions(count=40, noise=0.5, prefix=prefix)
    keys = [s.key for s in Plan(options).specs()]
    assert len(keys) == len(set(keys))
    assert len(expected_keys(options)) == 40


def test_listing_roots_cover_every_planned_key() -> None:
    plan = Plan(SeedOptions(count=200, noise=0.5))
    roots = plan.listing_roots()
    assert "2026/04/" in roots
    for key in plan.all_keys():
        assert any(key.startswith(r) for r in roots), key


def test_key_numbers_widen_for_large_counts() -> None:
    plan = Plan(SeedOptions(count=2_000_000, noise=0))
    assert plan.width == 7
    first = next(iter(plan.all_keys()))
    assert first.endswith("-0000000.pdf")


def test_sizes_are_part_of_the_determinism() -> None:
    small = SeedOptions(count=5, sizes=SizeRange(4_096, 4_096))
    large = SeedOptions(count=5, sizes=SizeRange(65_536, 65_536))
    assert digest_of_plan(small)[0] == digest_of_plan(large)[0]
    assert digest_of_plan(small)[1] != digest_of_plan(large)[1]
