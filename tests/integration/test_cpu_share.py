"""The CPU share on a real cgroup: calibration, what is throttled, and nothing left behind.

These need a writable cgroup v1 ``cpu`` controller (root); elsewhere they skip with the reason
`CpuShare` gives.

How calibration stays robust on a shared, loaded machine (2 cores, other work running):

* The handler reports the CPU seconds its work took (``time.thread_time``). A run's *effective
  vCPUs* are CPU seconds / wall seconds: the fraction of a core the scheduler granted, exactly
  what the CFS quota caps. It does not depend on how fast the core was at that moment (steal
  time, a busy SMT sibling), which changes the wall time of an unthrottled run by 2x or more
  here. Wall(m) / wall(1769) = (m / 1769)^-1 is the same claim when 1,769 MB gets a whole core.
* The calibration tests run every thread of this process at nice -15 (`high_priority`), so
  other work on the machine cannot keep the handler from its quota (it still cannot get more).
  All of them: the runner's /tmp sampler takes the GIL every millisecond, and if the machine's
  load then keeps *it* off a core, the handler waits for the GIL and looks throttled.
* A quota is a ceiling: load can only make a throttled run slower, never faster. So the best of
  at least four interleaved trials per setting is compared with the ideal, within 25% (the
  issue's bound); on a busy machine more trials run (up to twelve) until each setting had one
  with a core to spare. A quota that did not hold shows up as a run *faster* than its share
  allows, and that always fails. Only when the machine is overloaded (load average over four
  per core) and a setting never got its share does the test skip, saying so with the figures.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.runtime import Environment, FunctionConfig
from sandbox.runtime.cpu import VCPU_MB, CpuShare
from sandbox.runtime.invocation import Invocation

H = "tests.unit.handlers.cpu_bound.handler"
REPO = Path(__file__).resolve().parents[2]
TOLERANCE = 0.25
ROUNDS = 60_000  # ~0.03-0.05 s of CPU here: 0.4-0.7 s at 128 MB
# The share test's work: several 100 ms CFS periods' worth at every setting, so where an
# invocation starts in a period (a head start of up to one period's quota) moves the measured
# share by a few percent, not by the ~40% seen with ROUNDS there.
SHARE_ROUNDS = 6 * ROUNDS
NICE = -15
THROTTLED = (512, 256, 128)
MAX_TRIALS = 12
OVERLOADED = 4  # load average per core above which a setting may never get its share


def _require_cgroup() -> Path:
    share = CpuShare.create(128)
    try:
        if not share.limited:
            pytest.skip(f"no writable cgroup: {share.mode}")
        assert share.path is not None
        return share.path.parent
    finally:
        share.close()


@pytest.fixture
def cgroup_parent() -> Path:
    return _require_cgroup()


@pytest.fixture
def high_priority() -> Iterator[None]:
    """Every thread of this process (and those it starts) at nice `NICE`; restored after."""
    tids = [int(t) for t in os.listdir("/proc/self/task")]
    saved = {tid: os.getpriority(os.PRIO_PROCESS, tid) for tid in tids}
    try:
        for tid in tids:
            os.setpriority(os.PRIO_PROCESS, tid, NICE)
    except PermissionError as e:
        pytest.skip(f"cannot raise thread priority for a calibration on a loaded machine: {e}")
    try:
        yield
    finally:
        for tid, nice in saved.items():
            with contextlib.suppress(ProcessLookupError):
                os.setpriority(os.PRIO_PROCESS, tid, nice)


def ours(parent: Path, pid: int | None = None) -> list[str]:
    """The cgroups a process (this one by default) has under ``parent``."""
    prefix = f"llr-{pid or os.getpid()}-"
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(prefix))


def env_at(memory_mb: int, **kw: Any) -> Environment:
    kw.setdefault("handler", H)
    return Environment(FunctionConfig(memory_mb=memory_mb, **kw))


def vcpus(inv: Invocation) -> float:
    """CPU seconds the handler's work took / its Duration: the share it was granted."""
    assert inv.ok, inv.error
    return float(inv.response["cpu_s"]) / (inv.duration_ms / 1000)


