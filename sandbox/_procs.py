"""Local server processes: free ports, spawning with a log file, liveness, stopping, waiting."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sandbox.backends._base import StartupError

_PR_SET_PDEATHSIG = 1


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Ports the kernel reports free right now (bind port 0), all distinct."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def random_credentials() -> tuple[str, str]:
    """A fresh (access key, secret key) pair; never the well-known defaults."""
    alphabet = string.ascii_uppercase + string.digits
    access = "SBX" + "".join(secrets.choice(alphabet) for _ in range(17))
    return access, secrets.token_urlsafe(30)


def process_start_time(pid: int) -> int | None:
    """Kernel start time of ``pid`` (ticks since boot), to tell a reused pid apart. Linux only."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; fields after the closing parenthesis are fixed.
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[19])


def pid_state(pid: int, start_time: int | None) -> str | None:
    """``None`` if ``pid`` is the same live process that was recorded, else what was found."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return f"process {pid} is gone"
    except PermissionError:
        return f"process {pid} belongs to another user (pid reused)"
    now = process_start_time(pid)
    if start_time is not None and now is not None and now != start_time:
        return f"pid {pid} now belongs to another process (pid reused)"
    if _is_zombie(pid):
        return f"process {pid} has exited (zombie)"
    return None


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] == "Z"


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Process:
    """A server process started by :func:`spawn`."""

    popen: subprocess.Popen[bytes] | None
    pid: int
    start_time: int | None
    log_path: Path

    def exit_code(self) -> int | None:
        """The exit code if the process has ended, else ``None`` (reaps it when it is our child)."""
        if self.popen is not None:
            return self.popen.poll()
        return None if pid_state(self.pid, self.start_time) is None else -1

    def detach(self) -> None:
        """Let the process outlive us without Popen warning that it is still running."""
        if self.popen is None:
            return
        popen, self.popen = self.popen, None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            del popen


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    detached: bool = False,
) -> Process:
    """Start ``argv`` in its own session (Ctrl-C in a terminal does not reach it), logging output.

    A process that is not ``detached`` is also killed by the kernel if this Python process dies
    (Linux ``PR_SET_PDEATHSIG``, only when started from the main thread: the signal follows the
    thread, not the process).
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    use_pdeathsig = (
        not detached
        and sys.platform == "linux"
        and threading.current_thread() is threading.main_thread()
    )
    log_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with open(fd, "ab") as log:
        log.write(f"$ {' '.join(argv)}\n".encode())
        log.flush()
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent if use_pdeathsig else None,
        )
    return Process(popen, popen.pid, process_start_time(popen.pid), log_path)


def terminate(
    pid: int,
    *,
    start_time: int | None = None,
    grace: float = 5.0,
    popen: subprocess.Popen[bytes] | None = None,
) -> str:
    """SIGTERM the process group of ``pid``, SIGKILL after ``grace`` seconds; say what happened."""
    if pid_state(pid, start_time) is not None and (popen is None or popen.poll() is not None):
        return "already stopped"

    def gone() -> bool:
        if popen is not None:
            return popen.poll() is not None
        return pid_state(pid, start_time) is not None

    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if gone():
            return "stopped (SIGTERM)"
        time.sleep(0.05)
    _signal_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        if gone():
            return f"killed (SIGKILL after {grace:g}s grace)"
        time.sleep(0.05)
    return f"process {pid} survived SIGKILL"


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def remove_data_dir(data_dir: Path) -> None:
    """Delete a server's data directory, and its parent ``data/`` when that is left empty."""
    shutil.rmtree(data_dir, ignore_errors=True)
    with contextlib.suppress(OSError):
        data_dir.parent.rmdir()  # only succeeds when empty


def log_tail(path: Path | None, lines: int = 15) -> str:
    """The last lines of a log file, indented, or a note that there is none."""
    if path is None:
        return "  (no log)"
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        return f"  (log {path} unreadable: {e})"
    tail = text.splitlines()[-lines:]
    return "\n".join(f"  | {line}" for line in tail) or "  (log is empty)"


def wait_until(
    check: Callable[[], str | None],
    *,
    what: str,
    timeout: float,
    process: Process | None = None,
    log_path: Path | None = None,
    interval: float = 0.1,
) -> float:
    """Poll ``check`` (``None`` = ready, else what it saw) until ready; return the seconds waited.

    Fails early if ``process`` exits. Errors say what was waited for, what was seen last, and
    where the log is.
    """
    started = time.monotonic()
    seen = "nothing yet"
    while True:
        if process is not None and (code := process.exit_code()) is not None:
            raise StartupError(
                f"the server exited (code {code}) while waiting for {what}; last seen: {seen}\n"
                f"log {log_path}:\n{log_tail(log_path)}"
            )
        observed = check()
        if observed is None:
            return time.monotonic() - started
        seen = observed
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            raise StartupError(
                f"timed out after {timeout:g}s waiting for {what}; last seen: {seen}\n"
                f"log {log_path}:\n{log_tail(log_path)}"
            )
        time.sleep(interval)
