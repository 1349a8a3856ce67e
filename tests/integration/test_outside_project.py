"""A user's project, outside this repository, with the built wheel installed with
``[sandbox]`` into a fresh virtualenv: its own handler, its own tests and its own
``[tool.lambda_local_runner]`` table, run under ``-W error --strict-markers``.

One virtualenv per session (building it is the slow part: pip reuses its cache, PyPI fills
the rest). The wheel is built from a copy of the working tree, so no ``build/`` is left here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

PYPROJECT = """\
[project]
name = "wordcount"
version = "0.1.0"

[tool.lambda_local_runner.functions.wordcount]
handler = "wordcount.handler"
memory = 256
timeout = 10
env = { MIN_LENGTH = "3" }

[tool.pytest.ini_options]
addopts = "--strict-markers"
"""
HANDLER = """\
import os
import boto3

s3 = boto3.client("s3")  # at import time, as Lambda code does; pointed by the environment


def handler(event, context):
    record = event["Records"][0]["s3"]
    body = s3.get_object(Bucket=record["bucket"]["name"], Key=record["object"]["key"])["Body"]
    words = [w for w in body.read().decode().split() if len(w) >= int(os.environ["MIN_LENGTH"])]
    return {"words": len(words)}
"""
TESTS = """\
import pytest


def test_counts_the_words_of_the_uploaded_object(
    s3_sandbox, s3_bucket, lambda_invoke, lambda_event
):
    s3_sandbox.client().put_object(Bucket=s3_bucket, Key="in/a.txt", Body=b"the cat sat on a mat")
    # no env=, no handler: the plugin points it at the sandbox, pyproject.toml names it
    inv = lambda_invoke(lambda_event("s3", bucket=s3_bucket, key="in/a.txt"))
    assert inv.ok, inv.error
    assert inv.response == {"words": 4}
    assert inv.memory_size_mb == 256


@pytest.mark.integration
def test_a_marker_the_plugin_adds_is_registered():
    pass


def test_the_context_fixture_works_without_any_server(lambda_context):
    assert lambda_context(timeout=3, clock=lambda: 0.0).get_remaining_time_in_millis() == 3000
"""
_SKIP = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".sandbox",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".benchmarks",
    "docs",
    "tests",
    "bench",
)


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=900)
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="session")
def outside_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh virtualenv holding the built wheel with its [sandbox] extra."""
    base = tmp_path_factory.mktemp("outside")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=_SKIP)
    dist = base / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(source)])
    (wheel,) = dist.glob("lambda_local_runner-*.whl")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", f"{wheel}[sandbox]"])
    return python


def test_an_outside_project_passes_under_strict_markers_from_the_built_wheel(
    outside_python: Path, tmp_path: Path
) -> None:
    project = tmp_path / "wordcount"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text(PYPROJECT)
    (project / "wordcount.py").write_text(HANDLER)
    (project / "tests" / "test_wordcount.py").write_text(TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    done = subprocess.run(
        [
            str(outside_python),
            "-m",
            "pytest",
            "-W",
            "error",
            "--strict-markers",
            "-p",
            "no:cacheprovider",
            "-rA",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    where = subprocess.run(
        [str(outside_python), "-c", "import sandbox; print(sandbox.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=project,
    ).stdout
    assert str(outside_python.parent.parent) in where  # the wheel's copy, not this checkout
    passed = [line.split(" ")[1] for line in done.stdout.splitlines() if line.startswith("PASSED ")]
    words = [t for t in passed if "test_counts_the_words_of_the_uploaded_object[" in t]
    assert words and len(passed) == len(words) + 2, output  # every backend here, and the rest
    assert "PytestUnknownMarkWarning" not in output
