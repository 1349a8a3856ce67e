"""``FaultLayer``: Toxiproxy in front of the shim in front of an S3 endpoint. Endpoint in, out.

::

    client ──► Toxiproxy (TCP: latency, bandwidth, timeout, resets) ──► shim (HTTP: 503, 500,
    request resets) ──► S3 server

Both processes listen on 127.0.0.1 only (Toxiproxy's proxy on a port the kernel picks, its API
and the shim's control port likewise). With no fault added the chain only relays bytes.

Toxiproxy goes first so that a TCP fault hits the connection the client holds, exactly as a
network fault would; the shim sits behind it because its faults are answers (or resets) that
only an HTTP-aware hop can give. The shim is always in the chain, so adding an HTTP fault
never has to move open connections; what that costs per request is measured in
``bench/test_bench_faults.py``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sandbox import _procs
from sandbox.backends._base import Endpoint, Reporter, SandboxError, StartupError, quiet
from sandbox.faults._api import FaultApiError, call
from sandbox.faults._toxiproxy_binary import ensure_toxiproxy
from sandbox.faults.rules import Rule
from sandbox.faults.spec import Fault, Toxic

__all__ = ["DIRECT_ENDPOINT_ENV", "FaultHandle", "FaultLayer"]

#: Exported by ``python -m sandbox env`` beside the faulty endpoint: the S3 server itself, for
#: the seeder and anything else that must not see the faults.
DIRECT_ENDPOINT_ENV = "SANDBOX_DIRECT_ENDPOINT_S3"
PROXY_NAME = "s3"
_STOP_GRACE = 5.0


@dataclass
class FaultHandle:
    """Where the layer's processes are, as plain data (saved in the sandbox state)."""

    url: str  # what clients use instead of the S3 endpoint
    upstream_url: str
    toxiproxy_api: str
    toxiproxy_pid: int
    toxiproxy_start: int | None
    shim_control: str
    shim_pid: int
    shim_start: int | None
    workdir: str  # the layer's own directory: logs, the shim's ready file

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultHandle:
        return cls(**data)


