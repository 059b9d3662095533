"""Rate limits and lock-outs: how many requests a token and a user make, how many tokens a
user gets, how many sign-ins fail per username and per client address.

The data endpoints and the token exchange use the throttles of this module through
django-ninja's ``throttle=`` (they run after authentication, on ``request.auth``). A
password sign-in (``auth.BasicCredentials``, the dashboard's form) is counted by
``login_attempt_begin`` before its password is checked, in one atomic step that also says
whether it may go on, so that requests arriving at once cannot all pass a check made before
any of them failed; a sign-in that succeeds is taken back (``login_attempt_succeeded``).

Counters live in fixed windows that start with their first event, in the shared cache:
Redis when ``REDIS_URL`` is set (one round trip per count, ``INCRBY`` is atomic), else the
file cache that the workers of one machine share (counted under a file lock, so that
workers do not overwrite each other's counts). While Redis is unreachable each process
counts on its own (``core.shared_cache``), so limits still hold, per worker, until Redis is
back.
"""

from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from cachetools import TLRUCache
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle
from redis.exceptions import RedisError

from marketing_op.core.exceptions import TooManyRequests
from marketing_op.core.metrics import count_throttle_rejection
from marketing_op.core.shared_cache import cache_unreachable, redis_client

FAILED_LOGIN_WINDOW_SECONDS = 15 * 60
MAX_FAILED_LOGINS_PER_USERNAME = 5
MAX_FAILED_LOGINS_PER_ADDRESS = 20
RATE_WINDOW_SECONDS = 60
EXCHANGE_WINDOW_SECONDS = 60 * 60


# --- client addresses -----------------------------------------------------------------------


def client_address(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or behind ``TRUSTED_PROXY_COUNT`` proxies the
    address that the first of them appended to ``X-Forwarded-For`` (the Nth from the right;
    what a client wrote further left is ignored). A header too short to have come through
    every proxy, or that is not an address, counts as the proxy's own ``REMOTE_ADDR``."""
    remote = str(request.META.get("REMOTE_ADDR") or "unknown")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
    if len(forwarded) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-proxies].strip()))
    except ValueError:
        return remote


# --- counting in windows --------------------------------------------------------------------


class Window(NamedTuple):
    events: int
    seconds_left: float


MAX_LOCAL_WINDOWS = 10_000
_local_windows: TLRUCache = TLRUCache(
    maxsize=MAX_LOCAL_WINDOWS,
    ttu=lambda key, window, now: window[1],
    timer=lambda: time.monotonic(),
)
_local_lock = threading.Lock()


def _key(kind: str, value: str) -> str:
    return f"throttle:{kind}:{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()}"


def _count(keys: list[str], events: int, window_seconds: int) -> list[Window]:
    """Add ``events`` (0 only reads) to the windows under ``keys``; their counts and time
    left."""
    client = redis_client()
    if client is not None and not cache_unreachable():
        try:
            return _count_on_redis(client, keys, events, window_seconds)
        except RedisError:
            pass  # the outage is noted (core.shared_cache); count in this process meanwhile
    if client is not None:
        return [_count_locally(key, events, window_seconds) for key in keys]
    return _count_in_cache(keys, events, window_seconds)


def _count_on_redis(client: Any, keys: list[str], events: int, window_seconds: int) -> list[Window]:
    """One round trip for all: per key, SET NX starts a window with its expiry, INCRBY
    counts (or GET reads, which starts no window), PTTL says when the window ends."""
    commands = client.pipeline(transaction=False)
    for key in keys:
        counter = cache.make_key(key)
        if events:
            commands.set(counter, 0, ex=window_seconds, nx=True)
            commands.incrby(counter, events)
        else:
            commands.get(counter)
        commands.pttl(counter)
    replies = commands.execute()
    width = 3 if events else 2
    return [
        Window(int(replies[at + width - 2] or 0), max(replies[at + width - 1], 0) / 1000)
        for at in range(0, len(replies), width)
    ]


def _count_locally(key: str, events: int, window_seconds: int) -> Window:
    now = time.monotonic()
    with _local_lock:
        window = _local_windows.get(key)
        if window is None:
            if not events:
                return Window(0, window_seconds)
            window = _local_windows[key] = [0, now + window_seconds]
        window[0] += events
        return Window(window[0], window[1] - now)


def _count_in_cache(keys: list[str], events: int, window_seconds: int) -> list[Window]:
    """The file cache: per key, its count and the time its window ends, read and written
    under the cache folder's lock (``_cache_lock``)."""
    with _cache_lock():
        return [_count_in_cache_entry(key, events, window_seconds) for key in keys]


