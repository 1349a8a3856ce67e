"""The service's part of ``python -m sandbox``: ``up`` (S3 + service), ``down``, ``status``,
``env`` and ``logs``.

``up``'s order matters, because MinIO reads its webhook target only when it starts: choose the
service's port, make the random bearer token, start S3 with the webhook pointing at that
port, start the service there, then put the project's trigger rules on the buckets (creating a
bucket a trigger names when it does not exist yet: a sandbox is for trying things). A sandbox
started earlier keeps its port and token, so a restarted service is where MinIO expects it,
and events MinIO queued meanwhile (its queue dir) are delivered.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
from pathlib import Path
from typing import Any

from sandbox import _procs
from sandbox import state as state_mod
from sandbox.backends._base import Reporter, SandboxError
from sandbox.core import Sandbox
from sandbox.project import ProjectConfigError, load_project
from sandbox.runtime._config import ConfigError
from sandbox.service.config import ServiceConfig
from sandbox.service.logs import follow
from sandbox.service.process import ServiceRecord, fetch_status, start_service, stop_recorded

__all__ = [
    "cmd_logs",
    "service_env",
    "service_info",
    "stop_recorded_service",
    "trigger_arn",
    "up_with_service",
]

WEBHOOK_ROUTE = "/_sandbox/s3-events"
RUN_DIR = "lambda"


def _record(state_dir: Path) -> ServiceRecord | None:
    recorded = state_mod.load(state_dir)
    if recorded is None or not recorded.service:
        return None
    return ServiceRecord.from_json(recorded.service)


def _default_bucket(env: dict[str, str]) -> str:
    from s3_manifest.settings import DEFAULT_BUCKET

    return env.get("BUCKET_NAME") or DEFAULT_BUCKET


def up_with_service(
    *,
    backend: str,
    state_dir: Path,
    region: str,
    timeout: float,
    report: Reporter,
    backends: Any = None,
    idle_timeout: float = 300.0,
    max_environments: int = 16,
) -> tuple[Sandbox, ServiceRecord]:
    """``python -m sandbox up`` with the service: S3 (with its webhook), the service, triggers."""
    from sandbox.service.notifications import (
        NotificationSetupError,
        WebhookTarget,
        configure_notifications,
    )

    if idle_timeout <= 0 or max_environments < 1:
        raise ConfigError(
            f"--idle-timeout must be positive (got {idle_timeout}) and --max-environments at "
            f"least 1 (got {max_environments})"
        )
    project = load_project()  # a malformed config stops `up` before anything starts
    old = _record(state_dir)
    existing = Sandbox.attach(state_dir, backends=backends)
    prior = existing.webhook if existing is not None else None
    port = prior.port if prior else (old.port if old else _procs.free_ports(1)[0])
    api_port = old.api_port if old else _procs.free_ports(1)[0]
    webhook = prior or WebhookTarget(
        f"http://127.0.0.1:{port}{WEBHOOK_ROUTE}",
        _new_token(),
        str(state_dir / "minio-events"),
    )
    sb = Sandbox.up(
        backend,
        state_dir=state_dir,
        region=region,
        timeout=timeout,
        report=report,
        backends=backends,
        webhook=webhook,
    )
    limits = {"idle_timeout": idle_timeout, "max_environments": max_environments}
    record = _ensure_service(sb, old, project.source, port, api_port, state_dir, report, limits)
    saved = state_mod.load(state_dir)
    if saved is not None:
        saved.service = record.to_json()
        state_mod.save(state_dir, saved)
    if sb.webhook is not None:
        bucket = _default_bucket(sb.env())
        _create_trigger_buckets(sb, project, bucket, report)
        try:
            rules = configure_notifications(sb.client(), project, bucket, trigger_arn(sb))
        except NotificationSetupError as e:
            raise SandboxError(f"{e}; the sandbox and the service are up, triggers are not") from e
        for name, bucket_rules in rules.items():
            report(f"S3 triggers on bucket {name}: {len(bucket_rules)} rule(s)")
    return sb, record


def trigger_arn(sb: Sandbox) -> str:
    """The ARN of the webhook target MinIO was started with, in the sandbox's region."""
    from sandbox.service.notifications import minio_arn

    return minio_arn(sb.endpoint.region)


def _new_token() -> str:
    import secrets

    return secrets.token_urlsafe(32)


