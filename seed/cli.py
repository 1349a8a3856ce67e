"""``python -m seed``: a thin CLI over :func:`seed.seed_bucket`.

Exit codes: 0 done, 1 S3 failed (unreachable, refused), 2 bad arguments, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from seed.connection import Connection
from seed.errors import SeedArgumentError, SeedError
from seed.options import (
    DEFAULT_BUCKET,
    DEFAULT_CONCURRENCY,
    DEFAULT_COUNT,
    DEFAULT_NOISE,
    DEFAULT_PREFIX,
    DEFAULT_SEED,
    DEFAULT_SIZES,
    EXPECTED_KEY,
    METHODS,
    SeedOptions,
    parse_size,
)
from seed.progress import make_progress

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m seed",
        description=(
            "Fill an S3 bucket with fake report PDFs and noise, and write the list of keys the "
            "function should find (the ground truth). Endpoint and credentials come from "
            "AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL and AWS_ACCESS_KEY_ID / "
            'AWS_SECRET_ACCESS_KEY (eval "$(python -m sandbox env)"), or --endpoint-url.'
        ),
    )
    p.add_argument(
        "--count",
        type=int,
        default=DEFAULT_COUNT,
        help="PDFs the function should list under the prefix (default %(default)s)",
    )
    p.add_argument("--prefix", default=DEFAULT_PREFIX, help="key prefix (default %(default)s)")
    p.add_argument(
        "--bucket", default=DEFAULT_BUCKET, help="bucket, created if missing (default %(default)s)"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help="same seed, same keys and bytes (default %(default)s)",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help="uploads in flight (default %(default)s)",
    )
    p.add_argument(
        "--noise",
        type=float,
        default=DEFAULT_NOISE,
        help="noise objects per PDF; 0 = none, any positive value includes every "
        "kind of noise at least once (default %(default)s)",
    )
    p.add_argument(
        "--size",
        default=str(DEFAULT_SIZES),
        help="PDF size or range, e.g. 1MiB or 4KiB-96KiB (default %(default)s bytes)",
    )
    p.add_argument(
        "--endpoint-url",
        default=None,
        help="S3 endpoint; wins over AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL",
    )
    p.add_argument(
        "--expected-key",
        default=EXPECTED_KEY,
        help="where to write the ground truth (default %(default)s)",
    )
    p.add_argument(
        "--prune",
        action="store_true",
        help="delete keys under the prefix that this seed did not write",
    )
    p.add_argument(
        "--method",
        choices=METHODS,
        default="auto",
        help="put: concurrent PUTs; snowball: MinIO tar batches, extracted by the server and "
        "verified by listing; auto (default): snowball when the server is MinIO, else put",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    return p


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    from seed.upload import seed_bucket

    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    args = build_parser().parse_args(argv)
    env = os.environ if environ is None else environ
    try:
        options = SeedOptions(
            bucket=args.bucket,
            prefix=args.prefix,
            count=args.count,
            seed=args.seed,
            noise=args.noise,
            sizes=parse_size(args.size),
            concurrency=args.concurrency,
            expected_key=args.expected_key,
            prune=args.prune,
            method=args.method,
        )
        connection = Connection.from_env(env, args.endpoint_url)
        result = seed_bucket(
            connection, options, progress=make_progress(err, enabled=not args.quiet)
        )
    except SeedError as e:
        kind = "invalid argument" if isinstance(e, SeedArgumentError) else "error"
        print(f"seed: {kind}: {e}", file=err)
        return e.exit_code
    except KeyboardInterrupt:
        print("seed: interrupted", file=err)
        return 130
    if args.json:
        json.dump(result.to_dict(), out)
        out.write("\n")
    else:
        print(result.summary(), file=out)
    return 0
