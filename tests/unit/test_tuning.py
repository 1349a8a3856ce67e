"""Power tuning's pure parts: the trimmed mean, the strategies, settings, the table and picks."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.tuning.pricing import invocation_cost
from sandbox.tuning.report import busy_note, picks_lines, table
from sandbox.tuning.runner import SettingResult, TuneError, parse_settings, picks
from sandbox.tuning.strategies import Candidate, pick, trimmed_mean


def test_the_trimmed_mean_drops_the_top_and_bottom_fifth() -> None:
    assert trimmed_mean([1, 2, 3, 4, 100]) == 3  # int(5 * 0.2) = 1 dropped each end
    assert trimmed_mean([10, 1, 2, 3, 4, 5, 6, 7, 8, 1000]) == pytest.approx(5.5)


def test_below_five_runs_nothing_is_trimmed_as_in_power_tuning() -> None:
    assert trimmed_mean([1, 2, 9]) == 4


def test_the_trimmed_mean_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        trimmed_mean([])


CANDIDATES = [
    Candidate(128, 16_000, invocation_cost(128, 16_000)),
    Candidate(512, 3_700, invocation_cost(512, 3_700)),
    Candidate(1769, 950, invocation_cost(1769, 950)),
    Candidate(3008, 930, invocation_cost(3008, 930)),
]


def test_cost_picks_the_cheapest_speed_the_fastest() -> None:
    # The measured sample handler: 1,769 MB is both faster and cheaper than 128 MB.
    assert pick(CANDIDATES, "cost").memory_mb == 1769
    assert pick(CANDIDATES, "speed").memory_mb == 3008


def test_the_three_strategies_can_disagree() -> None:
    three = [Candidate(128, 1000, 1.0), Candidate(512, 300, 1.2), Candidate(1024, 100, 2.0)]
    # balanced: 128 -> .25 + .5; 512 -> .3 + .15; 1024 -> .5 + .05
    assert [pick(three, s).memory_mb for s in ("cost", "speed", "balanced")] == [128, 1024, 512]


def test_balanced_minimises_half_cost_over_max_plus_half_duration_over_max() -> None:
    max_cost = max(c.cost for c in CANDIDATES)
    max_duration = max(c.duration_ms for c in CANDIDATES)
    expected = min(
        CANDIDATES, key=lambda c: 0.5 * c.cost / max_cost + 0.5 * c.duration_ms / max_duration
    )
    assert pick(CANDIDATES, "balanced").memory_mb == expected.memory_mb == 1769


def test_a_cost_tie_goes_to_the_faster_setting() -> None:
    tie = [Candidate(128, 200, 1.0), Candidate(256, 100, 1.0)]
    assert pick(tie, "cost").memory_mb == 256


def test_an_unknown_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="cost, speed, balanced"):
        pick(CANDIDATES, "cheapest")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "needs memory settings"),
        (" , ", "needs memory settings"),
        ("64,128", "64 MB is outside Lambda's range 128-10240"),
        ("128,10241", "10241 MB is outside"),
        ("128,abc", "'abc' is not a whole number"),
        ("256,256", "listed twice"),
    ],
)
def test_bad_settings_are_refused_saying_what_was_wrong(text: str, message: str) -> None:
    with pytest.raises(TuneError, match=message):
        parse_settings(text)


def test_settings_are_sorted() -> None:
    assert parse_settings("1769, 128,512") == (128, 512, 1769)


def _run(ms: float, mem_mb: int = 80, status: str = "ok", init: float | None = None) -> Any:
    return {
        "status": status,
        "duration_ms": ms,
        "billed_duration_ms": int(ms) + 1 + int(init or 0),
        "init_duration_ms": init,
        "max_memory_used_mb": mem_mb,
        "error": None if status == "ok" else {"errorType": "Sandbox.Timedout"},
    }


def _setting(mb: int, warm: list[float], **kw: Any) -> SettingResult:
    runs = [_run(warm[0] * 1.5, init=200.0), *(_run(ms, **kw) for ms in warm)]
    return SettingResult(mb, "cgroup v1", "CPU: ...", mb / 1769, runs)


def test_a_setting_sums_up_its_warm_runs_and_bills_init_on_the_cold_one() -> None:
    r = _setting(512, [100, 110, 120, 130, 900])
    assert r.ok and r.fits
    assert r.median_ms == 120
    assert r.trimmed_ms == pytest.approx(120)  # 100 and 900 dropped
    assert r.billed_ms == pytest.approx(121)  # trimmed mean of the billed (warm) durations
    assert r.init_ms == 200
    cold = r.cold_cost()
    assert cold == pytest.approx(invocation_cost(512, 150, init_ms=200))
    assert cold is not None and cold > (r.cost() or 0)


def test_a_setting_that_does_not_fit_or_failed_is_left_out_of_the_picks() -> None:
    results = [
        _setting(128, [1000, 1000], mem_mb=200),  # uses more than it has
        _setting(256, [400, 400], status="timeout"),
        _setting(1024, [100, 100]),
    ]
    assert results[0].status == "does not fit"
    assert results[1].status == "timeout: Sandbox.Timedout"
    chosen = picks(results)
    assert {p.memory_mb for p in chosen.values() if p} == {1024}


def test_when_nothing_ran_clean_every_pick_says_so() -> None:
    chosen = picks([_setting(128, [10], status="error")])
    assert chosen == {"cost": None, "speed": None, "balanced": None}
    assert all("no setting ran clean" in line for line in picks_lines(chosen, "x86_64"))


def test_the_table_has_a_row_per_setting_with_both_architectures() -> None:
    lines = table([_setting(128, [900, 1000, 1100]), _setting(1769, [90, 100, 110])])
    assert len(lines) == 4  # header, rule, two rows
    assert "x86_64 / 1M" in lines[0] and "arm64 / 1M" in lines[0]
    assert lines[2].startswith("| 128 MB") and "1.000 s" in lines[2]


def test_a_busy_machine_gets_a_warning_and_a_quiet_one_none() -> None:
    assert "load average 9.5 on 2 cores" in busy_note(9.5, 2)
    assert busy_note(1.5, 2) == ""
