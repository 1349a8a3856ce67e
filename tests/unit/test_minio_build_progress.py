"""The MinIO build's progress: a live status for a reporter that can show one (the CLI's),
heartbeat lines for any other. A stand-in ``go`` plays the build (no network, no compiler)."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sandbox.backends import _minio_binary
from sandbox.backends._minio_binary import MINIO_VERSION

FAKE_GO = """#!/bin/sh
for n in 1 2 3 4 5 6; do echo "github.com/example/pkg$n"; sleep 0.4; done
printf '#!/bin/sh\\necho minio\\n' > "$GOBIN/minio"
chmod +x "$GOBIN/minio"
"""


class LiveReporter:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.statuses: list[str] = []
        self.labels: list[str] = []

    def __call__(self, message: str) -> None:
        self.messages.append(message)

    @contextlib.contextmanager
    def activity(self, label: str) -> Iterator[Callable[[str], None]]:
        self.labels.append(label)
        yield self.statuses.append


@pytest.fixture
def fake_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    go = bin_dir / "go"
    go.write_text(FAKE_GO)
    go.chmod(go.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path / "cache" / MINIO_VERSION / "minio"


def test_a_live_reporter_gets_a_status_with_the_package_count_while_minio_builds(
    fake_go: Path,
) -> None:
    fake_go.parent.mkdir(parents=True)
    report = LiveReporter()
    built = _minio_binary._build(fake_go, MINIO_VERSION, report)
    assert built == fake_go and os.access(built, os.X_OK)
    assert report.labels == ["minio: building"]
    assert report.statuses and report.statuses[-1].endswith(
        "packages downloaded or compiled so far"
    )
    assert not [m for m in report.messages if "still building" in m]  # no heartbeat lines
    assert report.messages[-1].startswith("minio: built ")
