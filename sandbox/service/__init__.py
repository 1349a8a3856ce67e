"""The local Lambda service: the Invoke API, API Gateway over HTTP, S3 webhook triggers, the
pool of execution environments (one worker process each) and per-function logs.

```python
from sandbox.service import ServiceConfig, start_service
with start_service(ServiceConfig(port=p, api_port=a, run_dir=d, function_env=sb.env())) as svc:
    boto3.client("lambda", endpoint_url=svc.url).invoke(FunctionName="lambda-local-runner")
```
``python -m sandbox up`` starts one beside S3 (``--no-service`` skips it).
"""

from __future__ import annotations

from sandbox.service.config import HOST, ServiceConfig
from sandbox.service.process import RunningService, ServiceRecord, fetch_status, start_service

__all__ = [
    "HOST",
    "RunningService",
    "ServiceConfig",
    "ServiceRecord",
    "fetch_status",
    "start_service",
]
