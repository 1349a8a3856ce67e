"""Progress: a rich bar with rate and ETA on a terminal, quiet periodic lines otherwise."""

from __future__ import annotations

import io
import re

from seed.progress import LineProgress, NullProgress, TerminalProgress, activity, make_progress

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


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


def test_the_bar_shows_label_count_percent_rate_and_eta() -> None:
    clock, out = Clock(), Tty()
    bar = TerminalProgress(out, clock=clock, width=10)
    bar.start(1000, "seed")
    clock.now += 2.0
    bar.advance(500)
    bar.finish()
    text = ANSI.sub("", out.getvalue())
    final = [line for line in text.replace("\r", "\n").splitlines() if "500/1000" in line]
    assert final, text
    assert re.search(r"seed .*500/1000\s+50%\s+250 obj/s\s+ETA 0:02", final[-1]), final[-1]
    assert text.endswith("\n")  # the finished bar stays, on its own line


def test_the_bar_redraws_at_most_ten_times_a_second() -> None:
    clock, out = Clock(), Tty()
    bar = TerminalProgress(out, clock=clock)
    bar.start(10_000, "seed")
    for _ in range(10_000):
        clock.now += 0.001
        bar.advance()
    assert 90 <= bar.redraws <= 110


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


def test_a_long_step_off_a_terminal_says_a_plain_line_every_interval() -> None:
    clock, out = Clock(), io.StringIO()
    with activity("minio: building", out, interval=10.0, clock=clock) as update:
        for n in range(1, 31):
            clock.now += 1.0
            update(f"{n} packages")
    assert out.getvalue().splitlines() == [
        "minio: building: 10 packages (10s)",
        "minio: building: 20 packages (20s)",
        "minio: building: 30 packages (30s)",
    ]


def test_a_long_step_on_a_terminal_shows_a_spinner_and_clears_it() -> None:
    out = Tty()
    with activity("minio: building", out) as update:
        update("42 packages")
    assert "minio: building" in ANSI.sub("", out.getvalue())
