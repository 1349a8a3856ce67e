"""No orphans: the service's worker processes end with it (SIGTERM, Ctrl-C, even SIGKILL), and
every listener binds 127.0.0.1 only."""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox._procs import free_ports
from sandbox.service import ServiceConfig, fetch_status
from tests.integration.service.conftest import PROJECT, wait_for

pytestmark = pytest.mark.integration


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2] == "Z"  # a zombie has ended; its parent reaps it


def _foreground_service(minio: Any, tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``python -m sandbox.service`` as a terminal would run it: its own process group."""
    sb, _, _ = minio
    port, api_port = free_ports(2)
    config = ServiceConfig(
        port=port, api_port=api_port, run_dir=str(tmp_path / "svc"), project=str(PROJECT),
        function_env=sb.env(),
    )  # fmt: skip
    path = config.save(tmp_path / "service.json")
    log = (tmp_path / "service.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.service", "--config", str(path)],
        stdout=log,
        stderr=subprocess.STDOUT,
        process_group=0,
    )
    log.close()
    wait_for(lambda: _answers(config.url), timeout=30, what="the service")
    return proc, config.url


def _answers(url: str) -> bool:
    try:
        fetch_status(url)
    except OSError:
        return False
    return True


def _start_workers(url: str, new_client: Any) -> list[int]:
    """Two idle environments and one busy one (mid-invocation) in the service at ``url``."""
    client = new_client(url)
    client.invoke(FunctionName="echo", Payload=b"{}")["Payload"].read()
    client.invoke(FunctionName="hold", Payload=b'{"seconds": 0}')["Payload"].read()
    busy = new_client(url)
    busy.invoke(FunctionName="pair", InvocationType="Event", Payload=b'{"seconds": 20}')[
        "Payload"
    ].read()
    wait_for(
        lambda: fetch_status(url)["totals"]["busy"] == 1, timeout=20, what="a busy environment"
    )
    status = fetch_status(url)
    pids = [p for f in status["functions"].values() for p in f["pids"]]
    assert len(pids) == 3
    return pids


@pytest.mark.slow
@pytest.mark.parametrize(
    "how",
    [
        pytest.param(
            lambda p: os.killpg(p.pid, signal.SIGINT), id="ctrl-c"
        ),  # the terminal's group
        pytest.param(lambda p: p.send_signal(signal.SIGTERM), id="sigterm"),
        pytest.param(lambda p: p.kill(), id="sigkill"),  # the kernel ends the workers
    ],
)
def test_stopping_the_service_leaves_no_worker_process(
    minio: Any, tmp_path: Path, new_client: Any, how: Any
) -> None:
    proc, url = _foreground_service(minio, tmp_path)
    try:
        pids = _start_workers(url, new_client)
        how(proc)
        proc.wait(timeout=30)
        for pid in pids:
            wait_for(lambda pid=pid: _gone(pid), timeout=10, what=f"worker {pid} to end")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != -signal.SIGKILL:
        # A service that could clean up removed its environments' /tmp dirs too (after a
        # SIGKILL they stay in its run dir, which `down` removes with the sandbox's).
        assert not (tmp_path / "svc" / "envs").exists()


def _listening(pid: int) -> list[str]:
    """``ip:port`` of every TCP socket ``pid`` listens on (from /proc, no tools needed)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A = LISTEN
                address, port = local.split(":")
                found.append(f"{_ip(address)}:{int(port, 16)}")
    return found


def _ip(hex_address: str) -> str:
    """/proc/net/tcp* addresses are 32-bit words in host (little-endian) byte order."""
    raw = b"".join(
        bytes.fromhex(hex_address[i : i + 8])[::-1] for i in range(0, len(hex_address), 8)
    )
    address = ipaddress.ip_address(raw)
    return str(address) if address.version == 4 else f"[{address}]"


def test_every_listener_binds_127_0_0_1_only(service: Any, lam: Any, minio: Any) -> None:
    lam.invoke(FunctionName="echo", Payload=b"{}")["Payload"].read()
    status = service.status()
    workers = [p for f in status["functions"].values() for p in f["pids"]]
    assert workers
    service_listeners = _listening(service.pid)
    assert sorted(service_listeners) == sorted(
        [f"127.0.0.1:{service.config.port}", f"127.0.0.1:{service.config.api_port}"]
    )
    for pid in workers:
        assert _listening(pid) == []  # environments listen on nothing
    # MinIO's listeners are loopback too (it adds [::1] beside 127.0.0.1 on its own).
    minio_listeners = _listening(minio[0].handle.pid)
    assert minio_listeners
    assert all(a.startswith(("127.0.0.1:", "[::1]:")) for a in minio_listeners), minio_listeners


def test_a_request_to_another_local_address_is_refused(service: Any) -> None:
    import socket

    # 127.0.0.2 is loopback too, but not the address bound: nothing answers there.
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.settimeout(2)
        s.connect(("127.0.0.2", service.config.port))
