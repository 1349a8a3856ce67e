"""``invoke.py``: the CPU mode line, ``--cpu``, and ``--tune`` end to end and with bad input."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import invoke
from sandbox.runtime.cpu import CpuShare

CPU_BOUND = "tests.unit.handlers.cpu_bound.handler"
ROOT = Path(__file__).resolve().parents[2]


def _cgroup_mode() -> str:
    share = CpuShare.create(128)
    share.close()
    return share.mode


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tune", "128,512", "--strategy", "cheapest"], "--strategy 'cheapest' is not one of"),
        (["--tune", "64,512"], "64 MB is outside Lambda's range 128-10240"),
        (["--tune", "512,20000"], "20000 MB is outside"),
        (["--tune", ""], "--tune needs memory settings"),
        (["--tune", ","], "--tune needs memory settings"),
        (["--tune", "128,512", "--cold"], "drop --cold"),
        (["--tune", "128,512", "--memory", "256"], "drop --memory"),
        (["--tune", "128,512", "--cpu", "full"], "--cpu full"),
        (["--tune", "128", "--arch", "sparc"], "--arch 'sparc'"),
        (["--strategy", "speed"], "add --tune"),
    ],
)
def test_bad_tune_arguments_exit_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        invoke.main(["--target", "none", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_tune_with_a_payload_that_cannot_be_read_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = invoke.main(
        ["--target", "none", "--tune", "128", "--payload", str(tmp_path / "missing.json"),
         "--tune-dir", str(tmp_path / "out")]
    )  # fmt: skip
    assert code == 2
    assert "cannot read the event" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing half written


def test_the_cpu_mode_is_one_line_before_start_and_in_json_not_in_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert invoke.main(["--target", "none", "--handler", CPU_BOUND, "--memory", "256"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("CPU: ") and out[1].startswith("START RequestId:")
    report = next(line for line in out if line.startswith("REPORT"))
    assert "CPU" not in report and "vCPU" not in report
    mode = _cgroup_mode()
    assert (mode in out[0]) if mode == "cgroup v1" else ("NOT Lambda's" in out[0])
    assert invoke.main(["--target", "none", "--handler", CPU_BOUND, "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["cpu_mode"] == mode and doc["invocations"][0]["cpu_mode"] == mode
    assert captured.err.startswith("CPU: ")


def test_cpu_full_turns_the_limit_off_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--target", "none", "--handler", CPU_BOUND, "--cpu", "full", "--json"]
    assert invoke.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["cpu_mode"] == "full (--cpu full)"


def _tune(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """``invoke.py --tune`` in its own process: matplotlib stays out of the test process,
    whose RSS other tests read as Max Memory Used."""
    return subprocess.run(
        [sys.executable, "invoke.py", "--target", "none", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_tune_prints_the_table_and_picks_and_writes_json_and_svg(tmp_path: Path) -> None:
    payload = tmp_path / "event.json"
    payload.write_text(json.dumps({"rounds": 20_000}))
    out_dir = tmp_path / "tune"
    done = _tune(["--handler", CPU_BOUND, "--payload", str(payload), "--tune", "1769,128",
                  "--repeat", "2", "--tune-dir", str(out_dir)])  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "[1/2] 128 MB" in done.stderr and "[2/2] 1769 MB" in done.stderr  # progress
    assert "[1/2] 128 MB: 1 cold + 2 warm ...\n" in done.stderr  # off a terminal: plain lines
    lines = done.stdout.splitlines()
    assert lines[0].startswith("CPU: ")
    rows = [line for line in lines if line.startswith("| 128 MB") or line.startswith("| 1769 MB")]
    assert len(rows) == 2
    for strategy in ("cost", "speed", "balanced"):
        assert any(line.strip().startswith(f"{strategy}:") for line in lines)
    doc: dict[str, Any] = json.loads((out_dir / "tune.json").read_text())
    assert [s["memory_mb"] for s in doc["settings"]] == [128, 1769]
    for setting in doc["settings"]:
        assert len(setting["runs"]) == 3  # the cold one and two warm
        assert setting["runs"][0]["cold"] and not setting["runs"][1]["cold"]
        assert setting["status"] == "ok"
        assert setting["cpu_mode"] == _cgroup_mode()
    assert {doc["picks"][s]["memory_mb"] for s in ("cost", "speed", "balanced")} <= {128, 1769}
    assert doc["machine"]["cores"] >= 1
    # Not a timing claim (the calibration test makes those, robustly): the vCPU each setting got.
    if _cgroup_mode() == "cgroup v1":
        assert [round(s["vcpus"], 3) for s in doc["settings"]] == [0.072, 1.0]
    assert (out_dir / "tune.svg").read_text().lstrip().startswith("<?xml")


def test_on_a_terminal_each_setting_runs_under_a_live_status(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    try:
        argv = ["--handler", "tests.unit.handlers.noop.handler", "--tune", "128,256"]
        argv += ["--repeat", "1", "--tune-dir", str(tmp_path)]
        proc = subprocess.Popen(
            [sys.executable, "invoke.py", "--target", "none", *argv],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=follower,
            env={**os.environ, "TERM": "xterm", "COLUMNS": "120"},
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not data:
                break
            chunks.append(data)
        assert proc.wait(timeout=300) == 0
    finally:
        os.close(leader)
    shown = b"".join(chunks).decode(errors="replace")
    assert "\x1b[" in shown  # rich drew (and cleared) a live line
    assert "[1/2] 128 MB: 1 cold + 1 warm" in shown and "[2/2] 256 MB: 1 cold + 1 warm" in shown
    assert "1 cold + 1 warm ...\n" not in shown.replace("\r\n", "\n")  # no plain start lines
    assert "[1/2] 128 MB: warm " in shown and "[2/2] 256 MB: warm " in shown  # the summaries


def test_tune_json_mode_prints_one_json_object(tmp_path: Path) -> None:
    done = _tune(["--handler", "tests.unit.handlers.noop.handler", "--tune", "128",
                  "--repeat", "1", "--tune-dir", str(tmp_path), "--json"])  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["recommended_mb"] == 128 and doc["strategy"] == "cost"


def test_ctrl_c_during_a_tune_leaves_no_cgroup(tmp_path: Path) -> None:
    share = CpuShare.create(128)
    path = share.path
    share.close()
    if path is None:
        pytest.skip(f"no writable cgroup: {share.mode}")
    parent = path.parent

    def llr() -> set[str]:
        return {p.name for p in parent.iterdir() if p.name.startswith("llr-")}

    before = llr()
    payload = tmp_path / "event.json"
    payload.write_text(json.dumps({"rounds": 10**9}))
    argv = [sys.executable, "invoke.py", "--target", "none", "--handler", CPU_BOUND,
            "--payload", str(payload), "--tune", "128,256", "--timeout", "60",
            "--tune-dir", str(tmp_path / "out")]  # fmt: skip
    with subprocess.Popen(
        argv, cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as proc:
        try:
            deadline = time.monotonic() + 30
            while not (llr() - before) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert llr() - before, "the tune's child never created its cgroup"
            time.sleep(0.3)
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert proc.returncode != 0
    assert llr() - before == set()
    assert not (tmp_path / "out").exists()