class FaultLayer:
    """A running fault layer for one S3 endpoint. A context manager; :meth:`stop` is idempotent."""

    def __init__(
        self,
        upstream: Endpoint,
        handle: FaultHandle,
        *,
        processes: tuple[_procs.Process, ...] = (),
        owns_workdir: bool = False,
    ) -> None:
        self.upstream = upstream
        self.handle = handle
        self._processes = processes
        self._owns_workdir = owns_workdir
        self._stopped = False

    # -- start / find -----------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        upstream: Endpoint,
        workdir: Path | None = None,
        *,
        detached: bool = False,
        timeout: float = 30.0,
        report: Reporter = quiet,
    ) -> FaultLayer:
        """Start Toxiproxy and the shim in front of ``upstream``; wait until both serve.

        Files (logs, the shim's ready file) go to ``workdir/faults`` (a temporary directory
        removed on stop when ``workdir`` is None). ``detached`` processes outlive this one.
        A failed start stops whatever it began.
        """
        binary = ensure_toxiproxy(report)
        owns = workdir is None
        base = Path(tempfile.mkdtemp(prefix="s3-faults-")) if workdir is None else workdir
        fdir = base / "faults"
        fdir.mkdir(parents=True, exist_ok=True)
        started: list[_procs.Process] = []
        try:
            shim, control = _start_shim(upstream, fdir, detached, timeout)
            started.append(shim)
            toxi, api = _start_toxiproxy(binary, fdir, detached, timeout)
            started.append(toxi)
            ready = json.loads((fdir / "shim.ready").read_text())
            proxy = call(
                api,
                "POST",
                "/proxies",
                {
                    "name": PROXY_NAME,
                    "listen": "127.0.0.1:0",
                    "upstream": f"127.0.0.1:{ready['port']}",
                    "enabled": True,
                },
            )
        except BaseException:
            for process in reversed(started):
                _procs.terminate(process.pid, start_time=process.start_time, popen=process.popen)
            if owns:
                shutil.rmtree(base, ignore_errors=True)
            raise
        handle = FaultHandle(
            url=f"http://{proxy['listen']}",
            upstream_url=upstream.url,
            toxiproxy_api=api,
            toxiproxy_pid=toxi.pid,
            toxiproxy_start=toxi.start_time,
            shim_control=control,
            shim_pid=shim.pid,
            shim_start=shim.start_time,
            workdir=str(fdir),
        )
        report(
            f"fault layer on {handle.url} -> {upstream.url} (Toxiproxy {binary}, shim pid "
            f"{shim.pid}); logs in {fdir}"
        )
        if detached:
            for process in started:
                process.detach()
            return cls(upstream, handle)
        layer = cls(upstream, handle, processes=tuple(started), owns_workdir=owns)
        atexit.register(layer.stop)
        return layer

    # -- where ------------------------------------------------------------------------------
    @property
    def endpoint(self) -> Endpoint:
        """The upstream's endpoint with the URL through the faults (same credentials)."""
        return replace(self.upstream, url=self.handle.url)

    def env(self) -> dict[str, str]:
        """The function's env vars: S3 through the faults, and the direct endpoint beside it."""
        return {**self.endpoint.env(), DIRECT_ENDPOINT_ENV: self.upstream.url}

    # -- faults -----------------------------------------------------------------------------
    def add(self, fault: Fault) -> str:
        """Switch ``fault`` on; returns its name (for :meth:`remove`)."""
        if isinstance(fault, Toxic):
            call(
                self.handle.toxiproxy_api, "POST", f"/proxies/{PROXY_NAME}/toxics", fault.to_json()
            )
            return fault.name
        added = call(self.handle.shim_control, "POST", "/rules", fault.to_json())
        return str(added["name"])

    def remove(self, name: str) -> None:
        """Switch one fault off by name."""
        if any(t["name"] == name for t in self._toxics()):
            call(self._toxics_url(), "DELETE", f"/{name}")
            return
        call(self.handle.shim_control, "DELETE", f"/rules/{name}")

    def clear(self) -> None:
        """Switch every fault off (and zero the shim's request counters)."""
        for toxic in self._toxics():
            call(
                self.handle.toxiproxy_api, "DELETE", f"/proxies/{PROXY_NAME}/toxics/{toxic['name']}"
            )
        call(self.handle.shim_control, "DELETE", "/rules")

    @contextlib.contextmanager
    def active(self, *faults: Fault) -> Iterator[list[str]]:
        """``with layer.active(latency(40)):`` the faults are on inside the block only."""
        names: list[str] = []
        try:
            for fault in faults:
                names.append(self.add(fault))
            yield names
        finally:
            for name in names:
                with contextlib.suppress(FaultApiError):
                    self.remove(name)

    def _toxics_url(self) -> str:
        return f"{self.handle.toxiproxy_api}/proxies/{PROXY_NAME}/toxics"

    def _toxics(self) -> list[dict[str, Any]]:
        return list(call(self._toxics_url(), "GET", "") or [])

    def faults(self) -> list[dict[str, Any]]:
        """Every fault switched on: name, engine, what it does, and (HTTP faults) counters."""
        out: list[dict[str, Any]] = []
        for t in self._toxics():
            toxic = Toxic(t["type"], t["attributes"], t["stream"], t["toxicity"], t["name"])
            out.append({"name": t["name"], "engine": "toxiproxy", "fault": toxic.describe()})
        for r in self.shim_state()["rules"]:
            rule = Rule.from_json(r)
            out.append(
                {
                    "name": rule.name,
                    "engine": "shim",
                    "fault": rule.describe(),
                    "seen": rule.seen,
                    "fired": rule.fired,
                }
            )
        return out

    def shim_state(self) -> dict[str, Any]:
        """The shim's rules with counters, and requests seen per kind since the last clear."""
        return dict(call(self.handle.shim_control, "GET", "/rules"))

    def requests(self, kind: str = "any") -> int:
        """How many requests of ``kind`` (list, get, put, ...) went through since the last clear."""
        seen = self.shim_state()["requests"]
        return int(sum(seen.values()) if kind == "any" else seen.get(kind, 0))

    def fired(self, name: str) -> int:
        """How many times the HTTP fault ``name`` has fired."""
        for r in self.shim_state()["rules"]:
            if r["name"] == name:
                return int(r["fired"])
        raise SandboxError(f"no HTTP fault named {name!r} is switched on")

    def repoint(self, upstream: Endpoint) -> None:
        """Send traffic to ``upstream`` from now on (the S3 server came back on another port).

        The URL clients use does not change, so a function configured with it keeps working.
        """
        parts = urlsplit(upstream.url)
        call(
            self.handle.shim_control,
            "PUT",
            "/upstream",
            {"host": parts.hostname, "port": parts.port},
        )
        self.upstream = upstream
        self.handle.upstream_url = upstream.url

    # -- health / stop ----------------------------------------------------------------------
    def problem(self) -> str | None:
        """``None`` when both processes run and answer, else what is wrong."""
        h = self.handle
        for what, pid, start in (
            ("toxiproxy", h.toxiproxy_pid, h.toxiproxy_start),
            ("shim", h.shim_pid, h.shim_start),
        ):
            if (gone := _procs.pid_state(pid, start)) is not None:
                return f"fault layer {what}: {gone}"
        try:
            call(h.toxiproxy_api, "GET", "/version", timeout=2)
            call(h.shim_control, "GET", "/rules", timeout=2)
        except FaultApiError as e:
            return str(e)
        return None

    def pids(self) -> dict[str, int]:
        return {"toxiproxy": self.handle.toxiproxy_pid, "shim": self.handle.shim_pid}

    def stop(self) -> None:
        """Stop both processes. Safe to call twice, or when they are already gone."""
        if self._stopped:
            return
        self._stopped = True
        popens = {p.pid: p.popen for p in self._processes}
        h = self.handle
        for pid, start in ((h.toxiproxy_pid, h.toxiproxy_start), (h.shim_pid, h.shim_start)):
            _procs.terminate(pid, start_time=start, grace=_STOP_GRACE, popen=popens.get(pid))
        with contextlib.suppress(OSError):
            (Path(h.workdir) / "shim.ready").unlink(missing_ok=True)
        if self._owns_workdir:
            shutil.rmtree(Path(h.workdir).parent, ignore_errors=True)
        atexit.unregister(self.stop)

    def __enter__(self) -> FaultLayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"FaultLayer(url={self.handle.url!r}, upstream={self.upstream.url!r})"


