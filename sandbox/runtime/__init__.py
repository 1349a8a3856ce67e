"""Lambda runtime emulation: run a Python handler in-process the way Lambda would.

```python
from sandbox.runtime import Environment, FunctionConfig
with Environment(FunctionConfig(handler="lambda_function.handler", memory_mb=512)) as env:
    inv = env.invoke({"bucket": "b", "prefix": "p/"})   # cold: INIT + invoke
    print(*inv.lines(), sep="\\n")                      # START / END / REPORT
    inv = env.invoke({"bucket": "b", "prefix": "p/"})   # warm
```
"""

from __future__ import annotations

from sandbox.runtime.context import ClientContext, CognitoIdentity, LambdaContext
from sandbox.runtime.environment import ConfigError, Environment, FunctionConfig, lambda_environ
from sandbox.runtime.invocation import Invocation, Status
from sandbox.runtime.limits import (
    ASYNC_REQUEST_LIMIT,
    SYNC_REQUEST_LIMIT,
    SYNC_RESPONSE_LIMIT,
    InvocationType,
    PayloadTooLarge,
)
from sandbox.runtime.memory import best_peak_rss
from sandbox.runtime.tmpdir import TmpDir

__all__ = [
    "ASYNC_REQUEST_LIMIT",
    "SYNC_REQUEST_LIMIT",
    "SYNC_RESPONSE_LIMIT",
    "ClientContext",
    "CognitoIdentity",
    "ConfigError",
    "Environment",
    "FunctionConfig",
    "Invocation",
    "InvocationType",
    "LambdaContext",
    "PayloadTooLarge",
    "Status",
    "TmpDir",
    "best_peak_rss",
    "lambda_environ",
]
