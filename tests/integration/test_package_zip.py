"""The zip `make package` builds runs the function on its own: nothing from this virtualenv."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from deploy.package import KEEP_BOTOCORE_SERVICES, PackageFailed, build
from tests.integration.test_function import put

pytestmark = [pytest.mark.integration, pytest.mark.slow]

_RUN = """
import json, sys
sys.path.insert(0, sys.argv[1])
import botocore, aioboto3, lambda_function
assert botocore.__file__.startswith(sys.argv[1]), botocore.__file__
print(json.dumps(lambda_function.handler(json.loads(sys.argv[2]), None)))
"""


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zip, built once for this machine's platform and Python (so it can run here), and
    unpacked; `make package` builds the same for Lambda's (manylinux arm64/x86_64, 3.12)."""
    tmp = tmp_path_factory.mktemp("package")
    out = tmp / "lambda.zip"
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    try:
        build(out, arch=None, python_version=version, staging=tmp / "staging")
    except PackageFailed as e:
        pytest.skip(f"no package index reachable to fetch the wheels: {e}")
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        zf.extractall(tmp / "task")
    assert "lambda_function.py" in names and "s3_manifest/multipart.py" in names
    data = [n.split("/") for n in names if n.startswith("botocore/data/")]
    assert {parts[2] for parts in data if len(parts) > 4} == set(KEEP_BOTOCORE_SERVICES)
    return tmp / "task"


def test_the_packaged_zip_lists_a_bucket_with_only_its_own_contents_on_the_path(
    s3_sandbox: Any, s3_bucket: str, unpacked: Path
) -> None:
    put(s3_sandbox.client(), s3_bucket, ["2026/04/a.pdf", "2026/04/b.pdf", "2026/04/c.txt"])
    event = json.dumps({"bucket": s3_bucket, "prefix": "2026/04/"})
    # -S: no site-packages, so only the stdlib and the unpacked zip can be imported.
    run = subprocess.run(
        [sys.executable, "-S", "-c", _RUN, str(unpacked), event],
        env={**s3_sandbox.env(), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    response = json.loads(run.stdout.strip().splitlines()[-1])
    assert response["count"] == 2 and response["done"] is True
