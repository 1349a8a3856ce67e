"""``python -m sandbox``: up | status | env | down | logs | ensure-minio (and event, run, faults).

Exit codes: 0 done, 1 the sandbox could not do it (message on stderr), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sandbox import state as state_mod
from sandbox.backends import BACKEND_NAMES, SandboxError
from sandbox.core import DEFAULT_REGION, DEFAULT_TIMEOUT, Sandbox
from sandbox.runtime._config import ConfigError

#: Subcommands implemented elsewhere, imported only when used: name -> "module:function(argv)".
_DELEGATED = {
    "event": "sandbox.events:cli",
    "run": "sandbox.main_job:main",
    "faults": "sandbox.faults.cli:main",
}


class _Say:
    """Messages to stderr; long steps (a MinIO build) as a live status (rich, on a terminal)."""

    def __call__(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def activity(self, label: str) -> contextlib.AbstractContextManager[Callable[[str], None]]:
        from seed.progress import activity

        return activity(label, sys.stderr)


_say = _Say()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help=f"where the state lives (default ${state_mod.STATE_DIR_ENV} or ./.sandbox)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="start a local S3 server, or reuse the healthy running one")
    up.add_argument("--backend", choices=BACKEND_NAMES, default="auto")
    up.add_argument("--region", default=DEFAULT_REGION)
    up.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="readiness timeout (s)")
    up.add_argument("--endpoint", help="external backend: the S3 URL (default: AWS S3)")
    up.add_argument("--profile", help="external backend: the AWS profile for credentials")
    up.add_argument("--json", action="store_true", help="print the result as JSON")
    up.add_argument(
        "--no-service", action="store_true", help="S3 only: no local Lambda service, no triggers"
    )
    up.add_argument(
        "--idle-timeout",
        type=float,
        default=300.0,
        help="service: reap environments idle this long (s)",
    )
    up.add_argument(
        "--max-environments",
        type=int,
        default=16,
        help="service: environments at once, all functions",
    )

    status = sub.add_parser("status", help="show the recorded sandbox and whether it serves")
    status.add_argument("--show-credentials", action="store_true")
    status.add_argument("--json", action="store_true")

    env = sub.add_parser("env", help='shell export lines: eval "$(python -m sandbox env)"')
    env.add_argument(
        "--direct", action="store_true", help="the S3 server itself, even when faults are on"
    )

    down = sub.add_parser(
        "down",
        help="stop the sandbox; its data and credentials stay for the next `up` (--purge removes)",
    )
    keep_or_purge = down.add_mutually_exclusive_group()
    keep_or_purge.add_argument(
        "--purge",
        action="store_true",
        help="also remove the data, the credentials and (docker) the volume",
    )
    keep_or_purge.add_argument(
        "--keep-data", action="store_true", help="keep data and credentials (the default)"
    )

    logs = sub.add_parser("logs", help="a function's log (START, output, END, REPORT)")
    logs.add_argument("function", nargs="?", help="default: the project's only function")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.add_argument("--failed", action="store_true", help="async events given up on (JSONL)")

    sub.add_parser("ensure-minio", help="find or build (go install) the pinned MinIO binary")
    for name, target in _DELEGATED.items():
        sub.add_parser(
            name, help=f"see `python -m sandbox {name} --help` ({target})", add_help=False
        )
    return parser


def _describe(sb: Sandbox, *, show_credentials: bool, problem: str | None) -> dict[str, object]:
    e = sb.endpoint
    info: dict[str, object] = {
        "backend": sb.backend.name,
        "endpoint": e.url,
        "region": e.region,
        "healthy": problem is None,
        "problem": problem,
        "pid": sb.handle.pid,
        "container_id": sb.handle.container_id,
        "data_dir": str(sb.handle.data_dir) if sb.handle.data_dir else None,
        "log": str(sb.handle.log_path) if sb.handle.log_path else None,
        "state_file": str(state_mod.state_path(sb.workdir)),
    }
    info["access_key"] = e.access_key if show_credentials else "(hidden; --show-credentials)"
    if show_credentials:
        info["secret_key"] = e.secret_key
    return info


def _print_info(info: dict[str, object], as_json: bool) -> None:
    if as_json:
        print(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        if value is not None:
            print(f"{key:13} {value}")


def _cmd_up(args: argparse.Namespace) -> int:
    backends = None
    if args.backend == "external" and (args.endpoint or args.profile):
        from sandbox.backends import default_backends
        from sandbox.backends.external import ExternalBackend

        backends = [b for b in default_backends(report=_say) if b.name != "external"] + [
            ExternalBackend(url=args.endpoint, profile=args.profile)
        ]
    if args.no_service:
        sb = Sandbox.up(
            args.backend,
            state_dir=args.state_dir,
            region=args.region,
            timeout=args.timeout,
            report=_say,
            backends=backends,
        )
    else:
        from sandbox.service.cli import up_with_service

        sb, _service = up_with_service(
            backend=args.backend,
            state_dir=Path(args.state_dir or state_mod.default_state_dir()).absolute(),
            region=args.region,
            timeout=args.timeout,
            report=_say,
            backends=backends,
            idle_timeout=args.idle_timeout,
            max_environments=args.max_environments,
        )
    info = _describe(sb, show_credentials=False, problem=None)
    if not args.no_service:
        from sandbox.service.cli import service_info

        info.update(service_info(sb.workdir, as_json=args.json))
    if sb.started_in is not None:
        info["ready_in_seconds"] = round(sb.started_in, 2)
    if sb.selection is not None:
        info["skipped"] = dict(sb.selection.skipped)
    if args.json:
        _print_info(info, True)
    else:
        how = "reused" if sb.started_in is None else f"ready in {sb.started_in:.1f}s"
        print(f"sandbox up: {sb.backend.name} at {sb.endpoint.url} ({how})")
        print('credentials: eval "$(python -m sandbox env)"; details: python -m sandbox status')
    return 0


def _attached(state_dir: Path | None) -> Sandbox:
    sb = Sandbox.attach(state_dir)
    if sb is None:
        where = state_dir or state_mod.default_state_dir()
        raise SandboxError(f"no sandbox recorded in {where}; start one with `python -m sandbox up`")
    return sb


def _cmd_status(args: argparse.Namespace) -> int:
    sb = _attached(args.state_dir)
    recorded = state_mod.load(sb.workdir)
    running = recorded is not None and recorded.running
    problem = (
        sb.problem()
        if running
        else "stopped, data kept (`python -m sandbox up` restarts it; `down --purge` removes it)"
    )
    info = _describe(sb, show_credentials=args.show_credentials, problem=problem)
    if running and problem is not None:
        info["stale"] = (
            "STALE: the recorded server is not serving; `python -m sandbox up` restarts it "
            "with the same data and credentials"
        )
    info.update(_faults_status(sb))
    if running:
        from sandbox.service.cli import service_info

        info.update(service_info(sb.workdir, as_json=args.json))
    _print_info(info, args.json)
    return 0 if problem is None else 1


def _faults_status(sb: Sandbox) -> dict[str, object]:
    from sandbox.faults import recorded

    layer = recorded.attach(sb.workdir, sb.endpoint)
    if layer is None:
        return {}
    problem = layer.problem()
    return {
        "faults": layer.handle.url if problem is None else f"not working: {problem}",
        "faults_pids": layer.pids(),
    }


def _cmd_env(args: argparse.Namespace) -> int:
    sb = _attached(args.state_dir)
    recorded = state_mod.load(sb.workdir)
    if recorded is None or not recorded.running:
        raise SandboxError("the sandbox is stopped; run `python -m sandbox up` first")
    from sandbox.service.cli import service_env

    env = sb.env()
    if not args.direct:
        env = {**_through_faults(sb, env), **service_env(sb.workdir)}
    for key, value in env.items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


def _through_faults(sb: Sandbox, env: dict[str, str]) -> dict[str, str]:
    """With the fault layer on: the function's endpoint through it, the direct one beside it
    (``SANDBOX_DIRECT_ENDPOINT_S3``, which the seeder prefers)."""
    from sandbox.faults import DIRECT_ENDPOINT_ENV, recorded

    endpoint = recorded.function_endpoint(sb.workdir, sb.endpoint)
    if endpoint.url == sb.endpoint.url:
        return env
    return {**env, "AWS_ENDPOINT_URL_S3": endpoint.url, DIRECT_ENDPOINT_ENV: sb.endpoint.url}


def _cmd_down(args: argparse.Namespace) -> int:
    sb = Sandbox.attach(args.state_dir)
    if sb is None:
        _say("no sandbox recorded; nothing to stop")
    else:
        from sandbox.service.cli import stop_recorded_service

        keep = not args.purge
        stop_recorded_service(sb.workdir, keep_data=keep, report=_say)
        sb.stop(keep_data=keep)
        print(f"sandbox down: {sb.backend.name} stopped{_kept(sb) if keep else ', data removed'}")
    kept_volume = sb.handle.extra.get("volume") if sb is not None and not args.purge else None
    _remove_docker_leftovers(
        sb.workdir if sb else args.state_dir, volumes=args.purge, keep_volume=kept_volume
    )
    return 0


def _kept(sb: Sandbox) -> str:
    where = sb.handle.data_location
    kept = f"; data kept in {where}" if where else "; data kept"
    return f"{kept} (`up` reuses it, `down --purge` removes it)"


def _remove_docker_leftovers(
    state_dir: Path | None, *, volumes: bool, keep_volume: str | None
) -> None:
    """Containers (and with ``volumes``, volumes) labelled with this state dir that the record
    does not name: what a crashed ``up`` left."""
    from sandbox.backends import BackendUnavailable
    from sandbox.backends.docker import remove_leftovers

    with contextlib.suppress(BackendUnavailable):  # no engine: nothing can be left in it
        remove_leftovers(
            Path(state_dir or state_mod.default_state_dir()).absolute(),
            report=_say,
            volumes=volumes,
            keep_volume=keep_volume,
        )


def _cmd_ensure_minio(_args: argparse.Namespace) -> int:
    from sandbox.backends._minio_binary import ensure_minio

    print(ensure_minio(report=_say))
    return 0


def _cmd_logs(args: argparse.Namespace) -> int:
    from sandbox.service.cli import cmd_logs

    return cmd_logs(args)


def _delegate(name: str, argv: Sequence[str]) -> int:
    module_name, func_name = _DELEGATED[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name != module_name:
            raise
        _say(f"`{name}` is not available yet: {module_name} does not exist")
        return 1
    result = getattr(module, func_name)(list(argv))
    return int(result or 0)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in _DELEGATED:
        return _delegate(args_list[0], args_list[1:])
    args = _parser().parse_args(args_list)
    commands = {
        "up": _cmd_up,
        "status": _cmd_status,
        "env": _cmd_env,
        "down": _cmd_down,
        "ensure-minio": _cmd_ensure_minio,
        "logs": _cmd_logs,
    }
    try:
        return commands[args.command](args)
    except SandboxError as e:
        _say(f"error: {e}")
        return 1
    except ConfigError as e:  # the project's [tool.lambda_local_runner] table, for one
        _say(f"error: {e}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
