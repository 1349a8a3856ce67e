"""The service: two aiohttp listeners on 127.0.0.1 and what sits behind them.

* The service port (``AWS_ENDPOINT_URL_LAMBDA``): the Invoke API, ``GET /_sandbox/status``,
  ``GET /_sandbox/async-failures`` and MinIO's webhook, ``POST /_sandbox/s3-events``.
* The API port (the "API URL"): every method and path becomes an API Gateway proxy event for
  one function (``api_function``; by default the sample function, else the project's first),
  as API Gateway's ``$default`` route with a ``{proxy+}`` integration would. A second port,
  rather than a path prefix, keeps paths exactly as the function will see them on AWS.

Why aiohttp: it is already installed (aiobotocore depends on it), so the harness gains no
dependency; it is asyncio-native, which suits a server whose requests mostly wait on worker
pipes; and its low-level ``AppRunner``/``TCPSite`` let us bind exactly 127.0.0.1 and shut down
in the order we need (environments first, then listeners).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from sandbox.project import DEFAULT_FUNCTION, FunctionSpec, load_project
from sandbox.runtime import SYNC_REQUEST_LIMIT, FunctionConfig
from sandbox.runtime.context import new_request_id
from sandbox.runtime.limits import encode_payload
from sandbox.service.asyncq import AsyncEvent, AsyncInvoker
from sandbox.service.config import HOST, ServiceConfig
from sandbox.service.invoke_api import INVOKE_PATH, aws_error, handle_invoke
from sandbox.service.logs import FunctionLogs
from sandbox.service.notifications import bearer_matches
from sandbox.service.pool import Outcome, Pools, Throttled, WorkerFailed

__all__ = ["Service", "serve"]

log = logging.getLogger("sandbox.service")

#: aiohttp's default body cap is 1 MB; the Invoke API must see a 7 MB body to refuse it
#: properly (413 RequestTooLargeException, not a dropped connection).
_MAX_BODY = 64 * 1024 * 1024
_SHUTDOWN_GRACE_S = 3.0


def _json(status: int, body: Any) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(body).encode(), content_type="application/json"
    )


class Service:
    """The functions, their pools, the async queue and the logs of one running service."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.project = load_project(config.project)
        run_dir = Path(config.run_dir)
        self.logs = FunctionLogs(run_dir / "logs")
        self.env_dir = run_dir / "envs"
        self.env_dir.mkdir(parents=True, exist_ok=True)
        self.env_dir.chmod(0o700)
        self.pools = Pools(
            self.project.functions,
            self._configure,
            logs=self.logs,
            tmp_parent=str(self.env_dir),
            max_environments=config.max_environments,
            idle_timeout=config.idle_timeout,
            config_version=self._faults_version if config.faults_state_dir else None,
        )
        self.async_invoker = AsyncInvoker(
            self._run_async,
            retry_delays=config.retry_delays,
            concurrency=config.async_concurrency,
            failures_path=run_dir / "async-failures.jsonl",
        )
        names = list(self.project.functions)
        self.api_function = config.api_function or (
            DEFAULT_FUNCTION if DEFAULT_FUNCTION in names else (names[0] if names else None)
        )

    def _configure(self, spec: FunctionSpec) -> FunctionConfig:
        env = dict(self.config.function_env)
        if self.config.faults_state_dir:
            from sandbox.faults.recorded import layer_url

            url = layer_url(Path(self.config.faults_state_dir))
            if url is not None:  # through the fault layer, as invoke.py does
                env["AWS_ENDPOINT_URL_S3"] = url
        return spec.function_config(env=env, region=self.config.region)

    def _faults_version(self) -> int | None:
        from sandbox.faults.recorded import record_version

        assert self.config.faults_state_dir is not None
        return record_version(Path(self.config.faults_state_dir))

    async def _run_async(self, event: AsyncEvent) -> Outcome:
        return await self.pools.invoke(
            event.function,
            event.payload,
            request_id=event.request_id,
            invocation_type="Event",
            wait=True,
        )

    def start(self) -> None:
        self.pools.start_reaper()
        self.async_invoker.start()

    async def close(self) -> None:
        await self.async_invoker.stop()
        await self.pools.close()
        shutil.rmtree(self.env_dir, ignore_errors=True)

    def status(self) -> dict[str, Any]:
        functions = self.pools.status()
        totals = {
            key: sum(f[key] for f in functions.values())
            for key in (
                "warm",
                "busy",
                "invocations",
                "errors",
                "throttles",
                "cold_starts",
                "warm_starts",
            )
        }
        return {
            "pid": os.getpid(),
            "url": self.config.url,
            "api_url": self.config.api_url,
            "api_function": self.api_function,
            "s3_triggers": self.config.webhook_token is not None,
            "project": self.project.source,
            "totals": totals,
            "async": self.async_invoker.status(),
            "functions": functions,
        }


# -- routes on the service port -----------------------------------------------------------
async def _status(request: web.Request) -> web.Response:
    return _json(200, request.app["service"].status())


async def _async_failures(request: web.Request) -> web.Response:
    return _json(200, request.app["service"].async_invoker.failures)


async def _unknown_operation(request: web.Request) -> web.Response:
    return aws_error(
        404,
        "UnknownOperationException",
        f"{request.method} {request.path}: this local Lambda service implements Invoke "
        f"(POST {INVOKE_PATH}) only",
    )


