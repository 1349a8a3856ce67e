"""``python invoke.py --tune 128,256,...``: the options, their checks, and the run.

Kept out of ``invoke.py`` so the invoke CLI stays one screen: it adds these options to its
parser, calls `check_args` after parsing (bad combinations exit 2) and `run_tune` instead of its
own loop when ``--tune`` is given.

Decisions: ``--repeat`` counts warm runs per setting (plus the cold one), default 5 so that the
20% trim drops one at each end; ``--payload`` and ``--event`` work as for one invocation (power
tuning takes a payload too); ``--cold`` and ``--memory`` make no sense here and are refused.
Progress lines and the CPU mode go to stderr, so ``--json`` leaves stdout one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sandbox.runtime import FunctionConfig
from sandbox.tuning.pricing import ARCHES
from sandbox.tuning.runner import TuneError, chart_points, parse_settings, picks, tune
from sandbox.tuning.strategies import STRATEGIES

__all__ = ["DEFAULT_REPEAT", "TuneError", "add_arguments", "check_args", "run_tune"]

DEFAULT_REPEAT = 5


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("power tuning (--tune)")
    g.add_argument(
        "--tune",
        metavar="MB,MB,...",
        help="run at each memory setting (e.g. 128,256,512,1024,1769,3008) with Lambda's CPU\n"
        "share: 1 cold + --repeat warm runs each (default 5); table, picks, JSON, SVG",
    )
    g.add_argument(
        "--strategy",
        default="cost",
        help="the pick to recommend: cost (default), speed or balanced (weight 0.5)",
    )
    g.add_argument("--arch", default="x86_64", help="prices for the picks: x86_64 or arm64")
    g.add_argument(
        "--tune-dir",
        type=Path,
        default=Path("tune"),
        help="where tune.json and tune.svg go (default ./tune)",
    )


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse what makes no sense with --tune (argparse's error: message and exit 2)."""
    given = {"strategy": args.strategy != "cost", "arch": args.arch != "x86_64"}
    if args.tune is None:
        if any(given.values()):
            p.error("--strategy and --arch choose among --tune results: add --tune MB,MB,...")
        return
    try:
        args.tune_settings = parse_settings(args.tune)
    except TuneError as e:
        p.error(str(e))
    if args.strategy not in STRATEGIES:
        p.error(f"--strategy {args.strategy!r} is not one of {', '.join(STRATEGIES)}")
    if args.arch not in ARCHES:
        p.error(f"--arch {args.arch!r} is not one of {', '.join(ARCHES)}")
    if args.cold:
        p.error("--tune already runs one cold start per setting; drop --cold")
    if args.memory is not None:
        p.error("--tune sets the memory of each run; drop --memory")
    if args.cpu == "full":
        p.error("--tune with --cpu full would price the whole machine at every setting")


def run_tune(
    args: argparse.Namespace, config: FunctionConfig, build_event: Callable[[], Any]
) -> int:
    """Tune, print the table and picks (or the JSON), write tune.json and tune.svg."""
    from sandbox.tuning.chart import write_chart
    from sandbox.tuning.report import busy_note, document, picks_lines, table, write_outputs
    from seed.progress import activity, is_terminal

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def live(label: str) -> contextlib.AbstractContextManager[object]:
        return activity(label, sys.stderr)  # a spinner with the elapsed time

    repeat = args.repeat if args.repeat is not None else DEFAULT_REPEAT
    event = build_event()
    load_before = os.getloadavg()[0]
    results = tune(
        replace(config, memory_mb=args.tune_settings[0]),
        event,
        args.tune_settings,
        repeat=repeat,
        progress=progress,
        # On a terminal a live status per setting; otherwise (CI logs) plain lines only.
        activity=live if is_terminal(sys.stderr) else None,
    )
    load = max(load_before, os.getloadavg()[0])
    cores = os.cpu_count() or 1
    chosen = picks(results, args.arch)
    modes = [r.cpu_mode for r in results if r.cpu_mode]
    doc = document(
        results,
        chosen,
        strategy=args.strategy,
        arch=args.arch,
        repeat=repeat,
        handler=config.handler,
        event=event,
        cpu_modes=modes,
    )
    doc["machine"] = {"cores": cores, "load_average_1m": round(load, 2)}
    title = f"{config.handler}: duration and cost vs memory"
    written = write_outputs(
        doc,
        args.tune_dir,
        lambda path: write_chart(
            chart_points(results, args.arch), chosen, path, title=title, arch=args.arch
        ),
    )
    limited = all(m.startswith("cgroup") for m in modes) and bool(modes)
    note = "" if limited else " -- CPU NOT LIMITED: durations are this machine's, not Lambda's"
    busy = busy_note(load, cores)
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(f"CPU: {', '.join(sorted(set(modes))) or '?'}{note}")
        if busy:
            print(busy)
        print(*table(results), sep="\n")
        print()
        print(f"Picks ({args.arch} prices; durations are warm trimmed means):")
        print(*picks_lines(chosen, args.arch), sep="\n")
        pick = chosen.get(args.strategy)
        if pick is not None:
            print(f"Recommended ({args.strategy}): {pick.memory_mb} MB")
    if busy and args.json:
        progress(busy)
    if len(written) == 1:
        progress("no chart: nothing to plot, or matplotlib missing (pip install -e '.[dev]')")
    progress("wrote " + ", ".join(str(p) for p in written))
    return 0 if chosen.get(args.strategy) is not None else 1
