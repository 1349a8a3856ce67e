"""A private Docker engine for a test run: started, used and torn down by the run itself.

CI machines here have no systemd and no engine, but root can run one by hand. This module
starts ``dockerd`` with everything under one temp dir (socket, data root, exec root, pidfile,
its own supervised containerd), so it never meets an engine or socket it did not start, and
stops it in ``finally``:

* kill dockerd by the PID it wrote (SIGTERM, then SIGKILL after a grace period), which stops
  its containerd and containers with it;
* unmount what it left mounted under the temp dir (the nsfs at ``<exec-root>/netns/default``);
* delete the bridge link, only when this engine created it (``docker0`` is kept if it existed
  before, e.g. another engineer's engine uses it: then this engine gets its own bridge).

``--iptables=false --ip-masq=false`` keeps the host firewall untouched; published ports still
work through docker-proxy on 127.0.0.1. The default bridge is kept: with ``--bridge=none``
published ports are silently dropped.

    python -m sandbox.docker_engine run -- python -m pytest   # what `make test` calls
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.backends._base import Reporter, StartupError, quiet

__all__ = [
    "ENGINE_ENV",
    "PrivateEngine",
    "dockerd_path",
    "install_docker",
    "leftovers",
    "private_engine",
]

#: Set by :func:`private_engine` users for the test summary: which engine ran.
ENGINE_ENV = "SANDBOX_DOCKER_ENGINE"
DEFAULT_BRIDGE = "docker0"
START_TIMEOUT = 30.0
STOP_GRACE_SECONDS = 15.0


@dataclass
class PrivateEngine:
    """One running private dockerd and what it owns."""

    root: Path
    pid: int
    bridge: str
    created_bridge: bool
    version: str = ""
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def exec_root(self) -> Path:
        return self.root / "exec"

    def describe(self) -> str:
        return f"private dockerd {self.version} (pid {self.pid}, {self.host})"


def dockerd_path() -> str | None:
    return shutil.which("dockerd") or next(
        (p for p in ("/usr/sbin/dockerd", "/usr/bin/dockerd") if os.access(p, os.X_OK)), None
    )


def install_docker(report: Reporter = quiet) -> str:
    """``apt-get install docker.io`` (root only); ``apt-get update`` and retry if it fails."""
    if os.geteuid() != 0:
        raise StartupError(
            "dockerd is not installed and installing it needs root; install docker.io "
            "(apt-get install docker.io) or run a Docker engine and set DOCKER_HOST"
        )
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "docker.io"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    report("installing docker.io (apt-get)")
    if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
        report("apt-get install failed; running apt-get update and retrying")
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise StartupError(
                f"apt-get install docker.io failed (exit {done.returncode}): "
                f"{done.stderr.strip()[-800:]}; install it by hand or set DOCKER_HOST"
            )
    path = dockerd_path()
    if path is None:
        raise StartupError("docker.io installed but no dockerd binary found on PATH")
    return path


def _link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def _own_bridge(report: Reporter) -> tuple[str, str]:
    """Create a uniquely named bridge with a random 10.x.y.1/24; return (name, cidr)."""
    name = f"llr{os.getpid() % 100000}{random.randrange(100):02d}"[:15]
    for _ in range(20):
        cidr = f"10.{random.randrange(200, 250)}.{random.randrange(1, 255)}.1/24"
        used = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True).stdout
        if cidr.rsplit(".", 1)[0] + "." not in used:
            break
    subprocess.run(["ip", "link", "add", "name", name, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", cidr, "dev", name], check=True)
    subprocess.run(["ip", "link", "set", name, "up"], check=True)
    report(f"{DEFAULT_BRIDGE} exists already (not ours): this engine uses its own bridge {name}")
    return name, cidr


def _mounts_under(root: Path) -> list[str]:
    """Mount points under ``root`` (deepest first), from /proc/self/mountinfo."""
    prefix = str(root) + "/"
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].replace("\\040", " ")
            if point.startswith(prefix) or point == str(root):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def _processes_under(root: Path) -> list[int]:
    """PIDs whose command line mentions ``root`` (dockerd, its containerd, shims)."""
    needle = str(root).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
    return pids


def leftovers(engine: PrivateEngine) -> list[str]:
    """What a stopped engine left behind: processes, mounts, its link, its directory."""
    found = [f"process {pid}" for pid in _processes_under(engine.root)]
    found += [f"mount {point}" for point in _mounts_under(engine.root)]
    if engine.created_bridge and _link_exists(engine.bridge):
        found.append(f"link {engine.bridge}")
    if engine.root.exists():
        found.append(f"directory {engine.root}")
    return found


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _stop(engine: PrivateEngine, report: Reporter) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(engine.pid, signal.SIGTERM)
    if engine.proc is not None:
        try:
            engine.proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            report(f"dockerd {engine.pid} ignored SIGTERM for {STOP_GRACE_SECONDS:.0f}s; killing")
            engine.proc.kill()
            engine.proc.wait()
    elif not _wait_gone(engine.pid, STOP_GRACE_SECONDS):
        with contextlib.suppress(ProcessLookupError):
            os.kill(engine.pid, signal.SIGKILL)
    # Its containerd and shims exit with it; anything still running from our root is ours.
    for pid in _processes_under(engine.root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _wait_gone(pid, 5)
    for point in _mounts_under(engine.root):
        subprocess.run(["umount", "-l", point], capture_output=True)
    if engine.created_bridge and _link_exists(engine.bridge):
        subprocess.run(["ip", "link", "del", engine.bridge], capture_output=True)
    shutil.rmtree(engine.root, ignore_errors=True)


@contextlib.contextmanager
def private_engine(report: Reporter = quiet, *, install: bool = False) -> Iterator[PrivateEngine]:
    """Start a private dockerd (root only), yield it, and tear it all down afterwards."""
    if os.geteuid() != 0:
        raise StartupError("a private dockerd needs root; run a Docker engine and set DOCKER_HOST")
    binary = dockerd_path()
    if binary is None:
        if not install:
            raise StartupError(
                "dockerd is not installed; install docker.io (apt-get install docker.io), or "
                "run with CI=true / SANDBOX_PRIVATE_DOCKER=1 to let the test run install it"
            )
        binary = install_docker(report)
    # Short path: the socket path must stay under the 108-byte limit of sun_path.
    root = Path(tempfile.mkdtemp(prefix="llr-dockerd-", dir="/tmp"))
    bridge, created, bridge_args = DEFAULT_BRIDGE, False, []
    engine: PrivateEngine | None = None
    try:
        if _link_exists(DEFAULT_BRIDGE):
            bridge, _ = _own_bridge(report)
            created, bridge_args = True, [f"--bridge={bridge}"]
        else:
            created = True  # dockerd creates docker0 now; it is ours to delete
        log = open(root / "dockerd.log", "wb")  # noqa: SIM115 - closed below, after the run
        cmd = [
            binary,
            "--host",
            f"unix://{root / 'docker.sock'}",
            "--data-root",
            str(root / "data"),
            "--exec-root",
            str(root / "exec"),
            "--pidfile",
            str(root / "dockerd.pid"),
            "--storage-driver=overlay2",
            "--iptables=false",
            "--ip-masq=false",
            *bridge_args,
        ]
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        engine = PrivateEngine(root, proc.pid, bridge, created, proc=proc)
        _wait_ready(engine, root / "dockerd.log")
        report(f"started {engine.describe()}")
        yield engine
    finally:
        if engine is not None:
            _stop(engine, report)
            left = leftovers(engine)
            if left:
                report(f"private dockerd teardown left: {', '.join(left)}")
            else:
                report(f"stopped {engine.describe()}; no container, process, mount or link left")
        else:
            if created and bridge != DEFAULT_BRIDGE and _link_exists(bridge):
                subprocess.run(["ip", "link", "del", bridge], capture_output=True)
            shutil.rmtree(root, ignore_errors=True)


def _wait_ready(engine: PrivateEngine, log_path: Path) -> None:
    import docker

    deadline = time.monotonic() + START_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if engine.proc is not None and engine.proc.poll() is not None:
            break
        if engine.socket.exists():
            try:
                client = docker.DockerClient(base_url=engine.host, timeout=3)
                try:
                    engine.version = client.version().get("Version", "")
                    return
                finally:
                    client.close()
            except Exception as e:  # not up yet
                last = str(e)
        time.sleep(0.2)
    tail = log_path.read_text(errors="replace")[-1500:] if log_path.exists() else ""
    raise StartupError(
        f"private dockerd (pid {engine.pid}) did not answer on {engine.host} within "
        f"{START_TIMEOUT:.0f}s ({last or 'exited'}); its log ends:\n{tail}"
    )


def _wants_private(environ: dict[str, str]) -> bool:
    return environ.get("CI", "").lower() == "true" or environ.get("SANDBOX_PRIVATE_DOCKER") == "1"


def run(cmd: list[str], report: Reporter = quiet) -> int:
    """Run ``cmd`` with a Docker engine: the one that answers, else a private one (CI/root).

    An engine that already answers (``$DOCKER_HOST`` or the default socket) is used as is and
    never stopped. Otherwise, under ``CI=true`` or ``SANDBOX_PRIVATE_DOCKER=1``, a private
    dockerd is started, ``cmd`` run with ``DOCKER_HOST`` pointing at it (the docker backend
    cannot pull there and builds its local MinIO image, saying so), and everything torn down.
    Else ``cmd`` runs without one (docker tests skip with the reason). Returns ``cmd``'s exit
    code, or 1 if the engine failed or left anything.
    """
    from sandbox.backends.docker import DockerBackend

    env = dict(os.environ)
    availability = DockerBackend().probe()
    if availability.ok:
        env[ENGINE_ENV] = f"the engine at {env.get('DOCKER_HOST', 'unix:///var/run/docker.sock')}"
        return subprocess.run(cmd, env=env).returncode
    if not _wants_private(env):
        report(f"no Docker engine ({availability.reason}); docker tests will skip")
        return subprocess.run(cmd, env=env).returncode
    failed = False
    try:
        with private_engine(report, install=True) as engine:
            env.update({"DOCKER_HOST": engine.host, ENGINE_ENV: engine.describe()})
            code = subprocess.run(cmd, env=env).returncode
        failed = bool(leftovers(engine))
    except StartupError as e:
        report(f"error: the private Docker engine failed: {e}")
        env[ENGINE_ENV] = f"none (the private dockerd failed: {str(e)[:200]})"
        code = subprocess.run(cmd, env=env).returncode
        failed = True
    return code or int(failed)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m sandbox.docker_engine",
        description="Run a command with a Docker engine (a private dockerd under CI as root).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="run CMD with an engine: python -m ... run -- CMD")
    run_p.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("run needs a command after --")

    def report(message: str) -> None:
        print(f"[docker-engine] {message}", file=sys.stderr, flush=True)

    return run(cmd, report)


if __name__ == "__main__":
    raise SystemExit(main())
