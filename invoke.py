"""Invoke a Python Lambda handler locally, the way Lambda would, and report what it would bill.

    python invoke.py --event s3 --bucket my-company-reports-bucket --prefix 2026/04/
    python invoke.py --event direct --payload event.json --repeat 3 --json
    python invoke.py --event s3 --bucket b --prefix p/ --tune 128,256,512,1024,1769,3008
    python invoke.py --event sfn --follow --timeout 5    # the Step Functions loop, round by round

Prints START / END / REPORT lines (Duration, Billed Duration with INIT on cold starts, Memory
Size, the real peak RSS as Max Memory Used, Init Duration, /tmp peak) and the response.
``--json`` prints one JSON object instead. Exit codes: 0 ok, 1 the handler raised or timed
out, 2 bad arguments or event (including an event Lambda would refuse as too large).

The handler gets Lambda's CPU share, --memory / 1769 vCPU (``--cpu full``: the whole machine);
the line before START says how it was applied. ``--tune`` runs the function at each memory
setting and picks one by cost, speed or both (``sandbox.tuning``).

The function talks to the running sandbox (``python -m sandbox up``) when one is recorded and
answers, and otherwise runs with no S3 endpoint (said in one line); ``--target sandbox`` insists
on the sandbox, ``--target aws`` gives it the standard AWS chain and real S3 instead.

    python invoke.py --watch                  # re-invoke (cold) after every source change
    python invoke.py --debug                  # wait for VS Code / debugpy on 127.0.0.1:5678
    python invoke.py --log-format json        # Lambda's JSON log lines and platform records
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

from sandbox.devloop import DEFAULT_DEBUG_PORT, DebuggerError, wait_for_debugger, watch_loop
from sandbox.events import EVENT_KINDS, make_event
from sandbox.runtime import (
    ConfigError,
    Environment,
    FunctionConfig,
    Invocation,
    PayloadTooLarge,
)
from sandbox.runtime._config import INIT_CPU_MODES
from sandbox.runtime.context import new_request_id
from sandbox.runtime.cpu import CPU_MODES
from sandbox.runtime.logformat import (
    LEVELS,
    LOG_FORMAT_ENV,
    LOG_LEVEL_ENV,
    error_line,
    platform_report,
    platform_runtime_done,
    platform_start,
)
from sandbox.runtime.target import TargetError, aws_env
from sandbox.tuning import cli as tuning_cli

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
    p.add_argument("--memory", type=int, help="MB, 128-10240 (default 512)")
    p.add_argument("--timeout", type=float, default=30, help="seconds, 1-900 (default 30)")
    p.add_argument("--tmp-size", type=int, default=512, help="MB of /tmp, 512-10240")
    p.add_argument(
        "--invocation-type", choices=("RequestResponse", "Event"), default="RequestResponse"
    )
    p.add_argument(
        "--repeat", type=int, help="invoke N times (1 cold, N-1 warm); with --tune: N warm"
    )
    p.add_argument("--cold", action="store_true", help="a new execution environment each time")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument(
        "--target",
        choices=("sandbox", "env", "aws", "none"),
        default=None,
        help="default: the recorded sandbox when it answers, else none (said in one line)\n"
        "sandbox: the running sandbox, or fail; env: this shell's AWS_* variables\n"
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
    p.add_argument(
        "--log-format",
        choices=("text", "json"),
        help=f"Lambda's log format for the function's logging and START/END/REPORT\n"
        f"(default: ${LOG_FORMAT_ENV}, else text)",
    )
    p.add_argument(
        "--log-level",
        type=str.upper,
        choices=tuple(LEVELS),
        help=f"the application log level (default: ${LOG_LEVEL_ENV}; INFO for json)",
    )
    p.add_argument(
        "--watch",
        nargs="*",
        metavar="PATH",
        help="invoke again, cold, after every change to the Python files under PATH\n"
        "(default: --task-root); Ctrl-C stops",
    )
    p.add_argument(
        "--debug",
        action="store_true",
        help="wait for a debugger (debugpy / VS Code) on 127.0.0.1 before INIT;\n"
        "the timeout is not enforced while debugging",
    )
    p.add_argument("--debug-port", type=int, default=DEFAULT_DEBUG_PORT, help="(default 5678)")
    p.add_argument(
        "--cpu",
        choices=CPU_MODES,
        default="lambda",
        help="lambda: the handler gets --memory / 1769 vCPU, as on Lambda (default);\n"
        "full: the whole machine, on purpose",
    )
    p.add_argument(
        "--init-cpu",
        choices=INIT_CPU_MODES,
        default="boost",
        help="boost: INIT runs unthrottled on the microVM's vCPUs, as measured on Lambda\n"
        "(default); share: INIT throttled like an invocation",
    )
    tuning_cli.add_arguments(p)
    args = p.parse_args(argv)
    if args.debug and args.watch is not None:
        p.error("--debug and --watch cannot be used together; debug one invocation at a time")
    if args.follow and (args.repeat not in (None, 1) or args.cold):
        p.error("--follow runs the state machine once; drop --repeat/--cold")
    if args.follow and args.event not in (None, "sfn", "direct"):
        p.error("--follow starts a state machine: use --event sfn (or direct, or --payload)")
    if args.follow and (args.tune is not None or args.watch is not None or args.debug):
        p.error("--follow runs the state machine once: not with --tune, --watch or --debug")
    if args.repeat is not None and args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.event and args.payload:
        p.error("give --event or --payload, not both")
    if args.tune is not None and (args.debug or args.watch is not None):
        p.error("--tune runs every setting itself; it cannot be combined with --watch or --debug")
    tuning_cli.check_args(p, args)
    if args.tune is None:
        args.memory = 512 if args.memory is None else args.memory
        args.repeat = 1 if args.repeat is None else args.repeat
    return args


def _function_env(args: argparse.Namespace) -> tuple[dict[str, str], Any, str]:
    """The env vars that point the function at its S3, the sandbox (if that is the target) and
    the target used."""
    env: dict[str, str] = {}
    sb = None
    target = args.target
    if target is None:
        from sandbox.core import Sandbox

        sb = Sandbox.attach(args.state_dir)
        problem = "no sandbox is recorded" if sb is None else sb.problem()
        if sb is not None and problem is None:
            env.update(_sandbox_env(sb))
            target = "sandbox"
        else:
            if sb is not None:
                problem = f"the recorded sandbox at {sb.endpoint.url} does not answer ({problem})"
            print(
                f"note: {problem}; running with no S3 endpoint "
                "(`python -m sandbox up` starts one; --target chooses)",
                file=sys.stderr,
            )
            sb, target = None, "none"
    elif args.target == "aws":
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
        env.update(_sandbox_env(sb))
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise BadInput(f"--env expects NAME=VALUE, got {item!r}")
        env[name] = value
    if args.bucket:
        env.setdefault("BUCKET_NAME", args.bucket)
    _log_env(args, env)
    return env, sb, target


def _sandbox_env(sb: Any) -> dict[str, str]:
    """The sandbox's S3 for the function: through the fault layer when one is on
    (`python -m sandbox faults ...`), whichever way the sandbox was chosen."""
    from sandbox.faults import recorded as recorded_faults

    env = sb.env()
    env["AWS_ENDPOINT_URL_S3"] = recorded_faults.function_endpoint(sb.workdir, sb.endpoint).url
    return env


def _log_env(args: argparse.Namespace, env: dict[str, str]) -> None:
    """Lambda's logging config as the function's env vars (how Lambda hands it to the
    runtime): the flag, else --env, else this shell's variable."""
    fmt = args.log_format or env.get(LOG_FORMAT_ENV) or os.environ.get(LOG_FORMAT_ENV)
    level = args.log_level or env.get(LOG_LEVEL_ENV) or os.environ.get(LOG_LEVEL_ENV)
    if fmt:
        env[LOG_FORMAT_ENV] = "JSON" if fmt.upper() == "JSON" else "Text"
    if level:
        env[LOG_LEVEL_ENV] = level.upper()
    elif env.get(LOG_FORMAT_ENV) == "JSON":
        env[LOG_LEVEL_ENV] = "INFO"  # Lambda's default application level for JSON


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


