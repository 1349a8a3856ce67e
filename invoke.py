"""Invoke a Python Lambda handler locally, the way Lambda would, and report what it would bill.

    python invoke.py --event s3 --bucket my-company-reports-bucket --prefix 2026/04/
    python invoke.py --event direct --payload event.json --repeat 3 --json
    python invoke.py --event sfn --follow --timeout 5    # the Step Functions loop, round by round

Prints START / END / REPORT lines (Duration, Billed Duration with INIT on cold starts, Memory
Size, the real peak RSS as Max Memory Used, Init Duration, /tmp peak) and the response.
``--json`` prints one JSON object instead. Exit codes: 0 ok, 1 the handler raised or timed
out, 2 bad arguments or event (including an event Lambda would refuse as too large).

The function talks to the running sandbox (``python -m sandbox up``) by default; ``--target
aws`` gives it credentials from the standard AWS chain and real S3 instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sandbox.events import EVENT_KINDS, make_event
from sandbox.runtime import (
    ConfigError,
    Environment,
    FunctionConfig,
    Invocation,
    PayloadTooLarge,
)
from sandbox.runtime.context import new_request_id
from sandbox.runtime.target import TargetError, aws_env

OK, FAILED, BAD_INPUT = 0, 1, 2


class BadInput(Exception):
    """Arguments or event the runner cannot use (exit 2)."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python invoke.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument("--event", choices=EVENT_KINDS, help="the caller to imitate (default: direct)")
    p.add_argument("--handler", default="lambda_function.handler", help="module.function")
    p.add_argument("--payload", type=Path, help="a JSON file: the event, as is")
    p.add_argument("--bucket", help="bucket the event asks for")
    p.add_argument("--prefix", help="prefix the event asks for")
    p.add_argument("--key", help="s3 event: the object key (default: first PDF under --prefix)")
    p.add_argument("--memory", type=int, default=512, help="MB, 128-10240 (default 512)")
    p.add_argument("--timeout", type=float, default=30, help="seconds, 1-900 (default 30)")
    p.add_argument("--tmp-size", type=int, default=512, help="MB of /tmp, 512-10240")
    p.add_argument(
        "--invocation-type", choices=("RequestResponse", "Event"), default="RequestResponse"
    )
    p.add_argument("--repeat", type=int, default=1, help="invoke N times (1 cold, N-1 warm)")
    p.add_argument("--cold", action="store_true", help="a new execution environment each time")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument(
        "--target",
        choices=("sandbox", "env", "aws", "none"),
        default="sandbox",
        help="sandbox: the running sandbox (default); env: this shell's AWS_* variables\n"
        "(e.g. from `python -m sandbox env`); aws: the AWS credential chain and real S3;\n"
        "none: no endpoint or credentials",
    )
    p.add_argument("--state-dir", help="the sandbox's state directory (default .sandbox)")
    p.add_argument("--task-root", default=os.getcwd(), help="the code's root (default: cwd)")
    p.add_argument("--function-name", default="lambda-local-runner")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument(
        "--follow",
        action="store_true",
        help="run the event through the state machine (--state-machine), invoking the\n"
        "function once per Task round until it ends; prints each REPORT line and totals",
    )
    p.add_argument(
        "--state-machine",
        type=Path,
        help="ASL file for --follow (default statemachine/manifest.asl.json)",
    )
    args = p.parse_args(argv)
    if args.follow and (args.repeat != 1 or args.cold):
        p.error("--follow runs the state machine once; drop --repeat/--cold")
    if args.follow and args.event not in (None, "sfn", "direct"):
        p.error("--follow starts a state machine: use --event sfn (or direct, or --payload)")
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.event and args.payload:
        p.error("give --event or --payload, not both")
    return args


def _function_env(args: argparse.Namespace) -> tuple[dict[str, str], Any]:
    """The env vars that point the function at its S3, and the sandbox (if that is the target)."""
    env: dict[str, str] = {}
    sb = None
    if args.target == "aws":
        env.update(aws_env())
    elif args.target == "env":
        env.update({k: v for k, v in os.environ.items() if k.startswith("AWS_")})
        if "AWS_ACCESS_KEY_ID" not in env:
            raise BadInput("--target env: AWS_ACCESS_KEY_ID is not set in this shell")
    elif args.target == "sandbox":
        from sandbox.core import Sandbox

        sb = Sandbox.attach(args.state_dir)
        if sb is None:
            raise BadInput(
                "no sandbox is recorded: start one with `python -m sandbox up` "
                "(or `make sandbox`), or pass --target aws for real S3"
            )
        env.update(sb.env())
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise BadInput(f"--env expects NAME=VALUE, got {item!r}")
        env[name] = value
    if args.bucket:
        env.setdefault("BUCKET_NAME", args.bucket)
    return env, sb


