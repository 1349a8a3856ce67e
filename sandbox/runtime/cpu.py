"""Lambda's CPU share for one execution environment: a cgroup that throttles the handler.

Lambda gives a function CPU in proportion to its memory: 1,769 MB is one vCPU (AWS,
"Configuring Lambda function memory"), so 128 MB gets about 1/14 of one and 10,240 MB about
5.8. Locally, `CpuShare` puts a CFS quota of ``memory_mb / 1769`` vCPU (capped at the cores this
machine has) on a cgroup of its own and moves the *handler's thread* into it.

What is throttled, and why:

* The handler runs on the environment's worker thread (`sandbox.runtime._worker`). That thread
  joins the cgroup when it starts; cgroup v1's ``tasks`` file takes thread ids. A thread the
  handler creates (asyncio's default executor, botocore's, a ThreadPoolExecutor) starts in its
  creator's cgroup, so it is throttled too, and shares the same quota, as on Lambda.
* The runner's own threads (the caller that times Duration, the /tmp and RSS samplers) stay
  outside: they are neither slowed nor billed. One caveat: a handler thread throttled while it
  holds the GIL keeps Python threads waiting until the next period, so the period is short
  (`PERIOD_US`, 20 ms), which bounds such a stall to under 20 ms.
* The quota is at least 1 ms a period (the kernel refuses less); at 128 MB and a 20 ms period it
  is 1.447 ms.
* INIT runs with more: the on-demand boost (`init_vcpus`, with the sources), unless the
  environment asks for ``init_cpu="share"``.
* A quota is a ceiling. On a machine whose cores are busy with other work the handler can get
  less than its share, and its durations then overstate Lambda's (``invoke.py --tune`` and the
  bench report say so when the load average is over the core count).

Modes (`CpuShare.mode`): ``"cgroup v1"``; ``"full (--cpu full)"`` when asked for the whole
machine; ``"not limited: <reason>"`` when no cgroup can be written (not root, no ``cpu``
controller). cgroup v2 (``cpu.max``) is detected and reported, but thread-level limits there need
a threaded subtree and moving the whole process, which this module does not do: on v2 the mode
says so (see `_v2_reason`).

Every cgroup is named ``llr-<pid>-<random>`` and removed by `close` (threads still in it are
moved back to the parent first). Cgroups left by a process that was killed with SIGKILL are
removed by the next `CpuShare.create` on this machine.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

__all__ = [
    "CPU_MODES",
    "MIN_QUOTA_US",
    "PERIOD_US",
    "VCPU_MB",
    "CpuMode",
    "CpuShare",
    "init_vcpus",
    "lambda_vcpus",
    "quota_us",
]

CpuMode = Literal["lambda", "full"]
CPU_MODES: tuple[str, ...] = ("lambda", "full")
VCPU_MB = 1769  # memory that buys one vCPU
PERIOD_US = 20_000
MIN_QUOTA_US = 1_000  # the kernel refuses a smaller cfs_quota_us
V1_ROOT = Path("/sys/fs/cgroup/cpu")
V2_ROOTS = (Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))
PREFIX = "llr-"
_NAME = re.compile(r"^llr-(\d+)-[0-9a-f]+$")


def lambda_vcpus(memory_mb: int, cores: int | None = None) -> float:
    """The vCPUs Lambda gives ``memory_mb``, capped at ``cores`` (default: this machine's)."""
    return min(memory_mb / VCPU_MB, float(cores or os.cpu_count() or 1))


def init_vcpus(memory_mb: int, cores: int | None = None) -> float:
    """The vCPUs of an on-demand INIT phase: the vCPU *count* of the microVM, unthrottled.

    Not documented by AWS; measured by others. Luc van Donkersgoed (2022, "Lambda Cold Starts
    and Bootstrap Code") found that INIT code runs faster than the same code in the handler at
    every memory size up to 3 GB; AJ Stuyvenberg (DataDog/datadog-lambda-extension PR #700,
    June 2025) wrote that on-demand INIT gets "boosted" vCPU, not throttled like invocations, and
    that provisioned-concurrency INIT does not. The microVM has 2 vCPUs up to 3,008 MB and one
    more per 1,769 MB above (rwnx/lambda-cpuinfo), never less than the memory share.
    """
    count = 2 if memory_mb <= 3008 else max(3, math.ceil(memory_mb / VCPU_MB))
    return min(max(float(count), memory_mb / VCPU_MB), float(cores or os.cpu_count() or 1))


def quota_us(vcpus: float, period_us: int = PERIOD_US) -> int:
    """``cpu.cfs_quota_us`` for ``vcpus`` per period (>= the kernel's 1 ms)."""
    return max(MIN_QUOTA_US, round(vcpus * period_us))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _own_v1_cgroup(root: Path) -> Path:
    """This process's cgroup in the v1 ``cpu`` hierarchy mounted at ``root``."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return root
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "cpu" in controllers.split(","):
            candidate = root / path.lstrip("/")
            return candidate if candidate.is_dir() else root
    return root


def _v2_reason() -> str | None:
    """Why the unified hierarchy is not used (None when there is none to speak of)."""
    for root in V2_ROOTS:
        controllers = root / "cgroup.controllers"
        if controllers.exists():
            if "cpu" not in controllers.read_text().split():
                return f"cgroup v2 at {root} has no cpu controller"
            return (
                f"cgroup v2 at {root} has a cpu controller, but thread-level limits there "
                "are not implemented"
            )
    return None


@dataclass
class CpuShare:
    """One environment's CPU limit; `join` from the thread to throttle, `close` when done."""

    mode: str
    vcpus: float | None = None  # the share applied to invocations (None: not limited)
    path: Path | None = None  # the cgroup (None: not limited)
    period_us: int = PERIOD_US

    @property
    def limited(self) -> bool:
        return self.path is not None

    @classmethod
    def create(
        cls,
        memory_mb: int,
        cpu: CpuMode = "lambda",
        *,
        root: Path = V1_ROOT,
        cores: int | None = None,
        period_us: int = PERIOD_US,
    ) -> CpuShare:
        """A cgroup limited to ``memory_mb``'s share, or a `CpuShare` saying why there is none."""
        if cpu == "full":
            return cls("full (--cpu full)")
        if cpu != "lambda":
            raise ValueError(f"cpu mode {cpu!r} is not one of {CPU_MODES}")
        if not (root / "cpu.cfs_quota_us").exists():
            v2 = _v2_reason()
            where = f"no cgroup v1 cpu controller at {root}"
            return cls(f"not limited: {where}" + (f"; {v2}" if v2 else ""))
        parent = _own_v1_cgroup(root)
        _remove_stale(parent)
        vcpus = lambda_vcpus(memory_mb, cores)
        path = parent / f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except OSError as e:
            return cls(f"not limited: cannot create a cgroup under {parent} ({e.strerror})")
        share = cls("cgroup v1", vcpus, path, period_us)
        try:
            (path / "cpu.cfs_period_us").write_text(str(period_us))
            share.set_vcpus(vcpus)
        except OSError as e:
            share.close()
            return cls(f"not limited: cannot set a CPU quota on {path} ({e.strerror})")
        return share

    def set_vcpus(self, vcpus: float) -> None:
        """Change the quota (INIT runs with more than invocations do)."""
        if self.path is not None:
            (self.path / "cpu.cfs_quota_us").write_text(str(quota_us(vcpus, self.period_us)))

    def describe(self, memory_mb: int, init_vcpus: float | None = None) -> str:
        """One line for humans, printed before START: the share and how it was applied."""
        cores = os.cpu_count() or 1
        if self.vcpus is None:
            tail = "" if self.mode.startswith("full") else "; figures below are NOT Lambda's"
            return f"CPU: {self.mode}, {cores} cores whatever the memory{tail}"
        init = "" if init_vcpus is None else f"; INIT {init_vcpus:g} vCPU (on-demand boost)"
        return (
            f"CPU: {self.vcpus:.3f} vCPU ({memory_mb} MB / {VCPU_MB} MB per vCPU, of "
            f"{cores} cores), {self.mode}, handler threads only{init}"
        )

    def stat(self) -> dict[str, int]:
        """The cgroup's ``cpu.stat`` (nr_periods, nr_throttled, throttled_time in ns...)."""
        if self.path is None:
            return {}
        pairs = (line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
        return {name: int(value) for name, value in pairs}

    def join(self) -> None:
        """Move the calling thread (and the threads it creates from now on) into the cgroup.

        A failure turns this share into "not limited" with the reason, rather than raising on a
        worker thread: the caller reports `mode`, so the figures are never passed off as
        throttled when they are not.
        """
        if self.path is None:
            return
        try:
            (self.path / "tasks").write_text(str(threading.get_native_id()))
        except OSError as e:
            path, self.path, self.vcpus = self.path, None, None
            self.mode = f"not limited: cannot move the handler thread into {path} ({e.strerror})"
            _remove(path)

    def close(self) -> None:
        """Move every thread still in the cgroup back to its parent, then remove it."""
        path, self.path = self.path, None
        if path is not None:
            _remove(path)

    def __enter__(self) -> CpuShare:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _remove(path: Path, attempts: int = 50) -> None:
    """Empty ``path`` into its parent and rmdir it (a thread may spawn one more meanwhile)."""
    parent_tasks = path.parent / "tasks"
    for _ in range(attempts):
        try:
            tids = (path / "tasks").read_text().split()
        except FileNotFoundError:
            return
        for tid in tids:
            try:
                parent_tasks.write_text(tid)
            except OSError as e:
                if e.errno != errno.ESRCH:  # the thread ended meanwhile: nothing to move
                    raise
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != errno.EBUSY:
                raise
        time.sleep(0.01)
    raise RuntimeError(f"cannot remove cgroup {path}: threads keep appearing in it")


def _remove_stale(parent: Path) -> None:
    """Remove ``llr-<pid>-*`` cgroups whose process is gone (killed before it could clean up)."""
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        m = _NAME.match(entry.name)
        if m and entry.is_dir() and not _pid_alive(int(m.group(1))):
            # Another cleaner may get there first; a stuck one is reported by its owner's close.
            with contextlib.suppress(OSError, RuntimeError):
                _remove(entry, attempts=3)
