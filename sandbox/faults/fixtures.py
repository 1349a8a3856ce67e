"""pytest fixtures for faults in users' own tests (re-exported by ``sandbox.pytest_plugin``).

* ``s3_fault_layer`` (session): a :class:`~sandbox.faults.FaultLayer` in front of the session's
  ``s3_sandbox`` (one per backend), started once.
* ``s3_faults`` (function): that layer, with every fault switched off after the test. Point
  the function at ``s3_faults.env()`` and switch faults on around an invoke::

      def test_my_handler_survives_throttling(s3_faults, s3_bucket, lambda_invoke):
          env = {**s3_faults.env(), "BUCKET_NAME": s3_bucket}
          with s3_faults.active(slowdown(on="list", every=5, count=2)):
              inv = lambda_invoke({"bucket": s3_bucket}, env=env)
          assert inv.ok

Seed and check with ``s3_sandbox.client()`` (the direct endpoint): only the function sees
the faults. Skips with the reason when Toxiproxy is not there and cannot be built.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sandbox.faults.layer import FaultLayer

__all__ = ["s3_fault_layer", "s3_faults"]


@pytest.fixture(scope="session")
def s3_fault_layer(s3_sandbox: Any, request: pytest.FixtureRequest) -> Iterator[FaultLayer]:
    """The session's fault layer in front of ``s3_sandbox``."""
    from sandbox.backends._base import BackendUnavailable
    from sandbox.faults.layer import FaultLayer

    reporter: Any = request.config.pluginmanager.getplugin("terminalreporter")
    capman: Any = request.config.pluginmanager.getplugin("capturemanager")

    def report(message: str) -> None:
        if capman is not None and reporter is not None:
            with capman.global_and_fixture_disabled():
                reporter.write_line(f"[s3_faults] {message}")

    try:
        layer = FaultLayer.start(s3_sandbox.endpoint, report=report)
    except BackendUnavailable as e:
        pytest.skip(f"fault layer unavailable: {e}")
    with layer:
        yield layer


@pytest.fixture
def s3_faults(s3_fault_layer: FaultLayer) -> Iterator[FaultLayer]:
    """The fault layer, clean at the start of the test and cleared at its end."""
    s3_fault_layer.clear()
    try:
        yield s3_fault_layer
    finally:
        s3_fault_layer.clear()