def _print_text(inv: Invocation, json_logs: bool = False) -> None:
    if json_logs:  # Lambda's JSON format: the platform's records instead of END/REPORT
        if inv.error is not None:
            print(error_line(inv))
        print(platform_runtime_done(inv))
        print(platform_report(inv))
    else:
        _print_lines(inv)
    if inv.invocation_type == "Event":
        print("(Event invocation: Lambda answers the caller 202 and discards this response)")
    print(json.dumps(inv.error if inv.error is not None else inv.response, indent=2))


def _print_lines(inv: Invocation) -> None:
    if inv.status == "timeout":
        print(inv.timeout_line())
    elif inv.error is not None:
        print(f"[ERROR] {inv.error.get('errorType')}: {inv.error.get('errorMessage')}")
        if inv.traceback:
            print(inv.traceback, end="")
    print(inv.end_line())
    print(inv.report_line())


def run(args: argparse.Namespace) -> int:
    env, sb, target = _function_env(args)
    json_logs = env.get(LOG_FORMAT_ENV) == "JSON"
    region = env.get("AWS_REGION", "us-east-1")
    config = FunctionConfig(
        handler=args.handler,
        function_name=args.function_name,
        memory_mb=args.memory if args.memory is not None else args.tune_settings[0],
        timeout=args.timeout,
        tmp_size_mb=args.tmp_size,
        region=region,
        env=env,
        task_root=str(Path(args.task_root).absolute()),
        cpu=args.cpu,
        init_cpu=args.init_cpu,
    )
    if args.tune is not None:
        return tuning_cli.run_tune(args, config, lambda: _build_event(args, sb, region))
    results: list[Invocation] = []
    # In --json mode the handler's prints go to stderr so stdout stays one JSON object.
    quiet = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()
    if args.debug:
        wait_for_debugger(args.debug_port)
    with Environment(config, timeouts=not args.debug) as lam:
        cpu_mode, cpu_line = lam.cpu_mode, lam.cpu_line()
        # Not Lambda's output: stderr when stdout is JSON (--json, or Lambda's JSON log format).
        print(cpu_line, file=sys.stderr if args.json or json_logs else sys.stdout, flush=True)
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
                start = f"START RequestId: {rid} Version: {config.version}"
                print(platform_start(rid, config.version) if json_logs else start, flush=True)
            with quiet:
                inv = lam.invoke(event, invocation_type=args.invocation_type, request_id=rid)
            results.append(inv)
            if not args.json:
                _print_text(inv, json_logs)
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
                    "cpu_mode": cpu_mode,
                    "cpu": cpu_line,
                    "target": target,
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


def _run_checked(args: argparse.Namespace) -> int:
    try:
        return run(args)
    except PayloadTooLarge as e:
        print(f"error: {e.detail()}", file=sys.stderr)
    except (BadInput, ConfigError, TargetError, DebuggerError, tuning_cli.TuneError) as e:
        print(f"error: {e}", file=sys.stderr)
    return BAD_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)  # exits 2 on bad arguments
    if args.watch is not None:
        try:
            return watch_loop(
                lambda: _run_checked(args),
                args.watch or [args.task_root],
                extra_files=[args.payload] if args.payload else [],
            )
        except FileNotFoundError as e:
            print(f"error: {e}", file=sys.stderr)
            return BAD_INPUT
    return _run_checked(args)


if __name__ == "__main__":
    sys.exit(main())