def _start_shim(
    upstream: Endpoint, fdir: Path, detached: bool, timeout: float
) -> tuple[_procs.Process, str]:
    parts = urlsplit(upstream.url)
    if parts.scheme != "http" or not parts.hostname or not parts.port:
        raise SandboxError(
            f"the fault layer needs a plain http://host:port S3 endpoint, got {upstream.url}; "
            "it cannot sit in front of HTTPS (real AWS)"
        )
    ready = fdir / "shim.ready"
    ready.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "sandbox.faults.shim",
        "--upstream",
        f"{parts.hostname}:{parts.port}",
        "--ready-file",
        str(ready),
    ]
    log = fdir / "shim.log"
    process = _procs.spawn(argv, log_path=log, detached=detached)

    def is_ready() -> str | None:
        return None if ready.exists() else "no ready file yet"

    try:
        _procs.wait_until(
            is_ready, what="the fault shim to listen", timeout=timeout, process=process,
            log_path=log,
        )  # fmt: skip
    except BaseException:
        _procs.terminate(process.pid, start_time=process.start_time, popen=process.popen)
        raise
    control = json.loads(ready.read_text())["control_port"]
    return process, f"http://127.0.0.1:{control}"


def _start_toxiproxy(
    binary: Path, fdir: Path, detached: bool, timeout: float
) -> tuple[_procs.Process, str]:
    log = fdir / "toxiproxy.log"
    for attempt in range(1, 4):
        (port,) = _procs.free_ports(1)
        api = f"http://127.0.0.1:{port}"
        process = _procs.spawn(
            [str(binary), "-host", "127.0.0.1", "-port", str(port)],
            log_path=log,
            detached=detached,
        )

        def answers(api: str = api) -> str | None:
            try:
                call(api, "GET", "/version", timeout=1)
            except FaultApiError as e:
                return str(e)
            return None

        try:
            _procs.wait_until(
                answers, what=f"Toxiproxy's API on {api}", timeout=timeout, process=process,
                log_path=log,
            )  # fmt: skip
            return process, api
        except StartupError as e:
            _procs.terminate(process.pid, start_time=process.start_time, popen=process.popen)
            if "address already in use" not in str(e) or attempt == 3:
                raise
        except BaseException:
            _procs.terminate(process.pid, start_time=process.start_time, popen=process.popen)
            raise
    raise AssertionError("unreachable")
