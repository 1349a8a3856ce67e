"""pytest plugin (entry point ``pytest11``): fixtures for users' own Lambda tests.

- ``s3_sandbox`` (session): a started :class:`sandbox.Sandbox`, once per backend available here
  (test ids ``[minio]``, ``[seaweedfs]``, ``[docker]``). ``--s3-backend=a,b`` restricts them.
- ``s3_bucket`` (function): a fresh, uniquely named bucket on that sandbox, emptied and deleted
  afterwards.
- ``lambda_context``, ``lambda_event``, ``lambda_invoke``, ``lambda_function_config``,
  ``sandbox_s3_endpoint``: the runtime emulation's fixtures (see :mod:`sandbox.runtime.fixtures`).
  ``lambda_invoke`` points the function at ``s3_sandbox`` in tests that use it.
- Markers it adds (``integration``) are registered, so ``--strict-markers`` projects run clean.
- ``s3_faults`` (function) / ``s3_fault_layer`` (session): latency, resets, 503s between the
  function and ``s3_sandbox`` (see :mod:`sandbox.faults.fixtures`).

Imported by every pytest run in this environment, so it imports nothing heavy at module level.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from sandbox.faults.fixtures import s3_fault_layer, s3_faults  # noqa: F401 - re-exported
from sandbox.runtime.fixtures import (  # noqa: F401 - re-exported as fixtures
    FUNCTION_INI,
    lambda_context,
    lambda_event,
    lambda_function_config,
    lambda_invoke,
    sandbox_s3_endpoint,
)

if TYPE_CHECKING:
    from sandbox.core import Sandbox

_OPTION = "--s3-backend"
_DEFAULT_ORDER = ("minio", "seaweedfs", "docker")


class _BackendPlan:
    """Which backends the session runs and why others were left out (decided once, lazily)."""

    def __init__(self, requested: list[str] | None) -> None:
        from sandbox.backends import BACKEND_NAMES, default_backends

        self.run: list[str] = []
        self.left_out: dict[str, str] = {}
        self.started: dict[str, str] = {}
        self._backends = {b.name: b for b in default_backends()}
        for name in requested or []:
            if name not in BACKEND_NAMES or name == "auto":
                raise pytest.UsageError(
                    f"{_OPTION}: unknown backend {name!r}; choose from minio, seaweedfs, "
                    "docker, external"
                )
        for name in requested or _DEFAULT_ORDER:
            availability = self._backends[name].probe()
            if availability.ok or requested:
                # An explicitly requested backend stays, and skips with its reason if unusable.
                self.run.append(name)
            if not availability.ok:
                self.left_out[name] = availability.reason


_plan_key = pytest.StashKey[_BackendPlan]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("s3 sandbox")
    group.addoption(
        _OPTION,
        default=None,
        help="comma-separated S3 backends for the s3_sandbox fixture (minio, seaweedfs, docker, "
        "external); default: every backend available on this machine",
    )
    parser.addini(
        FUNCTION_INI,
        "the [tool.lambda_local_runner] function lambda_invoke runs when given no handler "
        "(needed only when the project has several)",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Every marker the plugin adds, registered, so users' --strict-markers runs accept them.
    config.addinivalue_line(
        "markers", "integration: needs a real local S3 server (added to tests using s3_sandbox)"
    )


def _plan(config: pytest.Config) -> _BackendPlan:
    if _plan_key not in config.stash:
        raw = config.getoption(_OPTION)
        requested = [n.strip() for n in raw.split(",") if n.strip()] if raw else None
        config.stash[_plan_key] = _BackendPlan(requested)
    return config.stash[_plan_key]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "s3_sandbox" in metafunc.fixturenames:
        names = _plan(metafunc.config).run
        metafunc.parametrize("s3_sandbox", names, ids=names, indirect=True, scope="session")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "s3_sandbox" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def s3_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A started S3 sandbox; parametrized over the available backends (see ``--s3-backend``)."""
    from sandbox import BackendUnavailable, Sandbox

    name: str = getattr(request, "param", "auto")
    plan = _plan(request.config)
    if name in plan.left_out:
        pytest.skip(f"S3 backend {name} unavailable: {plan.left_out[name]}")
    capman: Any = request.config.pluginmanager.getplugin("capturemanager")
    reporter: Any = request.config.pluginmanager.getplugin("terminalreporter")

    def report(message: str) -> None:
        # Progress (e.g. a MinIO build) must be visible even while output is captured.
        if capman is not None and reporter is not None:
            with capman.global_and_fixture_disabled():
                reporter.write_line(f"[s3_sandbox] {message}")

    try:
        sandbox = Sandbox.start(name, report=report)
    except BackendUnavailable as e:
        plan.left_out[name] = str(e)
        pytest.skip(f"S3 backend {name} unavailable: {e}")
    plan.started[name] = f"{sandbox.endpoint.url}, ready in {sandbox.started_in or 0:.1f}s"
    with sandbox:
        yield sandbox


@pytest.fixture
def s3_bucket(s3_sandbox: Sandbox) -> Iterator[str]:
    """The name of a new empty bucket on ``s3_sandbox``; emptied and deleted after the test."""
    client = s3_sandbox.client()
    name = f"test-{uuid.uuid4().hex[:20]}"
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        _empty_and_delete(client, name)


def _empty_and_delete(client: Any, bucket: str) -> None:
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    for upload in uploads:
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    client.delete_bucket(Bucket=bucket)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if _plan_key not in config.stash:
        return
    plan = config.stash[_plan_key]
    if not plan.started and not plan.left_out:
        return
    terminalreporter.section("S3 sandbox backends")
    for name, detail in plan.started.items():
        terminalreporter.write_line(f"ran    {name}: {detail}")
    for name, why in plan.left_out.items():
        terminalreporter.write_line(f"skipped {name}: {why}")
    if "docker" in plan.started or "docker" in plan.left_out:
        import os

        # Set by `python -m sandbox.docker_engine run` (make test): which engine ran.
        engine = os.environ.get("SANDBOX_DOCKER_ENGINE") or os.environ.get(
            "DOCKER_HOST", "the default socket unix:///var/run/docker.sock"
        )
        terminalreporter.write_line(f"docker engine: {engine}")