def _within(measured: float, ideal: float) -> bool:
    return abs(measured / ideal - 1) <= TOLERANCE


@pytest.mark.slow
def test_cpu_bound_work_takes_1769_over_memory_times_as_long_as_at_1769_mb(
    cgroup_parent: Path, high_priority: None
) -> None:
    settings = (1769, 512, 256, 128)
    granted: dict[int, list[float]] = {m: [] for m in settings}
    walls: dict[int, list[float]] = {m: [] for m in settings}
    envs = {m: env_at(m).__enter__() for m in settings}
    try:
        for env in envs.values():
            env.init()
            assert env.cpu_mode == "cgroup v1"
        for trial in range(MAX_TRIALS):  # interleaved: a burst of load hits every setting alike
            for m, env in envs.items():
                inv = env.invoke({"rounds": SHARE_ROUNDS})
                granted[m].append(vcpus(inv))
                walls[m].append(inv.duration_ms)
            if trial >= 3 and all(
                _within(1 / max(granted[m]), VCPU_MB / m) for m in THROTTLED
            ):  # on a busy machine, more trials until each setting had one with a free core
                break
        throttled = {m: env.cpu_share.stat()["nr_throttled"] for m, env in envs.items()}
        periods = envs[VCPU_MB].cpu_share.stat()["nr_periods"]
    finally:
        for env in envs.values():
            env.close()
    slowdown = {m: 1 / max(granted[m]) for m in settings}
    report: dict[int | str, str] = {
        m: f"{slowdown[m]:.2f}x one vCPU (ideal {VCPU_MB / m:.2f}x)" for m in settings
    }
    report["same-run wall 128 / wall 1769"] = (
        f"{statistics.median(walls[128]) / statistics.median(walls[1769]):.2f}x"
    )
    report["trials"] = str(len(walls[128]))
    # Faster than the share allows: the quota does not hold. Load cannot cause that, but where
    # an invocation starts in the 100 ms CFS period can: a cgroup idle since the last refill
    # runs a whole period's quota at once (a CI run with 0.03-0.05 CPU-s of work saw 2.52x
    # slowdown against 3.46x at 512 MB in its best trial). SHARE_ROUNDS spans several periods
    # and the median trial is checked, not the luckiest.
    typical = {m: 1 / statistics.median(granted[m]) for m in settings}
    report["median trial"] = ", ".join(f"{m}: {typical[m]:.2f}x" for m in settings)
    for m in THROTTLED:
        assert typical[m] >= (1 - TOLERANCE) * VCPU_MB / m, report
    slow = [m for m in THROTTLED if not _within(slowdown[m], VCPU_MB / m)]
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if slow and load > OVERLOADED * cores:
        pytest.skip(
            f"machine overloaded (load average {load:.0f} on {cores} cores): in "
            f"{len(walls[128])} trials {slow} MB never got a core for their share; {report}"
        )
    assert not slow, report
    # Not asserted: 1,769 MB's throttle counter. Its quota is exactly one vCPU, and with work
    # spanning many 100 ms periods CFS's 5 ms quota slices throttle a thread that uses all of it
    # in 6-14% of periods (seen in this test) while its granted share stays ~0.98 vCPU. (The
    # other settings' counters cover one invocation at most: when this test process's RSS is
    # over a setting's memory, Lambda's rule discards that environment and its cgroup after
    # each invocation.) The granted shares above are the measure.
    report["1769 MB throttled periods"] = f"{throttled.get(VCPU_MB, 0)} of {periods}"


