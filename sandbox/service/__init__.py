"""The local Lambda service: the Invoke API, API Gateway over HTTP, S3 webhook triggers, the
pool of execution environments (one worker process each) and per-function logs.

```python
from sandbox.service import ServiceConfig, start_service
with start_service(ServiceConfig(port=p, api_port=a, run_dir=d, function_env=sb.env())) as svc:
    boto3.client("lambda", endpoint_url=svc.url).invoke(FunctionName="lambda-local-runner")
```
``python -m sandbox up`` starts one beside S3 (``--no-service`` skips it).

Names are imported on first use: a worker process (``sandbox.service.worker``) imports this
package too, and a cold start should not pay for the server's modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.service.config import HOST, ServiceConfig
    from sandbox.service.process import (
        RunningService,
        ServiceRecord,
        fetch_status,
        start_service,
    )

__all__ = [
    "HOST",
    "RunningService",
    "ServiceConfig",
    "ServiceRecord",
    "fetch_status",
    "start_service",
]

_HOME = {
    "HOST": "sandbox.service.config",
    "ServiceConfig": "sandbox.service.config",
    "RunningService": "sandbox.service.process",
    "ServiceRecord": "sandbox.service.process",
    "fetch_status": "sandbox.service.process",
    "start_service": "sandbox.service.process",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'sandbox.service' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
