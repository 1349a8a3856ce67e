"""Getting the function to real AWS: lint the SAM template and the state machines
(`deploy.lint`), and build the deployable zip (`deploy.package`). Never deployed itself."""

from __future__ import annotations

__all__: list[str] = []
