"""``invoke.py`` as a developer drives it: the default target, ``--watch``, ``--debug``,
``--log-format json``. Each runs the real CLI as a subprocess."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox import state as state_mod
from tests.dap_client import DapClient

ROOT = Path(__file__).resolve().parents[2]
INVOKE = str(ROOT / "invoke.py")
APP = """import logging
logging.getLogger().setLevel(logging.INFO)
VERSION = {n}
def handler(event, context):
    logging.getLogger("app").info("running version %s", VERSION)
    return {{"version": VERSION}}
"""


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def _invoke(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, INVOKE, *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "fn"
    folder.mkdir()
    (folder / "app.py").write_text(APP.format(n=1))
    return folder


class Lines:
    """A subprocess's merged output, read on a thread so the test can wait for a line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.q: queue.Queue[str] = queue.Queue()
        self.all: list[str] = []
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.q.put(line.rstrip("\n"))

    def until(self, pattern: str, timeout: float = 60.0) -> re.Match[str] | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                break
            self.all.append(line)
            if m := re.search(pattern, line):
                return m
        return None

    def expect(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        m = self.until(pattern, timeout)
        assert m is not None, f"no line matching {pattern!r}; output so far:\n" + "\n".join(
            self.all
        )
        return m


@pytest.fixture
def start() -> Iterator[Any]:
    started: list[Lines] = []

    def launch(args: list[str], cwd: Path) -> Lines:
        proc = subprocess.Popen(
            [sys.executable, "-u", INVOKE, *args],
            cwd=cwd,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: nothing it starts may outlive it
        )
        started.append(Lines(proc))
        return started[-1]

    try:
        yield launch
    finally:
        for lines in started:
            if lines.proc.poll() is None:
                os.killpg(lines.proc.pid, signal.SIGKILL)
            lines.proc.wait(timeout=10)
            lines.reader.join(timeout=10)
            assert lines.proc.stdout is not None
            lines.proc.stdout.close()


def _group_is_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


# -- the default target -------------------------------------------------------------------


def test_with_no_sandbox_recorded_invoke_runs_without_an_endpoint_and_says_so(
    app_dir: Path,
) -> None:
    done = _invoke(
        ["--handler", "app.handler", "--state-dir", str(app_dir / ".none"), "--json"], app_dir
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["target"] == "none" and out["response"] == {"version": 1}
    notes = [line for line in done.stderr.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: no sandbox is recorded; running with no S3 endpoint "
        "(`python -m sandbox up` starts one; --target chooses)"
    ]


def test_with_a_healthy_sandbox_recorded_invoke_uses_it_by_default(
    s3_sandbox: Any, app_dir: Path, tmp_path: Path
) -> None:
    (app_dir / "app.py").write_text(
        "import os\ndef handler(event, context):\n"
        "    return {'endpoint': os.environ.get('AWS_ENDPOINT_URL_S3')}\n"
    )
    state_mod.save(tmp_path / "state", state_mod.State(s3_sandbox.handle))
    done = _invoke(
        ["--handler", "app.handler", "--state-dir", str(tmp_path / "state"), "--json"], app_dir
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["target"] == "sandbox"
    assert out["response"]["endpoint"] == s3_sandbox.endpoint.url
    assert "note:" not in done.stderr


# -- --log-format json --------------------------------------------------------------------


def test_log_format_json_prints_platform_records_and_json_application_lines(
    app_dir: Path,
) -> None:
    done = _invoke(
        ["--handler", "app.handler", "--state-dir", str(app_dir / ".none"), "--log-format", "json"],
        app_dir,
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout[: done.stdout.index("\n{\n")]  # the log lines, before the response
    records = [json.loads(line) for line in text.splitlines()]
    kinds = [r.get("type") or r["level"] for r in records]
    assert kinds == ["platform.start", "INFO", "platform.runtimeDone", "platform.report"]
    rid = records[0]["record"]["requestId"]
    assert records[1]["requestId"] == rid and records[1]["message"] == "running version 1"
    assert records[3]["record"]["requestId"] == rid
    assert "initDurationMs" in records[3]["record"]["metrics"]


def test_json_output_stays_one_object_when_the_log_format_is_json(app_dir: Path) -> None:
    done = _invoke(
        [
            "--handler",
            "app.handler",
            "--state-dir",
            str(app_dir / ".none"),
            "--log-format",
            "json",
            "--json",
        ],
        app_dir,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["response"] == {"version": 1}  # the whole stdout parses
    assert '"running version 1"' in done.stderr  # the function's lines went to stderr


# -- --watch ------------------------------------------------------------------------------


def _edit(lines: Lines, path: Path, text: str) -> None:
    """Write ``path`` until the watcher reports it (the first write can land before the
    watcher has started; a rewrite is what an editor's second save would be)."""
    for _ in range(5):
        path.write_text(text)
        if lines.until(r"^changed: ", timeout=5) is not None:
            return
    raise AssertionError("the watcher never reported the edit:\n" + "\n".join(lines.all))


def test_watch_reinvokes_cold_after_each_edit_and_survives_a_syntax_error(
    app_dir: Path, start: Any
) -> None:
    lines = start(
        [
            "--watch",
            str(app_dir),
            "--handler",
            "app.handler",
            "--task-root",
            str(app_dir),
            "--state-dir",
            str(app_dir / ".none"),
        ],
        app_dir,
    )
    app = app_dir / "app.py"
    lines.expect(r"^REPORT .*Init Duration: ")
    lines.expect(r'"version": 1')
    lines.expect(r"^watching .* for changes")

    _edit(lines, app, APP.format(n=2))
    lines.expect(r"^REPORT .*Init Duration: ")  # a cold start: INIT ran again
    lines.expect(r'"version": 2')

    _edit(lines, app, "def handler(event, context)\n    return 1\n")
    lines.expect(r"Runtime\.UserCodeSyntaxError")
    lines.expect(r"^watching for changes")  # still watching

    _edit(lines, app, APP.format(n=3))
    lines.expect(r"^REPORT .*Init Duration: ")
    lines.expect(r'"version": 3')
    lines.expect(r"^watching for changes")

    os.killpg(lines.proc.pid, signal.SIGINT)  # Ctrl-C
    lines.expect(r"^stopped watching")
    assert lines.proc.wait(timeout=30) == 0
    assert not [line for line in lines.all if "Traceback" in line and "KeyboardInterrupt" in line]
    reports = [line for line in lines.all if line.startswith("REPORT ")]
    assert len(reports) == 4 and all("Init Duration: " in r for r in reports)


def test_watch_rejects_a_path_that_does_not_exist(app_dir: Path) -> None:
    done = _invoke(["--watch", str(app_dir / "nope"), "--handler", "app.handler"], app_dir)
    assert done.returncode == 2 and "no such file or folder" in done.stderr


# -- --debug ------------------------------------------------------------------------------

DEBUGGED = """def handler(event, context):
    total = 0
    for n in range(3):
        total += n
    return {"total": total}  # line 5: the breakpoint
"""


def test_debug_waits_for_a_dap_client_and_stops_at_a_breakpoint_in_the_handler(
    app_dir: Path, start: Any
) -> None:
    app = app_dir / "app.py"
    app.write_text(DEBUGGED)
    lines = start(
        [
            "--debug",
            "--debug-port",
            "0",
            "--timeout",
            "1",
            "--handler",
            "app.handler",
            "--task-root",
            str(app_dir),
            "--state-dir",
            str(app_dir / ".none"),
        ],
        app_dir,
    )
    port = int(lines.expect(r"waiting for a debugger on 127\.0\.0\.1:(\d+)")[1])
    lines.expect(r'"request": "attach"')  # the VS Code launch.json it prints
    dap = DapClient(port)
    try:
        dap.response(
            dap.request(
                "initialize",
                clientID="test",
                adapterID="debugpy",
                pathFormat="path",
                linesStartAt1=True,
                columnsStartAt1=True,
            )
        )
        attach = dap.request("attach", justMyCode=True)
        dap.event("initialized")
        reply = dap.response(
            dap.request("setBreakpoints", source={"path": str(app)}, breakpoints=[{"line": 5}])
        )
        assert reply["body"]["breakpoints"][0]["verified"]
        dap.response(dap.request("configurationDone"))
        dap.response(attach)
        stopped = dap.event("stopped")
        assert stopped["body"]["reason"] == "breakpoint"
        thread = stopped["body"]["threadId"]
        frames = dap.response(dap.request("stackTrace", threadId=thread))["body"]["stackFrames"]
        assert frames[0]["line"] == 5 and frames[0]["source"]["path"] == str(app)
        time.sleep(1.5)  # paused past the 1 s timeout: debug mode must not time it out
        dap.request("continue", threadId=thread)
        lines.expect(r"^REPORT ")
        lines.expect(r'"total": 3')
    finally:
        dap.close()
    assert lines.proc.wait(timeout=60) == 0
    assert not any("Task timed out" in line for line in lines.all)
    assert _group_is_gone(lines.proc.pid)  # debugpy's adapter process ended with it
