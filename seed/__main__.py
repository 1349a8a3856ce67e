"""``python -m seed --help``."""

from __future__ import annotations

import sys

from seed.cli import main

if __name__ == "__main__":
    sys.exit(main())
