"""Warm invocations reuse the aioboto3 session; new credentials get a new one."""

from __future__ import annotations

import pytest

from s3_manifest import app


def test_the_same_credentials_reuse_one_session_and_new_ones_do_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app, "_SESSIONS", {})
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-1")
    first = app._session()
    assert app._session() is first

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-2")  # rotated
    rotated = app._session()
    assert rotated is not first

    monkeypatch.setenv("AWS_SESSION_TOKEN", "token")
    assert app._session() is not rotated
    assert all("secret" not in key for key in app._SESSIONS)  # only fingerprints are kept
