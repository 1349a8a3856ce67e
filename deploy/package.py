"""``make package``: the deployable zip, ``dist/lambda.zip``, lean.

What goes in: ``lambda_function.py``, the ``s3_manifest`` package, and the dependencies the
Lambda Python runtime does not provide, as Linux wheels for the target architecture:

* aioboto3 and aiobotocore (and aiohttp with its small C-extension helpers): not in the runtime.
* botocore and boto3: in the runtime, but at the runtime's version. The python3.12 and 3.13
  runtimes shipped boto3/botocore 1.38.36 in August 2025 (terricain/aioboto3#381), and
  aiobotocore pins botocore to a narrow range (2.25.1: ``>=1.40.46,<1.40.62``). The runtime's
  copy cannot satisfy it, so the zip carries the botocore (and the matching boto3) this
  project is tested with; ``/var/task`` comes first on ``sys.path``, so they win.

The zip stays small by keeping only the botocore service models the function calls (S3) and
the shared endpoint/partition/retry data: botocore's ~400 other services are most of its
size. Versions are pinned to what is installed in this virtualenv, i.e. what the tests ran.

    python -m deploy.package [--arch arm64|x86_64] [--python-version 3.12] [--out dist/lambda.zip]

Exit 0 built, 1 pip failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["KEEP_BOTOCORE_SERVICES", "PackageFailed", "build", "main"]

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
# The function calls S3 only; credentials come from the environment Lambda sets.
KEEP_BOTOCORE_SERVICES = ("s3",)
PINNED = ("aioboto3", "aiobotocore", "botocore", "boto3")
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # same bytes in, same zip out


class PackageFailed(RuntimeError):
    """pip could not fetch the wheels for the target (offline, or none for that platform)."""


def _pins() -> list[str]:
    return [f"{name}=={importlib.metadata.version(name)}" for name in PINNED]


def _install(target: Path, platform: str | None, python_version: str) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target)]
    cmd += ["--no-compile", "--only-binary=:all:", "--disable-pip-version-check"]
    if platform is not None:
        cmd += ["--platform", platform, "--implementation", "cp"]
        cmd += ["--python-version", python_version]
    run = subprocess.run([*cmd, *_pins()], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise PackageFailed(
            f"pip could not install {' '.join(_pins())} for {platform or 'this machine'} "
            f"(Python {python_version}): {run.stderr.strip()[-800:]}"
        )


def _trim(target: Path) -> None:
    data = target / "botocore" / "data"
    for entry in data.iterdir():
        if entry.is_dir() and entry.name not in KEEP_BOTOCORE_SERVICES:
            shutil.rmtree(entry)
    for cache in target.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    for tests in ("botocore/tests", "boto3/examples"):
        shutil.rmtree(target / tests, ignore_errors=True)
    for bindir in (target / "bin",):
        shutil.rmtree(bindir, ignore_errors=True)


def _copy_function(target: Path) -> None:
    shutil.copy2(ROOT / "lambda_function.py", target / "lambda_function.py")
    package = target / "s3_manifest"
    package.mkdir()
    for source in sorted((ROOT / "s3_manifest").glob("*.py")):
        shutil.copy2(source, package / source.name)


def _zip(source: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(path.relative_to(source)), _FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    os.replace(partial, out)  # never a half zip at the final path


def build(
    out: Path,
    *,
    arch: str | None = "arm64",
    python_version: str = "3.12",
    staging: Path | None = None,
) -> Path:
    """Build the zip at ``out``; returns the staging directory (its unzipped contents).

    ``arch=None`` installs wheels for this machine's Python instead (for a local smoke test).
    """
    if arch is not None and arch not in PLATFORMS:
        raise ValueError(f"arch {arch!r} is not one of {', '.join(PLATFORMS)}")
    staging = staging or ROOT / "build" / f"lambda-{arch or 'local'}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    _install(staging, PLATFORMS[arch] if arch else None, python_version)
    _trim(staging)
    _copy_function(staging)
    _zip(staging, out)
    return staging


def _size_report(staging: Path, out: Path) -> str:
    def size(p: Path) -> int:
        return (
            sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
            if p.is_dir()
            else (p.stat().st_size)
        )

    tops = sorted(((size(p), p.name) for p in staging.iterdir()), reverse=True)[:8]
    lines = [f"  {s / 1e6:7.2f} MB  {name}" for s, name in tops]
    return (
        f"{out}: {out.stat().st_size / 1e6:.2f} MB zipped, {size(staging) / 1e6:.2f} MB unzipped "
        f"(Lambda allows 50 MB zipped, 250 MB unzipped)\nlargest entries unzipped:\n"
        + "\n".join(lines)
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m deploy.package", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--arch", choices=sorted(PLATFORMS), default="arm64")
    p.add_argument("--python-version", default="3.12", help="the runtime's (default 3.12)")
    p.add_argument("--out", type=Path, default=ROOT / "dist" / "lambda.zip")
    args = p.parse_args(argv)
    try:
        staging = build(args.out, arch=args.arch, python_version=args.python_version)
    except PackageFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"pinned: {' '.join(_pins())}; {args.arch}, Python {args.python_version}")
    print(_size_report(staging, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
