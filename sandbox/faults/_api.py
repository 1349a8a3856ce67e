"""JSON over loopback HTTP: the Toxiproxy API and the shim's control port speak it alike."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from sandbox.backends._base import SandboxError

__all__ = ["FaultApiError", "call"]


class FaultApiError(SandboxError):
    """The fault layer's API refused a call or did not answer."""


def call(base: str, method: str, path: str, body: Any = None, *, timeout: float = 5.0) -> Any:
    """``method`` ``base + path`` with a JSON body; the decoded JSON answer (``None`` if empty)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read()
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace").strip()
        raise FaultApiError(f"{method} {base}{path} answered {e.code}: {detail}") from e
    except (urllib.error.URLError, OSError) as e:
        raise FaultApiError(
            f"{method} {base}{path} failed: {getattr(e, 'reason', e)}; is the fault layer "
            "running? (`python -m sandbox status`)"
        ) from e
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:  # Toxiproxy's /version is plain text
        return text.decode(errors="replace").strip()
