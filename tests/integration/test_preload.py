"""INIT preloads what the first invocation needs (issue 11's CPU share, issue 14's rounds).

``lambda_function``'s import calls `s3_manifest.preload`: on Lambda INIT runs with more CPU
than a small memory size gets, so work moved there leaves the throttled first invocation.
Checked in a fresh interpreter on a real server: after the import, the first invocation imports
no SDK module and loads no botocore data file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
import botocore.loaders as loaders
import lambda_function
loaded = []
original = loaders.JSONFileLoader.load_file
def watch(self, file_path):
    data = original(self, file_path)
    if data is not None:  # a data file read and parsed (optional ".sdk-extras" are often absent)
        loaded.append(file_path)
    return data
loaders.JSONFileLoader.load_file = watch
before = set(sys.modules)
response = lambda_function.handler({"bucket": sys.argv[1], "prefix": "2026/04/"}, None)
sdk = ("aioboto3", "aiobotocore", "boto3", "botocore", "s3transfer", "aiohttp")
new = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in sdk)
print(json.dumps({"count": response["count"], "modules": new, "data_files": loaded}))
"""


def _first_invocation(env: dict[str, str], bucket: str, probe: str = _PROBE) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", probe, bucket],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _function_env(s3_sandbox: Any) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**keep, **s3_sandbox.env(), "PYTHONPATH": str(ROOT)}


def test_after_init_the_first_invocation_imports_and_loads_nothing_more(
    s3_sandbox: Any, s3_bucket: str
) -> None:
    s3_sandbox.client().put_object(Bucket=s3_bucket, Key="2026/04/a.pdf", Body=b"%PDF-1.4")
    result = _first_invocation(_function_env(s3_sandbox), s3_bucket)
    assert result["count"] == 1
    assert result["modules"] == []
    assert result["data_files"] == []


def test_a_preload_that_fails_leaves_the_function_working(s3_sandbox: Any, s3_bucket: str) -> None:
    # A profile that does not exist: the session cannot be made at INIT (ProfileNotFound), so
    # nothing is preloaded; the import still succeeds. The invocation's own env (no profile,
    # the keys) then works and loads what INIT could not.
    s3_sandbox.client().put_object(Bucket=s3_bucket, Key="2026/04/a.pdf", Body=b"%PDF-1.4")
    env = _function_env(s3_sandbox)
    probe = _PROBE.replace(
        "import lambda_function",
        "import os\nos.environ['AWS_PROFILE'] = 'no-such-profile'\nimport lambda_function\n"
        "del os.environ['AWS_PROFILE']",
    )
    result = _first_invocation(env, s3_bucket, probe)
    assert result["count"] == 1
    assert result["data_files"]  # the first client loaded them itself
