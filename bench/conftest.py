"""Session set-up for the benchmarks: one persistent S3 sandbox, datasets seeded once, options.

* The sandbox is a detached one recorded in ``.sandbox/bench`` (``--bench-state-dir``): the
  first run starts it and seeds what the selected tests need; at the end of the session it is
  stopped with its data kept, so the next run restarts it on the same data (no re-seeding).
  Remove it with ``SANDBOX_STATE_DIR=.sandbox/bench .venv/bin/python -m sandbox down --purge``.
* Backend: MinIO when it is available (cached or buildable), else SeaweedFS. Unless
  ``--s3-backend`` is given, the plugin's ``s3_sandbox`` fixture (used by the seeding benchmark)
  is restricted to the same backend, so every number in one report comes from one backend.
* ``--full`` selects the big grid (the queue sweep and the naive baseline at 100,000 objects).
* Session facts (backend, how memory and /tmp were measured, seeding) go into the
  pytest-benchmark JSON under ``"bench_meta"``, for ``python -m bench.report``.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench._datasets import BUCKET, Dataset, ensure_dataset

SEED_TIMEOUT_S = 1800
_META = pytest.StashKey[dict[str, Any]]()
_BACKEND = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lambda_local_runner benchmarks")
    group.addoption(
        "--full",
        action="store_true",
        default=False,
        help="run the big grid too (100,000 objects in the queue sweep and the naive baseline)",
    )
    group.addoption(
        "--bench-state-dir",
        default=".sandbox/bench",
        help="state dir of the persistent benchmark sandbox (default: .sandbox/bench)",
    )
    group.addoption(
        "--bench-keep-running",
        action="store_true",
        default=False,
        help="leave the benchmark sandbox running after the session (default: stop, keep data)",
    )


def _choose_backend(config: pytest.Config) -> str:
    raw = config.getoption("--s3-backend", default=None)
    if raw:
        names = [n.strip() for n in raw.split(",") if n.strip()]
        return names[0]
    from sandbox.backends import default_backends

    minio = next(b for b in default_backends() if b.name == "minio")
    name = "minio" if minio.probe().ok else "seaweedfs"
    config.option.s3_backend = name  # the plugin's s3_sandbox: the same single backend
    return name


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "full: part of the big grid, selected by --full")
    config.stash[_META] = {"datasets": {}, "full": bool(config.getoption("--full"))}
    # Before collection: the plugin decides its s3_sandbox parameters while collecting.
    config.stash[_BACKEND] = _choose_backend(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    full = config.getoption("--full")
    skip = pytest.mark.skip(reason="big grid: run with --full (make bench-full)")
    for item in items:
        if not full and item.get_closest_marker("full") is not None:
            item.add_marker(skip)
        if "dataset" in getattr(item, "fixturenames", ()):
            # The first test to ask for a dataset seeds it: 100,000 objects take minutes.
            item.add_marker(pytest.mark.timeout(SEED_TIMEOUT_S))


@pytest.fixture(scope="session")
def bench_sandbox(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The persistent benchmark sandbox (started or reused), stopped with its data kept."""
    from sandbox import Sandbox

    config = request.config
    backend = config.stash[_BACKEND]
    state_dir = Path(config.getoption("--bench-state-dir")).absolute()
    reporter: Any = config.pluginmanager.getplugin("terminalreporter")
    capman: Any = config.pluginmanager.getplugin("capturemanager")

    def report(message: str) -> None:
        if capman is not None and reporter is not None:
            with capman.global_and_fixture_disabled():
                reporter.write_line(f"[bench sandbox] {message}")

    sandbox = Sandbox.up(backend, state_dir=state_dir, report=report)
    meta = config.stash[_META]
    meta["backend"] = sandbox.endpoint.backend
    meta["state_dir"] = os.path.relpath(state_dir)
    try:
        yield sandbox
    finally:
        try:
            _delete_manifests(sandbox.client(), BUCKET)
        finally:
            if not config.getoption("--bench-keep-running"):
                sandbox.stop(keep_data=True)


def _delete_manifests(client: Any, bucket: str) -> None:
    """The handler runs leave ``manifests/*.jsonl`` behind: remove them, keep the datasets."""
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix="manifests/"):
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


@pytest.fixture(scope="session")
def dataset(request: pytest.FixtureRequest, bench_sandbox: Any) -> Callable[[int], Dataset]:
    """``dataset(10_000)``: that many PDFs on the bench sandbox, seeded on first use only."""
    cache: dict[int, Dataset] = {}
    meta = request.config.stash[_META]
    reporter: Any = request.config.pluginmanager.getplugin("terminalreporter")
    capman: Any = request.config.pluginmanager.getplugin("capturemanager")

    def get(count: int) -> Dataset:
        if count not in cache:
            if capman is not None and reporter is not None:
                with capman.global_and_fixture_disabled():
                    reporter.write_line(f"[bench data] {count:,} PDFs: checking / seeding")
            ds = ensure_dataset(bench_sandbox, count)
            cache[count] = ds
            meta["datasets"][str(count)] = {
                "prefix": ds.prefix,
                "reused": ds.reused,
                "seed_seconds": round(ds.seed_seconds, 2),
                "objects_per_second": round(ds.objects_per_second, 1),
            }
        return cache[count]

    return get


@pytest.fixture(scope="session")
def bench_meta(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Session facts written into the results JSON (tests add what they measured)."""
    return request.config.stash[_META]


def pytest_benchmark_update_json(
    config: pytest.Config, benchmarks: list[Any], output_json: dict[str, Any]
) -> None:
    stashed = config.stash.get(_META, None)
    meta: dict[str, Any] = dict(stashed) if stashed else {}
    meta.update(
        finished=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        python=platform.python_version(),
        cpus=os.cpu_count(),
    )
    output_json["bench_meta"] = meta