def _count_in_cache_entry(key: str, events: int, window_seconds: int) -> Window:
    now = time.time()
    entry = cache.get(key)
    if not isinstance(entry, tuple) or entry[1] <= now:
        if not events:
            return Window(0, window_seconds)
        entry = (0, now + window_seconds)
    count, ends_at = int(entry[0]) + events, float(entry[1])
    if events:
        cache.set(key, (count, ends_at), timeout=max(1, math.ceil(ends_at - now)))
    return Window(count, ends_at - now)


_cache_thread_lock = threading.Lock()


@contextmanager
def _cache_lock() -> Iterator[None]:
    """Held while a count of the file cache is read and written back: a lock file in the
    cache's folder (``flock``), which the workers of the machine share, as they share the
    cache; a cache without a folder is only this process's, guarded by a thread lock."""
    with _cache_thread_lock:
        location = settings.CACHES["default"].get("LOCATION")
        if not location or not settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
            yield
            return
        folder = Path(location)
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "throttle.lock").open("a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)


_TAKE_BACK = """
for _, key in ipairs(KEYS) do
    if redis.call('GET', key) and tonumber(redis.call('GET', key)) > 0 then
        redis.call('DECR', key)
    end
end
return 0
"""


def _take_back(keys: list[str]) -> None:
    """Take one event back from the windows under ``keys`` that still hold one (a window
    that ended meanwhile is not started again)."""
    client = redis_client()
    if client is not None and not cache_unreachable():
        try:
            client.eval(_TAKE_BACK, len(keys), *(cache.make_key(key) for key in keys))
            return
        except RedisError:
            pass
    if client is not None:
        now = time.monotonic()
        with _local_lock:
            for key in keys:
                window = _local_windows.get(key)
                if window is not None and window[0] > 0 and window[1] > now:
                    window[0] -= 1
        return
    with _cache_lock():
        now = time.time()
        for key in keys:
            entry = cache.get(key)
            if isinstance(entry, tuple) and entry[0] > 0 and entry[1] > now:
                timeout = max(1, math.ceil(entry[1] - now))
                cache.set(key, (int(entry[0]) - 1, entry[1]), timeout=timeout)


def _retry_after(window: Window) -> int:
    return max(1, int(window.seconds_left) + 1)


# --- sign-in lock-outs ----------------------------------------------------------------------


def _address_key(address: str) -> tuple[str, int]:
    return (_key("login-address", address), MAX_FAILED_LOGINS_PER_ADDRESS)


def _login_keys(username: str, address: str) -> list[tuple[str, int]]:
    return [
        (_key("login-user", username.lower()), MAX_FAILED_LOGINS_PER_USERNAME),
        _address_key(address),
    ]


def _lockout_refusal(windows: list[Window]) -> TooManyRequests:
    count_throttle_rejection("lockout")
    return TooManyRequests(
        "Too many failed sign-in attempts; try again later.",
        retry_after=max(_retry_after(window) for window in windows),
    )


def _lockout_check(keys: list[tuple[str, int]]) -> None:
    counted = _count([key for key, _ in keys], 0, FAILED_LOGIN_WINDOW_SECONDS)
    spent = [
        failures
        for failures, (_, limit) in zip(counted, keys, strict=True)
        if failures.events >= limit
    ]
    if spent:
        raise _lockout_refusal(spent)


def login_attempt_begin(*, username: str, address: str) -> None:
    """Count a password sign-in of the username from the address before its password is
    checked, and refuse it (``TooManyRequests``), right password or not, when that makes
    more than the limits allow: the count and the decision are one atomic step, so that at
    most ``MAX_FAILED_LOGINS_PER_USERNAME`` passwords of a username are checked in a window
    however many requests arrive at once. A refused attempt is taken back; a failed one
    stays counted; a successful one is taken back by ``login_attempt_succeeded``."""
    keys = _login_keys(username, address)
    names = [key for key, _ in keys]
    counted = _count(names, 1, FAILED_LOGIN_WINDOW_SECONDS)
    over = [
        window for window, (_, limit) in zip(counted, keys, strict=True) if window.events > limit
    ]
    if over:
        _take_back(names)
        raise _lockout_refusal(over)


def login_attempt_succeeded(*, username: str, address: str) -> None:
    """The password was right: the attempt that ``login_attempt_begin`` counted is not a
    failure."""
    _take_back([key for key, _ in _login_keys(username, address)])


def address_attempt_check(*, address: str) -> None:
    """The lock-out of a client address alone, for sign-ins that name no username (a
    refresh token, the identity provider's answer)."""
    _lockout_check([_address_key(address)])


def address_failure_record(*, address: str) -> None:
    _count([_address_key(address)[0]], 1, FAILED_LOGIN_WINDOW_SECONDS)


# --- throttles of authenticated requests ----------------------------------------------------


class _Throttle(BaseThrottle):
    """django-ninja asks ``allow_request``, then ``wait`` for the Retry-After of a refusal;
    the wait is kept per thread, as one throttle object serves every request."""

    reason = ""
    """What a refusal is counted as (``core.metrics.count_throttle_rejection``)."""

    def __init__(self) -> None:
        self._refusal = threading.local()

    def refuse(self, retry_after: int) -> bool:
        count_throttle_rejection(self.reason)
        self._refusal.retry_after = retry_after
        return False

    def wait(self) -> float | None:
        return getattr(self._refusal, "retry_after", None)


def token_exchange_allow(*, user_id: int) -> None:
    """Count a token exchange or refresh of the user: ``TOKEN_EXCHANGES_PER_HOUR`` of them
    together, then ``TooManyRequests``."""
    [window] = _count([_key("exchanges", str(user_id))], 1, EXCHANGE_WINDOW_SECONDS)
    if window.events > settings.TOKEN_EXCHANGES_PER_HOUR:
        raise TooManyRequests(
            "Too many token exchanges; try again later.", retry_after=_retry_after(window)
        )


class TokenExchangeLimit(_Throttle):
    """``TOKEN_EXCHANGES_PER_HOUR`` token exchanges per user (``request.auth``)."""

    reason = "token_exchanges"

    def allow_request(self, request: HttpRequest) -> bool:
        user = request.auth  # type: ignore[attr-defined]
        try:
            token_exchange_allow(user_id=user.pk)
        except TooManyRequests as refusal:
            return self.refuse(refusal.retry_after)
        return True


MAX_RATE_BATCH = 10
"""At most this many of a token's requests are counted at once (see ``DataRateLimit``)."""
MAX_ALLOWANCES = 10_000
"""Tokens whose batches a worker keeps; past that it forgets them all and counts again."""
_allowances: dict[int | str, tuple[int, float]] = {}
_allowances_lock = threading.Lock()


def rate_batch(limit: int) -> int:
    """How many requests a worker counts at once: one while the limit is small (every
    request counted as it comes), up to ``MAX_RATE_BATCH`` for a limit of 600 a minute."""
    return max(1, min(MAX_RATE_BATCH, limit // 60))


class DataRateLimit(_Throttle):
    """``RATE_LIMIT_PER_MINUTE`` requests per token and ``USER_RATE_LIMIT_PER_MINUTE`` per
    user over all their tokens (``request.auth`` is the token, or the dashboard's session,
    counted like a token), so that a fresh token gives no fresh budget.

    A worker counts a token's requests a batch at a time (``rate_batch``), on the token's
    and the user's counters at once, and lets that many through before it counts again, so
    that most requests cost no round trip to the cache. The counters hold every request
    that any worker let through, and a batch is granted only up to the limits: the workers
    together never let more than a limit through in a window (a batch that one worker does
    not use lets the others through less). A batch lasts until its window ends.
    """

    reason = "rate_limit"

    def allow_request(self, request: HttpRequest) -> bool:
        access_token = request.auth  # type: ignore[attr-defined]
        now = time.monotonic()
        with _allowances_lock:
            left, until = _allowances.get(access_token.pk, (0, 0.0))
            if left > 0 and until > now:
                _allowances[access_token.pk] = (left - 1, until)
                return True
        limits = [
            (_key("token-rate", str(access_token.pk)), settings.RATE_LIMIT_PER_MINUTE),
            (_key("user-rate", str(access_token.user_id)), settings.USER_RATE_LIMIT_PER_MINUTE),
        ]
        batch = rate_batch(min(limit for _, limit in limits))
        counted = _count([key for key, _ in limits], batch, RATE_WINDOW_SECONDS)
        windows = list(zip(counted, (limit for _, limit in limits), strict=True))
        granted = min(min(batch, limit - (window.events - batch)) for window, limit in windows)
        if granted <= 0:
            spent = [window for window, limit in windows if window.events - batch >= limit]
            return self.refuse(max(_retry_after(window) for window in spent))
        with _allowances_lock:
            if len(_allowances) > MAX_ALLOWANCES:
                _allowances.clear()
            seconds_left = min(window.seconds_left for window, _ in windows)
            _allowances[access_token.pk] = (granted - 1, now + seconds_left)
        return True


def forget_allowances() -> None:
    """Drop this worker's batches and its own counters (tests do, with the cache's)."""
    with _allowances_lock:
        _allowances.clear()
    with _local_lock:
        _local_windows.clear()


data_rate_limit = DataRateLimit()
token_exchange_limit = TokenExchangeLimit()
