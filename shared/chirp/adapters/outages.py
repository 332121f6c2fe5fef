"""Which failures of the adapters' clients mean "a dependency is down or shedding load" (retry shortly), as
opposed to a bug. The API answers those 503 with Retry-After and nothing internal in the body."""

from __future__ import annotations

from functools import cache


@cache
def _network_errors() -> tuple[type[BaseException], ...]:
    """The clients' exception types, imported by the first error examined rather than at init: redis-py alone costs
    a cold start about 75 ms, and a function that answers without Redis (or before it) need not pay it."""
    from botocore.exceptions import ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError
    from botocore.exceptions import ReadTimeoutError as BotocoreReadTimeout
    from redis.exceptions import (
        BusyLoadingError,
        ClusterDownError,
        ClusterError,
        ConnectionError,
        SlotNotCoveredError,
        TimeoutError,
        TryAgainError,
    )

    return (
        ConnectionError,  # redis: refused, reset, DNS (also its Timeout subclasses)
        TimeoutError,
        BusyLoadingError,
        # Redis Cluster: a master down or its slots uncovered (CLUSTERDOWN, MASTERDOWN), slots moving (TRYAGAIN),
        # redirections that never settled. No node reachable at all is a RedisClusterException raised from the
        # ConnectionError, found below through its cause; other RedisClusterExceptions are bugs (keys across slots).
        ClusterDownError,
        ClusterError,
        TryAgainError,
        SlotNotCoveredError,
        EndpointConnectionError,
        ConnectTimeoutError,
        BotocoreReadTimeout,
        ConnectionClosedError,
    )


# AWS answers that mean "busy or down, retry": throttling and server-side failures.
_RETRYABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "LimitExceededException",
}


def is_outage(error: BaseException) -> bool:
    """True when `error`, or what caused it, is a dependency that does not answer or sheds load."""
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import PynamoDBException

    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _network_errors()):
            return True
        if isinstance(current, ClientError) and current.response.get("Error", {}).get("Code") in _RETRYABLE_CODES:
            return True
        if isinstance(current, PynamoDBException) and current.cause_response_code in _RETRYABLE_CODES:
            return True
        current = current.__cause__ or current.__context__
    return False
