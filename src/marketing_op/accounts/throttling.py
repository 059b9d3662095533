"""Counters against brute force and over-use, kept in the Django cache.

The cache is Redis when ``REDIS_URL`` is set, so that the counters hold across server
workers; otherwise a file cache that every worker process of one machine shares.
Windows are fixed: they start with the first counted event and last their full length.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from marketing_op.core.caching import NOT_READ
from marketing_op.core.exceptions import TooManyRequests

FAILED_LOGIN_WINDOW_SECONDS = 15 * 60
MAX_FAILED_LOGINS_PER_USERNAME = 5
MAX_FAILED_LOGINS_PER_ADDRESS = 20
RATE_WINDOW_SECONDS = 60


def _key(kind: str, value: str) -> str:
    return f"throttle:{kind}:{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()}"


def _count(key: str) -> tuple[int, float]:
    """The events counted under ``key`` and when its window started."""
    window = cache.get_many([key, f"{key}:start"])
    return int(window.get(key, 0)), float(window.get(f"{key}:start", time.time()))


def _increment(key: str, window_seconds: int) -> int:
    """One more event in the window; in a running window, one round trip to the cache."""
    try:
        return int(cache.incr(key))
    except ValueError:
        pass
    if cache.add(key, 1, timeout=window_seconds):
        cache.set(f"{key}:start", time.time(), timeout=window_seconds)
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:
        cache.set(key, 1, timeout=window_seconds)
        cache.set(f"{key}:start", time.time(), timeout=window_seconds)
        return 1


def _retry_after(started: float, window_seconds: int) -> int:
    return int(started + window_seconds - time.time()) + 1


def _login_keys(username: str, address: str) -> list[tuple[str, int]]:
    return [
        (_key("login-user", username.lower()), MAX_FAILED_LOGINS_PER_USERNAME),
        (_key("login-address", address), MAX_FAILED_LOGINS_PER_ADDRESS),
    ]


def login_attempt_check(*, username: str, address: str) -> None:
    """Refuse the exchange, right password or not, while too many recent attempts failed."""
    for key, limit in _login_keys(username, address):
        failures, started = _count(key)
        if failures >= limit:
            raise TooManyRequests(
                "Too many failed sign-in attempts; try again later.",
                retry_after=_retry_after(started, FAILED_LOGIN_WINDOW_SECONDS),
            )


def login_failure_record(*, username: str, address: str) -> None:
    for key, _ in _login_keys(username, address):
        _increment(key, FAILED_LOGIN_WINDOW_SECONDS)


def request_rate_check(*, token_id: int, also_read: str | None = None) -> Any:
    """Allow ``RATE_LIMIT_PER_MINUTE`` requests per token per minute.

    On Redis, the counter is kept with one round trip, in which the cache entry named by
    ``also_read`` is read too: its value (None when absent) is returned, so that a cached
    answer costs no round trip of its own. Elsewhere it is not read (``NOT_READ``).
    """
    key = _key("token-rate", str(token_id))
    if hasattr(cache, "client") and hasattr(cache.client, "get_client"):
        count, value = _increment_and_read(key, RATE_WINDOW_SECONDS, also_read)
    else:
        count, value = _increment(key, RATE_WINDOW_SECONDS), NOT_READ
    if count > settings.RATE_LIMIT_PER_MINUTE:
        _, started = _count(key)
        raise TooManyRequests(
            f"More than {settings.RATE_LIMIT_PER_MINUTE} requests a minute with this token.",
            retry_after=_retry_after(started, RATE_WINDOW_SECONDS),
        )
    return value


def _increment_and_read(key: str, window_seconds: int, also_read: str | None) -> tuple[int, Any]:
    """One more event in the window, and the value of ``also_read``: one round trip to
    Redis (SET NX starts a window with its expiry, INCR counts, GET reads)."""
    client = cache.client.get_client(write=True)  # type: ignore[attr-defined]
    counter = cache.make_key(key)
    commands = client.pipeline(transaction=False)
    commands.set(counter, 0, ex=window_seconds, nx=True)
    commands.incr(counter)
    if also_read is not None:
        commands.get(cache.make_key(also_read))
    started, count, *read = commands.execute()
    if started:
        cache.set(f"{key}:start", time.time(), timeout=window_seconds)
    if also_read is None:
        return int(count), NOT_READ
    value = None if read[0] is None else cache.client.decode(read[0])  # type: ignore[attr-defined]
    return int(count), value