def _build_event(args: argparse.Namespace, sb: Any, region: str) -> Any:
    if args.payload is not None:
        try:
            return json.loads(args.payload.read_text())
        except (OSError, ValueError) as e:
            raise BadInput(f"cannot read the event from {args.payload}: {e}") from e
    kind = args.event or "direct"
    client = None
    if kind == "s3" and args.target == "env":
        client = _env_client()
    elif kind == "s3" and sb is not None:
        problem = sb.problem()
        if problem is not None:
            raise BadInput(
                f"the recorded sandbox at {sb.endpoint.url} does not answer ({problem}); "
                "run `python -m sandbox up` again"
            )
        client = sb.client()
    try:
        return make_event(
            kind, bucket=args.bucket, prefix=args.prefix, key=args.key, client=client, region=region
        )
    except ValueError as e:
        raise BadInput(str(e)) from e
    except Exception as e:  # botocore errors: no such bucket/key
        raise BadInput(f"cannot describe the object in the S3 event: {e}") from e


def _env_client() -> Any:
    """A boto3 S3 client from this shell's AWS_* variables (path-style for local servers)."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(s3={"addressing_style": "path"}))


def _print_text(inv: Invocation) -> None:
    if inv.status == "timeout":
        print(inv.timeout_line())
    elif inv.error is not None:
        print(f"[ERROR] {inv.error.get('errorType')}: {inv.error.get('errorMessage')}")
        if inv.traceback:
            print(inv.traceback, end="")
    print(inv.end_line())
    print(inv.report_line())
    if inv.invocation_type == "Event":
        print("(Event invocation: Lambda answers the caller 202 and discards this response)")
    print(json.dumps(inv.error if inv.error is not None else inv.response, indent=2))


def run(args: argparse.Namespace) -> int:
    env, sb = _function_env(args)
    region = env.get("AWS_REGION", "us-east-1")
    config = FunctionConfig(
        handler=args.handler,
        function_name=args.function_name,
        memory_mb=args.memory,
        timeout=args.timeout,
        tmp_size_mb=args.tmp_size,
        region=region,
        env=env,
        task_root=str(Path(args.task_root).absolute()),
    )
    results: list[Invocation] = []
    # In --json mode the handler's prints go to stderr so stdout stays one JSON object.
    quiet = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()
    with Environment(config) as lam:
        if args.follow:
            return _follow(args, lam, sb, region, quiet)
        event: Any = None
        for i in range(args.repeat):
            if i > 0 and args.cold:
                lam.reset()
            if lam.needs_init:
                with quiet:
                    lam.init()  # INIT first, as Lambda does, before the runner touches boto3
            if event is None:
                event = _build_event(args, sb, region)
            rid = new_request_id()
            if not args.json:
                print(f"START RequestId: {rid} Version: {config.version}", flush=True)
            with quiet:
                inv = lam.invoke(event, invocation_type=args.invocation_type, request_id=rid)
            results.append(inv)
            if not args.json:
                _print_text(inv)
        tmp_mode, memory_method = lam.tmp_mode, lam.memory_method
    if args.json:
        last = results[-1]
        print(
            json.dumps(
                {
                    "ok": all(r.ok for r in results),
                    "response": last.response,
                    "error": last.error,
                    "invocations": [r.to_dict() for r in results],
                    "tmp_mode": tmp_mode,
                    "memory_method": memory_method,
                    "target": args.target,
                },
                indent=2,
            )
        )
    return OK if all(r.ok for r in results) else FAILED


def _follow(args: argparse.Namespace, lam: Environment, sb: Any, region: str, quiet: Any) -> int:
    from sandbox.stepfunctions import DEFAULT_STATE_MACHINE, AslError, follow

    with quiet:
        lam.init()
    event = _build_event(args, sb, region)
    out = (lambda line: print(line, file=sys.stderr)) if args.json else print
    try:
        with quiet:
            result = follow(
                lam, event, state_machine=args.state_machine or DEFAULT_STATE_MACHINE, out=out
            )
    except AslError as e:
        raise BadInput(str(e)) from e
    if args.json:
        totals = result.totals()
        totals["output"] = result.output
        totals["error"] = result.error
        totals["invocations"] = [i.to_dict() for i in result.invocations]
        print(json.dumps(totals, indent=2))
    else:
        print(json.dumps(result.output, indent=2))
    return OK if result.status == "SUCCEEDED" else FAILED


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)  # exits 2 on bad arguments
    try:
        return run(args)
    except PayloadTooLarge as e:
        print(f"error: {e.detail()}", file=sys.stderr)
    except (BadInput, ConfigError, TargetError) as e:
        print(f"error: {e}", file=sys.stderr)
    return BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
