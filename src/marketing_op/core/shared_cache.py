"""Whether the shared cache (Redis) answers, and what the service does when it does not.

The cache is not the source of truth: with Redis unreachable every answer is computed
(django-redis's ``IGNORE_EXCEPTIONS`` turns its errors into misses), the throttle counters
are held per process (``accounts.throttling``), and health says ``degraded``. After a
failure, Redis is skipped for ``RETRY_SECONDS``, so that an outage costs one failed
connection per worker every few seconds, not one per cache call, and a warning is logged
at most once a minute. The connections of django-redis's pool are ``GuardedConnection``s
(``CONNECTION_POOL_CLASS`` in the settings), which notice failures wherever they happen.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache
from redis.connection import Connection, ConnectionPool, SSLConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
"""How long Redis is skipped after it failed."""
WARNING_SECONDS = 60.0
"""At most one warning about an unreachable cache per this many seconds (per process)."""
CHECK_SECONDS = 5.0
"""How long health trusts its last successful check of Redis."""

_FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)
_skip_until = 0.0
_warned_at = -WARNING_SECONDS
_checked_at = -CHECK_SECONDS


def outage_began(error: BaseException) -> None:
    """Redis failed: skip it for ``RETRY_SECONDS``; warn unless a warning went out lately."""
    global _skip_until, _warned_at
    now = time.monotonic()
    _skip_until = now + RETRY_SECONDS
    if now - _warned_at >= WARNING_SECONDS:
        _warned_at = now
        logger.warning(
            "The shared cache (Redis) is unreachable (%s): answering without it, counting "
            "rate limits per process; retrying every %d s.",
            type(error).__name__,
            RETRY_SECONDS,
        )


def cache_unreachable() -> bool:
    """True while Redis is being skipped after a failure."""
    return _skip_until > time.monotonic()


def forget_outage() -> None:
    """Forget a past failure (tests do, after they pointed the cache at a closed port)."""
    global _skip_until, _warned_at, _checked_at
    _skip_until, _warned_at, _checked_at = 0.0, -WARNING_SECONDS, -CHECK_SECONDS


def redis_client() -> Any:
    """The redis-py client of the shared cache, or None when the cache is not Redis."""
    client: Any = getattr(cache, "client", None)
    return client.get_client(write=True) if hasattr(client, "get_client") else None


def shared_cache_reachable() -> bool:
    """For health: False while Redis is skipped; otherwise Redis is asked (a PING) at most
    every ``CHECK_SECONDS``. A cache that is not Redis (the file cache) is always there."""
    global _checked_at
    client = redis_client()
    if client is None:
        return True
    if cache_unreachable():
        return False
    now = time.monotonic()
    if now - _checked_at < CHECK_SECONDS:
        return True
    try:
        client.ping()
    except RedisError:
        return False
    _checked_at = now
    return True


class _Guarded:
    """Skips Redis while it is known to be unreachable; reports every failure."""

    def connect(self) -> None:
        if cache_unreachable():
            raise RedisConnectionError("Redis failed moments ago; skipped for now.")
        try:
            super().connect()  # type: ignore[misc]
        except _FAILURES as error:
            outage_began(error)
            raise

    def send_packed_command(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().send_packed_command(*args, **kwargs)  # type: ignore[misc]
        except _FAILURES as error:
            outage_began(error)
            raise

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().read_response(*args, **kwargs)  # type: ignore[misc]
        except _FAILURES as error:
            outage_began(error)
            raise


class GuardedConnection(_Guarded, Connection):
    pass


class GuardedSSLConnection(_Guarded, SSLConnection):
    pass


class GuardedConnectionPool(ConnectionPool):
    """django-redis's pool, of guarded connections (``rediss://`` URLs included)."""

    def __init__(self, connection_class: type = Connection, **kwargs: Any) -> None:
        guarded = GuardedSSLConnection if issubclass(connection_class, SSLConnection) else None
        super().__init__(connection_class=guarded or GuardedConnection, **kwargs)
