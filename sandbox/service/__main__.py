"""``python -m sandbox.service --config FILE``: run one local Lambda service in the foreground.

Normally started by ``python -m sandbox up`` (detached, recorded in the state file) or by
`sandbox.service.process.start_service`. Ctrl-C or SIGTERM stops it and every worker.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from sandbox.project import ProjectConfigError
from sandbox.service.app import serve
from sandbox.service.config import ServiceConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.service", description=__doc__)
    parser.add_argument("--config", type=Path, required=True, help="the service's JSON config")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        config = ServiceConfig.load(args.config)
    except (OSError, ValueError, TypeError) as e:
        print(f"error: cannot read the service config {args.config}: {e}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(config))
    except ProjectConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # the port was taken between choosing and binding it
        print(f"error: cannot listen: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
