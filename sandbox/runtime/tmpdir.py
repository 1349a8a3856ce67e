"""The execution environment's /tmp: a directory of a fixed size, ENOSPC past it.

Two ways to enforce the size, chosen once per directory and reported as ``mode``:

* ``tmpfs``: a size-limited tmpfs mounted on the directory. The kernel refuses the write that
  does not fit with ``OSError(ENOSPC)``, whatever API the handler writes with. Needs root (or
  CAP_SYS_ADMIN) and ``mount``; always unmounted on exit.
* ``quota``: no mount possible (a laptop, a non-root user). While `enforce` is active,
  ``open``/``io.open`` are wrapped so that writes to files under the directory are charged
  against the size and the write that does not fit raises ``OSError(ENOSPC)``. Writes that do
  not go through Python file objects (``os.write`` on a raw fd, subprocesses, C libraries)
  are not seen; a file's still-buffered bytes are counted once flushed.

The handler reaches the directory through ``tempfile.gettempdir()`` / ``$TMPDIR``; code that
hard-codes ``"/tmp"`` writes to the machine's /tmp and escapes the limit.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Literal

__all__ = ["TmpDir", "TmpMode", "dir_usage"]

TmpMode = Literal["auto", "tmpfs", "quota"]
_MB = 1024 * 1024


def dir_usage(path: str) -> int:
    """Bytes held by the regular files under ``path`` (apparent sizes)."""
    total = 0
    stack = [path]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
                except OSError:
                    continue
    return total


class TmpDir:
    """A fresh directory of ``size_mb`` MB. Use as a context manager.

    ``mode="auto"`` mounts a tmpfs when it can and falls back to the quota otherwise;
    ``"tmpfs"`` fails if it cannot mount; ``"quota"`` never mounts.
    """

    def __init__(self, size_mb: int, *, mode: TmpMode = "auto", parent: str | None = None) -> None:
        if size_mb < 1:
            raise ValueError(f"temp dir size must be at least 1 MB, got {size_mb}")
        self.size_mb = size_mb
        self.size_bytes = size_mb * _MB
        self._requested: TmpMode = mode
        self._parent = parent
        self.mode: Literal["tmpfs", "quota"] | None = None
        self.why_not_tmpfs = ""
        self._path: str | None = None

    @property
    def path(self) -> str:
        if self._path is None:
            raise RuntimeError("TmpDir is not open: use it as a context manager")
        return self._path

    def __enter__(self) -> TmpDir:
        self._path = tempfile.mkdtemp(prefix="lambda-tmp-", dir=self._parent)
        try:
            if self._requested != "quota":
                self.why_not_tmpfs = self._mount()
                if not self.why_not_tmpfs:
                    self.mode = "tmpfs"
                elif self._requested == "tmpfs":
                    raise OSError(
                        f"cannot mount a {self.size_mb} MB tmpfs on {self._path}: "
                        f"{self.why_not_tmpfs}; run as root or use mode='quota'"
                    )
            if self.mode is None:
                self.mode = "quota"
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._remove()

    def _mount(self) -> str:
        """Mount the tmpfs; return why not, or "" on success."""
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            return "not root"
        if shutil.which("mount") is None:
            return "no mount command"
        opts = f"size={self.size_mb}m,mode=1777"
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", self.path],
            capture_output=True,
            text=True,
            check=False,
        )
        return "" if done.returncode == 0 else (done.stderr.strip() or f"rc={done.returncode}")

    def _remove(self) -> None:
        if self._path is None:
            return
        if self.mode == "tmpfs":
            done = subprocess.run(["umount", self._path], capture_output=True, check=False)
            if done.returncode != 0:
                # Busy (a timed-out handler thread still holds a file open): detach it now,
                # the kernel frees it when the last file closes.
                subprocess.run(["umount", "-l", self._path], capture_output=True, check=False)
        shutil.rmtree(self._path, ignore_errors=True)
        self._path = None

    def usage(self) -> int:
        """Bytes in use now."""
        if self.mode == "tmpfs":
            st = os.statvfs(self.path)
            return (st.f_blocks - st.f_bfree) * st.f_frsize
        return dir_usage(self.path)

    @contextlib.contextmanager
    def enforce(self) -> Iterator[None]:
        """Enforce the size for writes made inside the block (a no-op for tmpfs)."""
        if self.mode != "quota":
            yield
            return
        quota = _Quota(self.path, self.size_bytes)
        real_open = io.open

        def quota_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            f = real_open(file, mode, *args, **kwargs)
            if any(c in mode for c in "wax+") and quota.covers(file):
                return _QuotaFile(f, quota)
            return f

        saved = (builtins.open, io.open)
        builtins.open = io.open = quota_open
        try:
            yield
        finally:
            builtins.open, io.open = saved


class _Quota:
    def __init__(self, root: str, limit: int) -> None:
        self.root = os.path.realpath(root) + os.sep
        self.limit = limit
        self._estimate = dir_usage(root)
        self._writes = 0

    def covers(self, file: Any) -> bool:
        if isinstance(file, int):
            try:
                file = os.readlink(f"/proc/self/fd/{file}")
            except OSError:
                return False
        try:
            return os.path.realpath(os.fspath(file)).startswith(self.root)
        except TypeError:
            return False

    def charge(self, n: int) -> None:
        self._writes += 1
        # The estimate only grows between walks (deletions are not seen), so walk again before
        # refusing a write, and every so often to keep it close.
        if self._estimate + n > self.limit or self._writes % 256 == 0:
            self._estimate = dir_usage(self.root)
        if self._estimate + n > self.limit:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._estimate += n


class _QuotaFile:
    """A file object whose writes are charged to the quota first."""

    def __init__(self, f: Any, quota: _Quota) -> None:
        self._f = f
        self._quota = quota

    def write(self, data: Any) -> int:
        self._quota.charge(
            len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
        )
        return int(self._f.write(data))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._f)

    def __enter__(self) -> _QuotaFile:
        self._f.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._f.__exit__(*exc)
