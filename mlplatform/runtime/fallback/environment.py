"""What one Lambda execution environment keeps between calls: the config and the clients.

The config file is read once per cold start and the boto3 clients are made on first use;
warm calls of the same environment reuse both. An unusable config file is not kept: the
call answers 500 (:mod:`.entry`) and the next call reads the file again.

How the clients are configured, and why
---------------------------------------
Retries: the endpoint is invoked once (botocore standard mode, ``total_max_attempts``
1). A retried read timeout would take twice ``timeoutMs`` before the caller hears
anything, and retried throttling adds load to an endpoint that is already overloaded;
the fallback is the designed answer to a failed call. The usual reason for a spurious
single failure, a pooled connection the server has closed, is already handled below
botocore (urllib3 discards a pooled connection the peer closed before reusing it).
``read_timeout`` bounds each wait for the model's bytes (not the total transfer of a
trickling answer); ``connect_timeout`` is at most :data:`CONNECT_TIMEOUT_SECONDS`. The
function's own timeout must exceed ``timeoutMs`` plus the DynamoDB and CloudWatch calls
(:data:`AUX_TIMEOUT_SECONDS` to connect and to read, :data:`AUX_ATTEMPTS`):
:func:`function_timeout_seconds` gives that figure. Clients honour ``AWS_ENDPOINT_URL``
and the per-service ``AWS_ENDPOINT_URL_<SERVICE>`` variables (botocore's configured
endpoint URLs), which the tests use to stay on loopback.
"""

from __future__ import annotations

import math
from typing import Any

from .config import FallbackConfig, load_config

#: Upper bound of the TCP connect wait to the runtime API (a healthy in-region connect takes ms).
CONNECT_TIMEOUT_SECONDS = 1.0
#: Connect and read timeout of the DynamoDB and CloudWatch calls, which sit on the answer's path,
#: and their attempts: a cache read decides the answer (one retry), a metric does not (none).
AUX_TIMEOUT_SECONDS = 1.0
AUX_ATTEMPTS = {"dynamodb": 2, "cloudwatch": 1}


def function_timeout_seconds(timeout_ms: int) -> int:
    """Lambda timeout that lets the slowest complete call still answer: the model's connect
    and read timeouts, then the DynamoDB call (read on a failure, write on success) and the
    metric, each at their worst, and a second for the rest."""
    model = min(CONNECT_TIMEOUT_SECONDS, timeout_ms / 1000) + timeout_ms / 1000
    auxiliary = sum(attempts * 2 * AUX_TIMEOUT_SECONDS for attempts in AUX_ATTEMPTS.values())
    return math.ceil(model + auxiliary + 1)


# Module state of one execution environment: the config and the clients are made on the
# first call and reused by every later call of the same environment (warm starts).
_config: FallbackConfig | None = None
_clients: dict[str, Any] = {}


def reset() -> None:
    """Forget the config and clients (tests change the config and endpoints between calls)."""
    global _config
    _config = None
    _clients.clear()


def current_config() -> FallbackConfig:
    """The checked config, read on the first call of this environment."""
    global _config
    if _config is None:
        _config = load_config()
    return _config


def client(service: str, config: FallbackConfig) -> Any:
    """This environment's boto3 client for ``service`` (``sagemaker-runtime``, ``dynamodb``
    or ``cloudwatch``), with the timeouts and attempts described above."""
    made = _clients.get(service)
    if made is None:
        import boto3  # provided by the Lambda runtime
        from botocore.config import Config

        if service == "sagemaker-runtime":
            read = config.timeout_ms / 1000
            settings = Config(read_timeout=read, connect_timeout=min(CONNECT_TIMEOUT_SECONDS, read),
                              retries={"mode": "standard", "total_max_attempts": 1})
        else:
            settings = Config(read_timeout=AUX_TIMEOUT_SECONDS, connect_timeout=AUX_TIMEOUT_SECONDS,
                              retries={"mode": "standard", "total_max_attempts": AUX_ATTEMPTS[service]})
        made = _clients[service] = boto3.client(service, config=settings)
    return made
