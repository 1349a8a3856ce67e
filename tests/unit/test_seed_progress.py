"""Progress: a bar with rate and ETA on a terminal, quiet periodic lines otherwise."""

from __future__ import annotations

import io

from seed.progress import LineProgress, NullProgress, TerminalProgress, make_progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_and_a_pipe_gets_lines() -> None:
    assert isinstance(make_progress(Tty()), TerminalProgress)
    assert isinstance(make_progress(io.StringIO()), LineProgress)
    assert isinstance(make_progress(Tty(), enabled=False), NullProgress)


def test_the_bar_shows_count_percent_rate_and_eta() -> None:
    clock, out = Clock(), Tty()
    bar = TerminalProgress(out, clock=clock, width=10)
    bar.start(1000, "seed")
    clock.now += 2.0
    bar.advance(500)
    bar.finish()
    frames = out.getvalue().split("\r\x1b[K")
    assert "seed  [#####-----]  500/1000   50%  250 obj/s  ETA 0:02" in frames
    assert out.getvalue().endswith("\n")


def test_the_bar_redraws_at_most_ten_times_a_second() -> None:
    clock, out = Clock(), Tty()
    bar = TerminalProgress(out, clock=clock)
    bar.start(10_000, "seed")
    for _ in range(10_000):
        clock.now += 0.001
        bar.advance()
    assert 90 <= out.getvalue().count("\r") <= 110


def test_lines_come_every_few_seconds_without_control_characters() -> None:
    clock, out = Clock(), io.StringIO()
    lines = LineProgress(out, clock=clock, interval=5.0)
    lines.start(100, "seed")
    for _ in range(100):
        clock.now += 0.5
        lines.advance()
    lines.finish()
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    rows = text.splitlines()
    assert rows[0] == "seed: 0/100 objects (0%), 0 obj/s, eta ?"
    assert rows[-1] == "seed: 100/100 objects (100%), 2 obj/s, eta 0:00"
    assert 10 <= len(rows) <= 12


def test_an_empty_run_still_reports_once_when_finished() -> None:
    out = io.StringIO()
    lines = LineProgress(out, clock=Clock())
    lines.start(0, "seed")
    lines.finish()
    assert out.getvalue().splitlines() == ["seed: 0/0 objects (100%), 0 obj/s, eta ?"]
