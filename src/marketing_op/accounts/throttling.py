"""Counters against brute force and over-use, kept in the Django cache.

The cache is Redis when ``REDIS_URL`` is set, so that the counters hold across server
workers; otherwise a file cache that every worker process of one machine shares.
Windows are fixed: they start with the first counted event and last their full length.
"""

from __future__ import annotations

import hashlib
import threading
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


def _increment(key: str, window_seconds: int, events: int = 1) -> int:
    """``events`` more in the window; in a running window, one round trip to the cache."""
    try:
        return int(cache.incr(key, events))
    except ValueError:
        pass
    if cache.add(key, events, timeout=window_seconds):
        cache.set(f"{key}:start", time.time(), timeout=window_seconds)
        return events
    try:
        return int(cache.incr(key, events))
    except ValueError:
        cache.set(key, events, timeout=window_seconds)
        cache.set(f"{key}:start", time.time(), timeout=window_seconds)
        return events


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


MAX_RATE_BATCH = 10
"""At most this many of a token's requests are counted at once (see ``request_rate_check``)."""
MAX_ALLOWANCES = 10_000
"""Tokens whose batches a worker keeps; past that it forgets them all and counts again."""
_allowances: dict[int, tuple[int, float]] = {}
_allowances_lock = threading.Lock()


def rate_batch(limit: int) -> int:
    """How many requests a worker counts at once: one while the limit is small (every
    request counted as it comes), up to ``MAX_RATE_BATCH`` for a limit of 600 a minute."""
    return max(1, min(MAX_RATE_BATCH, limit // 60))


def request_rate_check(*, token_id: int, also_read: str | None = None) -> Any:
    """Allow ``RATE_LIMIT_PER_MINUTE`` requests per token per minute.

    A worker counts a token's requests in the cache a batch at a time (``rate_batch``) and
    lets that many through before it counts again, so that most requests cost no round
    trip to the cache. The counter holds every request that any worker let through, and
    a batch is granted only up to the limit: the workers together never let more than the
    limit through in a window (a batch that one worker does not use lets the others
    through less). A batch lasts until its window ends.

    When the cache is counted, on Redis, the entry named by ``also_read`` is read in the
    same round trip: its value (None when absent) is returned; otherwise ``NOT_READ``.
    """
    now = time.monotonic()
    with _allowances_lock:
        left, until = _allowances.get(token_id, (0, 0.0))
        if left > 0 and until > now:
            _allowances[token_id] = (left - 1, until)
            return NOT_READ
    limit = settings.RATE_LIMIT_PER_MINUTE
    batch = rate_batch(limit)
    key = _key("token-rate", str(token_id))
    if hasattr(cache, "client") and hasattr(cache.client, "get_client"):
        count, seconds_left, value = _count_batch_and_read(key, batch, also_read)
    else:
        count, value = _increment(key, RATE_WINDOW_SECONDS, batch), NOT_READ
        _, started = _count(key)
        seconds_left = started + RATE_WINDOW_SECONDS - time.time()
    granted = min(batch, limit - (count - batch))
    if granted <= 0:
        _, started = _count(key)
        raise TooManyRequests(
            f"More than {limit} requests a minute with this token.",
            retry_after=_retry_after(started, RATE_WINDOW_SECONDS),
        )
    with _allowances_lock:
        if len(_allowances) > MAX_ALLOWANCES:
            _allowances.clear()
        _allowances[token_id] = (granted - 1, now + seconds_left)
    return value


def forget_allowances() -> None:
    """Drop this worker's batches (tests do, with the cache's counters)."""
    with _allowances_lock:
        _allowances.clear()


def _count_batch_and_read(key: str, batch: int, also_read: str | None) -> tuple[int, float, Any]:
    """The counter after adding ``batch``, the seconds left in its window, and the value of
    ``also_read``: one round trip to Redis (SET NX starts a window with its expiry, INCRBY
    counts, PTTL says when the window ends, GET reads)."""
    client = cache.client.get_client(write=True)  # type: ignore[attr-defined]
    counter = cache.make_key(key)
    commands = client.pipeline(transaction=False)
    commands.set(counter, 0, ex=RATE_WINDOW_SECONDS, nx=True)
    commands.incrby(counter, batch)
    commands.pttl(counter)
    if also_read is not None:
        commands.get(cache.make_key(also_read))
    started, count, milliseconds_left, *read = commands.execute()
    if started:
        cache.set(f"{key}:start", time.time(), timeout=RATE_WINDOW_SECONDS)
    seconds_left = max(milliseconds_left, 0) / 1000
    if also_read is None:
        return int(count), seconds_left, NOT_READ
    value = None if read[0] is None else cache.client.decode(read[0])  # type: ignore[attr-defined]
    return int(count), seconds_left, value