@pytest.mark.slow
def test_init_gets_the_on_demand_boost_unless_asked_to_share(
    cgroup_parent: Path, high_priority: None
) -> None:
    init_env = {"CPU_INIT_ROUNDS": str(ROUNDS)}
    granted: dict[str, list[float]] = {"boost": [], "share": []}
    throttled: dict[str, list[int]] = {"boost": [], "share": []}
    for _ in range(4):
        for init_cpu in ("boost", "share"):
            with env_at(128, env=init_env, init_cpu=init_cpu) as env:
                init_ms, error = env.init()
                assert error is None, error
                throttled[init_cpu].append(env.cpu_share.stat()["nr_throttled"])
                inv = env.invoke({})
                assert inv.ok, inv.error
                granted[init_cpu].append(inv.response["init_cpu_s"] / (init_ms / 1000))
    boost, share = (1 / max(granted[k]) for k in ("boost", "share"))
    msg = f"INIT at 128 MB: boosted {boost:.2f}x one vCPU, shared {share:.2f}x; {throttled}"
    assert _within(share, VCPU_MB / 128), msg
    # Boosted, INIT is never throttled (its quota is the machine's cores); only the machine's
    # load slows it, so its time is compared with the throttled one's, not with one vCPU.
    assert all(n == 0 for n in throttled["boost"]), msg
    assert all(n > 0 for n in throttled["share"]), msg
    assert boost < 0.5 * share, msg


def test_threads_the_handler_starts_share_its_quota(cgroup_parent: Path) -> None:
    with env_at(128) as env:
        inv = env.invoke({"rounds": ROUNDS // 4, "threads": 2})
    # Two threads outside the cgroup would be granted up to two cores; inside, 128/1769 of one.
    assert vcpus(inv) < (1 + TOLERANCE) * 128 / VCPU_MB


def test_the_runner_thread_stays_outside_the_cgroup(cgroup_parent: Path) -> None:
    import threading

    with env_at(128) as env:
        path = env._cpu.path
        assert path is not None
        tasks = (path / "tasks").read_text().split()
        assert str(threading.get_native_id()) not in tasks
        assert len(tasks) == 1  # the worker thread, nothing else


def test_cpu_full_creates_no_cgroup_and_says_so(cgroup_parent: Path) -> None:
    with env_at(128, cpu="full") as env:
        assert env.cpu_mode == "full (--cpu full)"
        assert env.invoke({}).cpu_mode == "full (--cpu full)"
        assert ours(cgroup_parent) == []


def test_no_cgroup_is_left_after_success(cgroup_parent: Path) -> None:
    with env_at(256) as env:
        assert len(ours(cgroup_parent)) == 1
        assert env.invoke({"rounds": 10}).ok
    assert ours(cgroup_parent) == []


def test_no_cgroup_is_left_after_an_error_or_a_failed_init(cgroup_parent: Path) -> None:
    with env_at(256, handler="tests.unit.handlers.probes.boom") as env:
        assert env.invoke({}).status == "error"
    with env_at(256, handler="tests.unit.handlers.no_such_module.handler") as env:
        assert env.invoke({}).status == "error"  # INIT failed: the environment was reset
        assert len(ours(cgroup_parent)) == 1  # the new environment's, and only that one
    assert ours(cgroup_parent) == []


def test_no_cgroup_is_left_after_a_timeout(cgroup_parent: Path) -> None:
    with env_at(128, timeout=0.3, lambda_limits=False) as env:
        inv = env.invoke({"rounds": 10_000_000})
        assert inv.status == "timeout"
        assert len(ours(cgroup_parent)) == 1  # the discarded one is gone, the new one is there
    assert ours(cgroup_parent) == []


def test_no_cgroup_is_left_after_ctrl_c(cgroup_parent: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, sys
        from sandbox.runtime import Environment, FunctionConfig
        with Environment(FunctionConfig(handler={H!r}, memory_mb=128)) as env:
            print(os.getpid(), flush=True)
            env.invoke({{"rounds": 10**9}})
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            pid = int(proc.stdout.readline())
            assert len(ours(cgroup_parent, pid)) == 1
            time.sleep(0.3)  # the handler is running, throttled
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) != 0  # KeyboardInterrupt
        finally:
            if proc.poll() is None:
                proc.kill()
    assert ours(cgroup_parent, pid) == []


def test_a_cgroup_left_by_a_killed_process_is_removed_by_the_next_one(
    cgroup_parent: Path,
) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    stale = cgroup_parent / f"llr-{proc.pid}-deadbeef"
    stale.mkdir()
    try:
        CpuShare.create(128).close()
        assert not stale.exists()
    finally:
        if stale.exists():
            stale.rmdir()
