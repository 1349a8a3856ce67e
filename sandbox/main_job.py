"""The main job (`make sandbox`, `python -m sandbox run`): the whole loop, checked.

1. `Sandbox.up` (auto backend, reused when one is already running);
2. seed thousands of fake PDFs and noise into the bucket, with the ground truth;
3. invoke the real handler once, cold, with an S3 event describing a real seeded object;
4. print START / END / REPORT and the response, like Lambda's log;
5. check the response against the seed's ground truth, read the manifest back, download one
   presigned URL and open it as a PDF;
6. leave the sandbox running and say how to use it and how to stop it.

Exit codes: 0 all checks passed, 1 a check failed or the handler failed, 2 bad arguments or
the sandbox could not start.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COUNT = 5000


class CheckFailed(RuntimeError):
    """The function's result does not match the ground truth."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sandbox run", description=__doc__.split("\n")[0])
    p.add_argument("--backend", default="auto", help="auto|docker|minio|seaweedfs|external")
    p.add_argument("--count", type=int, default=DEFAULT_COUNT, help="PDFs to seed (default 5000)")
    p.add_argument("--bucket", default="my-company-reports-bucket")
    p.add_argument("--prefix", default="2026/04/")
    p.add_argument("--seed", type=int, default=42, help="seed for the fake data")
    p.add_argument("--memory", type=int, default=512, help="function memory, MB")
    p.add_argument("--timeout", type=int, default=60, help="function timeout, seconds")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.count < 1:
        print("error: --count must be at least 1", file=sys.stderr)
        return 2

    from sandbox.core import Sandbox, SandboxError

    try:
        sb = Sandbox.up(args.backend, report=lambda line: print(f"[sandbox] {line}", flush=True))
    except (SandboxError, OSError) as e:
        print(f"error: the sandbox did not start: {e}", file=sys.stderr)
        return 2
    print(f"[sandbox] S3 backend: {sb.backend.name} at {sb.endpoint.url}", flush=True)
    try:
        _run(sb, args)
    except CheckFailed as e:
        print(f"\nFAILED: {e}", file=sys.stderr)
        return 1
    _how_to_use(args)
    return 0


def _run(sb: Any, args: argparse.Namespace) -> None:
    from seed import seed_bucket

    print(f"[seed] {args.count} PDFs (+ noise) into s3://{args.bucket}/{args.prefix}", flush=True)
    seeded = seed_bucket(
        sb.endpoint,
        bucket=args.bucket,
        prefix=args.prefix,
        count=args.count,
        seed=args.seed,
        progress=True,
    )
    expected = seeded.expected
    print(
        f"[seed] {seeded.uploaded} uploaded, {seeded.skipped} already there, "
        f"{expected.count} keys the function should list ({seeded.seconds:.1f} s)",
        flush=True,
    )
    client = sb.client()
    # The S3 event names one real object directly in the prefix "folder"; the function lists
    # that folder (recursively), which is exactly what the ground truth counts.
    trigger = next(
        (k for k in expected.keys if "/" not in k[len(args.prefix) :]),
        None,
    )
    if trigger is None:
        raise CheckFailed(f"the seed wrote no PDF directly under {args.prefix!r}")
    # A fresh process, as Lambda's would be: the seeder has loaded aiobotocore in this one, and
    # an in-process INIT would then look cheaper (and memory larger) than it is.
    command = [
        sys.executable,
        str(REPO_ROOT / "invoke.py"),
        "--event", "s3", "--bucket", args.bucket, "--prefix", args.prefix, "--key", trigger,
        "--memory", str(args.memory), "--timeout", str(args.timeout), "--json",
    ]  # fmt: skip
    print(f"\n[invoke] {' '.join(command[1:])}\n", flush=True)
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if done.returncode == 2 or not done.stdout.strip():
        raise CheckFailed(
            f"invoke.py could not run (exit {done.returncode}): {done.stderr.strip()}"
        )
    result = json.loads(done.stdout)
    (inv,) = result["invocations"]
    print(result["cpu"])  # the CPU share it ran with (sandbox.runtime.cpu)
    print(f"START RequestId: {inv['request_id']} Version: $LATEST")
    print(f"END RequestId: {inv['request_id']}")
    print(inv["report"])
    print(json.dumps(result["response"] if result["ok"] else result["error"], indent=2))
    if not result["ok"]:
        raise CheckFailed(f"the handler failed: {result['error']}\n{done.stderr.strip()}")
    _check(client, result["response"], expected, args)


def _check(client: Any, response: dict[str, Any], expected: Any, args: argparse.Namespace) -> None:
    print("\n[check]", flush=True)
    if response["count"] != expected.count:
        raise CheckFailed(
            f"the function counted {response['count']} PDFs, the seed's ground truth says "
            f"{expected.count} (s3://{args.bucket}/{args.prefix})"
        )
    print(f"  count {response['count']} == ground truth {expected.count}")
    body = client.get_object(Bucket=args.bucket, Key=response["manifest_key"])["Body"].read()
    lines = [json.loads(line) for line in body.decode("utf-8").splitlines()]
    keys = sorted(line["key"] for line in lines)
    if keys != list(expected.keys):
        missing = sorted(set(expected.keys) - set(keys))[:3]
        extra = sorted(set(keys) - set(expected.keys))[:3]
        raise CheckFailed(f"manifest keys differ: missing {missing}, unexpected {extra}")
    print(f"  manifest {response['manifest_key']}: {len(lines)} lines, same keys as the seed")
    sample = lines[len(lines) // 2]
    with urllib.request.urlopen(sample["url"], timeout=30) as fetched:
        pdf = fetched.read()
    _check_pdf(pdf, sample["key"])
    with urllib.request.urlopen(response["manifest_url"], timeout=30) as fetched:
        if fetched.read() != body:
            raise CheckFailed("the manifest_url does not download the manifest")
    print("  manifest_url downloads the manifest")


def _check_pdf(data: bytes, key: str) -> None:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        text = reader.pages[0].extract_text() or ""
    except Exception as e:
        raise CheckFailed(f"{key!r} downloaded through its presigned URL is not a PDF: {e}") from e
    if not text.strip():
        raise CheckFailed(f"{key!r} is a PDF without text")
    first = text.strip().splitlines()[0]
    print(
        f"  presigned URL for {key!r}: {len(data)} bytes, a {len(reader.pages)}-page PDF: {first!r}"
    )


def _how_to_use(args: argparse.Namespace) -> None:
    print(
        f"""
All checks passed. The sandbox is still running:

  eval "$(.venv/bin/python -m sandbox env)"      # AWS_ENDPOINT_URL_S3 + credentials for any tool
  .venv/bin/python invoke.py --event s3 --bucket {args.bucket} --prefix {args.prefix}
  .venv/bin/python invoke.py --event apigw-v2 --repeat 3       # one cold, two warm REPORT lines
  make status                                    # what is running, where
  make down                                      # stop it; data kept for the next `up`
  make purge                                     # stop it and remove its data
"""
    )
