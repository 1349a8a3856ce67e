"""What the fault layer costs per request when no fault is on (issue 16).

Four paths to the same bench S3 server, one warm boto3 client each (keep-alive):

* ``direct``: the server itself (the baseline);
* ``shim``: the HTTP shim alone;
* ``toxiproxy``: a Toxiproxy proxy straight to the server (a second proxy made for this);
* ``layer``: Toxiproxy then the shim, what ``FaultLayer.endpoint`` is.

Two requests: a HEAD of a small object (the per-request floor) and a 1,000-key list page
(a typical response body, ~300 KB). Overhead = path mean - direct mean, in the same run.
Wall times on a shared machine are noisy, so the CPU the shim and Toxiproxy spend per request
(from /proc, whatever the load) is recorded too, in ``extra_info``, and printed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sandbox._s3 import make_client
from sandbox.faults import FaultLayer
from sandbox.faults._api import call

BUCKET = "bench-fault-layer"
PATHS = ("direct", "shim", "toxiproxy", "layer")


@pytest.fixture(scope="module")
def clients(bench_sandbox: Any) -> Iterator[dict[str, Any]]:
    """One client per path; the bucket holds 1,000 tiny objects."""
    direct = bench_sandbox.client()
    existing = {b["Name"] for b in direct.list_buckets().get("Buckets", [])}
    if BUCKET not in existing:
        direct.create_bucket(Bucket=BUCKET)
    if direct.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) < 1000:
        for i in range(1000):
            direct.put_object(Bucket=BUCKET, Key=f"2026/04/report-{i:05d}.pdf", Body=b"%PDF")
    with FaultLayer.start(bench_sandbox.endpoint) as layer:
        shim_port = json.loads((Path(layer.handle.workdir) / "shim.ready").read_text())["port"]
        upstream = bench_sandbox.endpoint.url.removeprefix("http://")
        plain = call(
            layer.handle.toxiproxy_api,
            "POST",
            "/proxies",
            {"name": "bench-direct", "listen": "127.0.0.1:0", "upstream": upstream},
        )
        urls = {
            "direct": bench_sandbox.endpoint.url,
            "shim": f"http://127.0.0.1:{shim_port}",
            "toxiproxy": f"http://{plain['listen']}",
            "layer": layer.endpoint.url,
        }
        made = {p: make_client(replace(bench_sandbox.endpoint, url=u)) for p, u in urls.items()}
        made["_pids"] = layer.pids()
        yield made


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (Linux /proc)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _with_cpu(benchmark: Any, clients: dict[str, Any], path: str, run: Any) -> Any:
    hops = {"layer": ("shim", "toxiproxy"), "shim": ("shim",), "toxiproxy": ("toxiproxy",)}
    pids = {name: clients["_pids"][name] for name in hops.get(path, ())}
    before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
    result = run()
    requests = benchmark.stats.stats.rounds if benchmark.stats else 0
    for name, pid in pids.items():
        if requests:
            used = (_cpu_seconds(pid) - before[name]) / requests * 1e6
            benchmark.extra_info[f"{name}_cpu_us_per_request"] = round(used, 1)
            print(f"\n{path}: {name} used {used:.0f} us CPU per request")
    return result


@pytest.mark.benchmark(group="fault-layer-head")
@pytest.mark.parametrize("path", PATHS)
def test_head_object_through(benchmark: Any, clients: dict[str, Any], path: str) -> None:
    client = clients[path]
    key = "2026/04/report-00000.pdf"
    client.head_object(Bucket=BUCKET, Key=key)  # connect first
    benchmark.extra_info["path"] = path
    result = _with_cpu(
        benchmark,
        clients,
        path,
        lambda: benchmark.pedantic(
            client.head_object, kwargs={"Bucket": BUCKET, "Key": key}, rounds=300
        ),
    )
    assert result["ContentLength"] == 4


@pytest.mark.benchmark(group="fault-layer-list")
@pytest.mark.parametrize("path", PATHS)
def test_list_page_through(benchmark: Any, clients: dict[str, Any], path: str) -> None:
    client = clients[path]
    benchmark.extra_info["path"] = path
    page = _with_cpu(
        benchmark,
        clients,
        path,
        lambda: benchmark.pedantic(
            client.list_objects_v2, kwargs={"Bucket": BUCKET, "Prefix": "2026/04/"}, rounds=40
        ),
    )
    assert page["KeyCount"] == 1000