def _ensure_service(
    sb: Sandbox,
    old: ServiceRecord | None,
    project: str | None,
    port: int,
    api_port: int,
    state_dir: Path,
    report: Reporter,
    limits: dict[str, Any],
) -> ServiceRecord:
    if old is not None and old.alive() is None:
        try:
            fetch_status(old.url)
            report(f"reusing the running Lambda service at {old.url}")
            return old
        except OSError:
            report(f"the recorded Lambda service (pid {old.pid}) does not answer; restarting it")
            stop_recorded(old)
    webhook = sb.webhook
    config = ServiceConfig(
        port=port,
        api_port=api_port,
        run_dir=str(state_dir / RUN_DIR),
        project=project,
        function_env=sb.env(),
        region=sb.endpoint.region,
        webhook_token=webhook.token if webhook is not None else None,
        default_bucket=_default_bucket(sb.env()),
        access_key=sb.endpoint.access_key,  # the Invoke API verifies SigV4 against these
        secret_key=sb.endpoint.secret_key,
        faults_state_dir=str(state_dir),
        **limits,
    )
    return start_service(config, detached=True, report=report).record


def _create_trigger_buckets(
    sb: Sandbox, project: Any, default_bucket: str, report: Reporter
) -> None:
    from botocore.exceptions import ClientError

    from sandbox.service.notifications import notification_rules

    client = sb.client()
    for bucket in notification_rules(project, default_bucket, "arn"):
        try:
            client.head_bucket(Bucket=bucket)
        except ClientError:
            client.create_bucket(Bucket=bucket)
            report(f"created bucket {bucket} (an S3 trigger names it)")


def stop_recorded_service(state_dir: Path, *, keep_data: bool, report: Reporter) -> None:
    """``down``: stop the recorded service (and so its workers); drop its config and files."""
    record = _record(state_dir)
    if record is None:
        return
    outcome = stop_recorded(record)
    report(f"Lambda service (pid {record.pid}): {outcome}")
    run_dir = Path(record.run_dir)
    # The config holds S3 credentials and the token; environments' /tmp dirs are spent.
    Path(record.config_path).unlink(missing_ok=True)
    shutil.rmtree(run_dir / "envs", ignore_errors=True)
    if not keep_data:
        shutil.rmtree(run_dir, ignore_errors=True)


def service_env(state_dir: Path) -> dict[str, str]:
    record = _record(state_dir)
    if record is None or record.alive() is not None:
        return {}
    return {"AWS_ENDPOINT_URL_LAMBDA": record.url}


def service_info(state_dir: Path, *, as_json: bool) -> dict[str, Any]:
    """What ``status`` adds: URLs and counts from ``GET /_sandbox/status``."""
    record = _record(state_dir)
    if record is None:
        return {"lambda": "not started (python -m sandbox up without --no-service)"}
    if (gone := record.alive()) is not None:
        return {"lambda": f"stopped ({gone})"}
    try:
        status = fetch_status(record.url)
    except OSError as e:
        return {"lambda": f"pid {record.pid} does not answer at {record.url}: {e}"}
    if as_json:
        return {"lambda": status}
    t, q = status["totals"], status["async"]
    return {
        "lambda_url": f"{record.url}  (AWS_ENDPOINT_URL_LAMBDA)",
        "api_url": f"{record.api_url}  (-> {status['api_function']})",
        "environments": f"{t['warm']} warm, {t['busy']} busy; "
        f"{t['cold_starts']} cold starts, {t['warm_starts']} warm starts",
        "invocations": f"{t['invocations']} ({t['errors']} errors, {t['throttles']} throttles)",
        "async_queue": f"{q['queue_depth']} waiting, {q['running']} running, "
        f"{q['retried']} retried, {q['failed']} given up",
        "s3_triggers": "on (MinIO webhook)" if status["s3_triggers"] else "off",
        "lambda_logs": str(Path(record.run_dir) / "logs"),
    }


def cmd_logs(args: argparse.Namespace) -> int:
    """``python -m sandbox logs [FUNCTION] [-f] [--failed]``."""
    state_dir = Path(args.state_dir or state_mod.default_state_dir()).absolute()
    record = _record(state_dir)
    run_dir = Path(record.run_dir) if record else state_dir / RUN_DIR
    if args.failed:
        path = run_dir / "async-failures.jsonl"
        if path.exists():
            sys.stdout.write(path.read_text())
        return 0
    logs_dir = run_dir / "logs"
    name = args.function
    if name is None:
        names = _function_names()
        if len(names) != 1:
            print(
                f"error: name the function: python -m sandbox logs FUNCTION (one of: "
                f"{', '.join(names) or 'none'})",
                file=sys.stderr,
            )
            return 2
        name = names[0]
    path = logs_dir / f"{name}.log"
    if not args.follow:
        if not path.exists():
            print(f"no log yet for {name} ({path}): it has not been invoked", file=sys.stderr)
            return 0
        sys.stdout.write(path.read_text(errors="replace"))
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        for chunk in follow(path):
            sys.stdout.write(chunk)
            sys.stdout.flush()
    return 0


def _function_names() -> list[str]:
    try:
        return sorted(load_project().functions)
    except ProjectConfigError as e:
        raise SandboxError(str(e)) from e
