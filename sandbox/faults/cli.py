"""``python -m sandbox faults``: on | off | add KIND | remove NAME | list | clear.

::

    python -m sandbox faults add latency --ms 40 --jitter 10
    python -m sandbox faults add reset --after-bytes 4096                  # every connection
    python -m sandbox faults add reset --after-bytes 4096 --on list --nth 3   # one request
    python -m sandbox faults add bandwidth --kbps 256
    python -m sandbox faults add timeout [--ms 0]
    python -m sandbox faults add slowdown --on list --every 5 --count 2
    python -m sandbox faults add error --status 500 --code InternalError --on put --nth 1
    python -m sandbox faults list | clear | off

``add`` starts the fault layer in front of the running sandbox when it is off. Then
``eval "$(python -m sandbox env)"`` points the function through it (``AWS_ENDPOINT_URL_S3``)
while ``SANDBOX_DIRECT_ENDPOINT_S3`` keeps the server itself for the seeder.
Exit codes: 0 done, 1 the sandbox could not do it, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from sandbox import state as state_mod
from sandbox.backends._base import SandboxError
from sandbox.faults import recorded
from sandbox.faults.rules import REQUEST_KINDS, RuleError
from sandbox.faults.spec import Fault, bandwidth, error, latency, reset, slowdown, timeout

__all__ = ["main"]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _selector(p: argparse.ArgumentParser, *, default_on: str | None) -> None:
    p.add_argument(
        "--on",
        choices=REQUEST_KINDS,
        default=default_on,
        help="which S3 requests (list = ListObjects, put = PutObject/UploadPart, ...)",
    )
    p.add_argument("--nth", type=int, help="only the Nth matching request (from 1)")
    p.add_argument("--every", type=int, help="with --count: the first COUNT of every EVERY")
    p.add_argument("--count", type=int, default=1)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox faults",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--state-dir", type=Path, default=None)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("on", help="start the fault layer (no faults yet)")
    sub.add_parser("off", help="stop the fault layer (down does too)")
    listing = sub.add_parser("list", help="the faults switched on, with counters")
    listing.add_argument("--json", action="store_true")
    sub.add_parser("clear", help="switch every fault off (the layer keeps running)")
    remove = sub.add_parser("remove", help="switch one fault off")
    remove.add_argument("name")

    add = sub.add_parser("add", help="switch a fault on").add_subparsers(
        dest="kind", required=True, metavar="KIND"
    )
    p = add.add_parser("latency", help="delay every response (TCP, Toxiproxy)")
    p.add_argument("--ms", type=int, required=True)
    p.add_argument("--jitter", type=int, default=0)
    p.add_argument("--upstream", action="store_true", help="delay requests instead")
    p = add.add_parser("bandwidth", help="cap throughput (TCP, Toxiproxy)")
    p.add_argument("--kbps", type=int, required=True, help="kilobytes per second (KB/s)")
    p = add.add_parser("timeout", help="stop all data; close after --ms (0: never) (TCP)")
    p.add_argument("--ms", type=int, default=0)
    p = add.add_parser(
        "reset",
        help="drop connections: every one after N bytes or T ms (TCP), or the picked "
        "requests after N body bytes (with --on/--nth/--every: HTTP shim, RST)",
    )
    p.add_argument("--after-bytes", type=int)
    p.add_argument("--after-ms", type=int)
    p.add_argument("--during", choices=("request", "response"))
    _selector(p, default_on=None)
    for name, what in (("slowdown", "503 SlowDown"), ("internal-error", "500 InternalError")):
        p = add.add_parser(name, help=f"answer {what} with S3's XML body (HTTP shim)")
        _selector(p, default_on="any")
    p = add.add_parser("error", help="answer any S3 error (HTTP shim)")
    p.add_argument("--status", type=int, required=True)
    p.add_argument("--code", required=True, help="S3 error code, e.g. InternalError")
    p.add_argument("--message", default="")
    _selector(p, default_on="any")
    for p in add.choices.values():
        p.add_argument("--json", action="store_true", help="print the fault as JSON")
    return parser


def _fault(args: argparse.Namespace) -> Fault:
    kind = args.kind
    if kind == "latency":
        return latency(args.ms, args.jitter, stream="upstream" if args.upstream else "downstream")
    if kind == "bandwidth":
        return bandwidth(args.kbps)
    if kind == "timeout":
        return timeout(args.ms)
    select = {"on": args.on, "nth": args.nth, "every": args.every, "count": args.count}
    if kind == "reset":
        return reset(args.after_bytes, after_ms=args.after_ms, during=args.during, **select)
    if kind == "slowdown":
        return slowdown(**select)
    if kind == "internal-error":
        return error(500, "InternalError", **select)
    return error(args.status, args.code, message=args.message, **select)


def _sandbox_and_dir(state_dir: Path | None) -> tuple[object, Path]:
    from sandbox.core import Sandbox

    sdir = (state_dir or state_mod.default_state_dir()).absolute()
    sb = Sandbox.attach(sdir)
    recorded_state = state_mod.load(sdir)
    if sb is None or recorded_state is None or not recorded_state.running:
        raise SandboxError(
            f"no running sandbox recorded in {sdir}; start one with `python -m sandbox up`"
        )
    return sb, sdir


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        fault = _fault(args) if args.command == "add" else None
    except RuleError as e:
        parser.print_usage(sys.stderr)
        _say(f"error: {e}")
        return 2
    try:
        return _run(args, fault)
    except SandboxError as e:
        _say(f"error: {e}")
        return 1


def _run(args: argparse.Namespace, fault: Fault | None) -> int:
    sb, sdir = _sandbox_and_dir(args.state_dir)
    upstream = sb.endpoint  # type: ignore[attr-defined]
    if args.command == "off":
        stopped = recorded.stop(sdir, upstream)
        print("fault layer stopped" if stopped else "the fault layer was not on")
        return 0
    if args.command in ("on", "add"):
        layer, new = recorded.start(sdir, upstream, report=_say)
        if new:
            _say(
                f"fault layer on at {layer.handle.url}; route the function through it with "
                'eval "$(python -m sandbox env)"'
            )
        if fault is not None:
            name = layer.add(fault)
            if args.json:
                print(json.dumps({"name": name, "fault": fault.describe()}))
            else:
                print(f"added {name}: {fault.describe()}")
        elif not new:
            print(f"fault layer already on at {layer.handle.url}")
        return 0
    layer_or_none = recorded.attach(sdir, upstream)
    if layer_or_none is None:
        if args.command == "list":
            print("[]" if args.json else "the fault layer is off")
            return 0
        raise SandboxError("the fault layer is off; `python -m sandbox faults add ...` starts it")
    layer = layer_or_none
    if args.command == "clear":
        layer.clear()
        print("every fault switched off")
    elif args.command == "remove":
        layer.remove(args.name)
        print(f"removed {args.name}")
    elif args.command == "list":
        faults = layer.faults()
        if args.json:
            print(json.dumps(faults, indent=2))
        elif not faults:
            print(f"fault layer on at {layer.handle.url}; no faults switched on")
        else:
            for f in faults:
                counters = f" (seen {f['seen']}, fired {f['fired']})" if "fired" in f else ""
                print(f"{f['name']:22} {f['engine']:9} {f['fault']}{counters}")
    return 0