async def _s3_events(request: web.Request) -> web.Response:
    """MinIO's webhook: check the bearer token, translate, queue one Event per function."""
    service: Service = request.app["service"]
    token = service.config.webhook_token
    if token is None:
        return _json(404, {"message": "S3 triggers are off in this service (no webhook token)"})
    if request.method == "HEAD":  # MinIO's reachability probe
        return web.Response(status=200)
    given = request.headers.get("Authorization", "")
    if not bearer_matches(given, token):
        log.warning(
            "s3-events: refused a request with a %s bearer token", "wrong" if given else "missing"
        )
        return _json(401, {"message": "missing or wrong bearer token"})
    try:
        body = await request.json()
    except ValueError as e:
        return _json(400, {"message": f"the notification is not JSON: {e}"})
    except RecursionError:  # nested deeper than the parser goes: not a MinIO notification
        return _json(400, {"message": "the notification is JSON nested too deep to read"})
    from sandbox.service.s3events import MalformedNotification, events_for

    try:
        events = events_for(
            body, service.project, service.config.default_bucket, region=service.config.region
        )
    except MalformedNotification as e:
        log.warning("s3-events: refused a malformed notification: %s", e)
        return _json(400, {"message": f"not a MinIO notification: {e}"})
    queued = []
    for name, event in events:
        request_id = new_request_id()
        service.async_invoker.submit(AsyncEvent(name, encode_payload(event), request_id, "s3"))
        queued.append({"function": name, "request_id": request_id})
    return _json(200, {"queued": queued})


# -- the API port -------------------------------------------------------------------------
async def _api_gateway(request: web.Request) -> web.Response:
    """One API Gateway proxy request: event in, the function's proxy response out."""
    service: Service = request.app["service"]
    name = service.api_function
    if name is None:
        return _json(404, {"message": "Not Found"})
    from sandbox.service import apigw  # issue 13t's event and response mapping

    spec = service.project.functions[name]
    body = await request.read()
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers]
    event = apigw.event_from_request(
        method=request.method,
        path=request.path,
        raw_query=request.rel_url.raw_query_string,
        headers=headers,
        body=body,
        version=spec.api_version,
        source_ip=request.remote or "127.0.0.1",
    )
    payload = encode_payload(event)
    if len(payload) > SYNC_REQUEST_LIMIT:
        return _json(413, {"message": "Request Entity Too Large"})
    try:
        outcome = await service.pools.invoke(name, payload, request_id=new_request_id())
    except Throttled:
        return _json(429, {"message": "Too Many Requests"})
    except WorkerFailed as e:
        log.error("API %s %s: %s", request.method, request.path, e)
        return _json(500, {"message": "Internal server error"})
    inv = outcome.invocation
    if inv.error is not None:
        return _bad_gateway(service, name, f"the function failed: {inv.error.get('errorType')}")
    try:
        reply = apigw.response_to_http(inv.response, spec.api_version)
    except apigw.MalformedProxyResponse as e:
        return _bad_gateway(service, name, f"Malformed Lambda proxy response: {e}")
    return web.Response(status=reply.status, body=reply.body, headers=CIMultiDict(reply.headers))


def _bad_gateway(service: Service, name: str, why: str) -> web.Response:
    line = f"API Gateway: Execution failed due to configuration error: {why}"
    log.warning("%s: %s", name, line)
    service.logs.append(name, line + "\n")
    return _json(502, {"message": "Internal server error"})


def make_apps(service: Service) -> tuple[web.Application, web.Application]:
    from sandbox.service.auth import sigv4_middleware, verifier_for  # issue 16: SigV4

    control = web.Application(client_max_size=_MAX_BODY, middlewares=[sigv4_middleware])
    control["service"] = service
    control["sigv4"] = verifier_for(service.config)
    control.router.add_post("/2015-03-31/functions/{name}/invocations", handle_invoke)
    control.router.add_get("/_sandbox/status", _status)
    control.router.add_get("/_sandbox/async-failures", _async_failures)
    control.router.add_route("POST", "/_sandbox/s3-events", _s3_events)
    control.router.add_route("HEAD", "/_sandbox/s3-events", _s3_events)
    control.router.add_route("*", "/{tail:.*}", _unknown_operation)
    api = web.Application(client_max_size=_MAX_BODY)
    api["service"] = service
    api.router.add_route("*", "/{tail:.*}", _api_gateway)
    return control, api


async def serve(config: ServiceConfig, *, ready: asyncio.Event | None = None) -> None:
    """Run until SIGTERM, SIGINT or SIGHUP; then stop every environment, then the listeners."""
    service = Service(config)
    control, api = make_apps(service)
    runners = [
        web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_GRACE_S)
        for app in (control, api)
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    try:
        for runner, port in zip(runners, (config.port, config.api_port), strict=True):
            await runner.setup()
            await web.TCPSite(runner, HOST, port, shutdown_timeout=_SHUTDOWN_GRACE_S).start()
        service.start()
        log.info(
            "serving %d function(s) at %s (API %s -> %s)",
            len(service.pools.functions), config.url, config.api_url, service.api_function,
        )  # fmt: skip
        if ready is not None:
            ready.set()
        await stop.wait()
        log.info("stopping: environments first, then the listeners")
    finally:
        await service.close()
        for runner in runners:
            with contextlib.suppress(Exception):
                await runner.cleanup()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
