"""/tmp: a per-environment directory of the configured size; ENOSPC past it."""

from __future__ import annotations

import errno
import os

import pytest

from sandbox.runtime import Environment, FunctionConfig, TmpDir

H = "tests.unit.handlers.probes"
MB = 1024 * 1024
MODES = ["auto", "quota"]


def _can_mount() -> bool:
    with TmpDir(1) as tmp:
        return tmp.mode == "tmpfs"


@pytest.mark.parametrize("mode", MODES)
def test_writing_past_the_tmp_size_fails_in_the_handler_with_enospc(mode: str) -> None:
    cfg = FunctionConfig(
        handler=f"{H}.write_tmp",
        tmp_size_mb=8,
        tmp_mode=mode,
        lambda_limits=False,  # type: ignore[arg-type]
    )
    with Environment(cfg) as env:
        fits = env.invoke({"mb": 6})
        too_much = env.invoke({"mb": 9})
    assert fits.ok
    assert too_much.error is not None
    assert too_much.error["errorType"] == "OSError"
    assert too_much.error["errorMessage"].startswith(f"[Errno {errno.ENOSPC}]")


@pytest.mark.parametrize("mode", MODES)
def test_the_tmp_peak_of_each_invocation_is_reported(mode: str) -> None:
    cfg = FunctionConfig(
        handler=f"{H}.write_tmp", tmp_size_mb=16, tmp_mode=mode, lambda_limits=False
    )  # type: ignore[arg-type]
    with Environment(cfg) as env:
        inv = env.invoke({"mb": 5, "delete": False})
    assert inv.tmp_peak_bytes >= 5 * MB
    assert "Tmp Used: 5.0" in inv.report_line() and "of 16 MB" in inv.report_line()


def test_a_tmpfs_is_mounted_when_running_as_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the quota fallback is tested instead")
    with TmpDir(4) as tmp:
        assert tmp.mode == "tmpfs"
        path = tmp.path
        assert os.path.ismount(path)
    assert not os.path.exists(path)


def test_the_directory_is_removed_on_exit_in_quota_mode() -> None:
    with TmpDir(4, mode="quota") as tmp:
        path = tmp.path
        with open(os.path.join(path, "f"), "w") as f:
            f.write("x")
    assert not os.path.exists(path)


def test_asking_for_a_tmpfs_without_root_is_an_error_that_says_what_to_do() -> None:
    if os.geteuid() == 0:
        pytest.skip("root can mount")
    with pytest.raises(OSError, match="mode='quota'"), TmpDir(4, mode="tmpfs"):
        pass


def test_the_quota_leaves_files_outside_the_directory_alone(tmp_path) -> None:
    with TmpDir(1, mode="quota") as tmp, tmp.enforce():
        with open(tmp_path / "outside.bin", "wb") as f:
            f.write(b"x" * 2 * MB)
        with pytest.raises(OSError) as info, open(os.path.join(tmp.path, "in.bin"), "wb") as f:
            f.write(b"x" * 2 * MB)
    assert info.value.errno == errno.ENOSPC


def test_a_new_environment_starts_with_an_empty_tmp() -> None:
    cfg = FunctionConfig(handler=f"{H}.write_tmp", tmp_size_mb=8, lambda_limits=False)
    with Environment(cfg) as env:
        env.invoke({"mb": 1, "delete": False})
        assert os.listdir(env.tmp_path) == ["blob.bin"]
        env.reset()
        assert os.listdir(env.tmp_path) == []
