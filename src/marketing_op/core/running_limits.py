"""How many expensive computations one holder (a user) runs at once, over every worker.

A computation takes one of ``limit`` slots of its holder for as long as it runs. Slots live
where every worker sees them: in Redis when ``REDIS_URL`` is set (``SET NX`` with an expiry,
so that a worker that dies frees its slots), else in lock files of the machine's var folder
(``flock``, which the operating system releases when a process ends), as the file cache
is shared by the workers of one machine. While Redis does not answer, each process counts
its own slots (``core.shared_cache``): the limit then holds per worker, nothing is refused
for want of Redis. A computation that finds no free slot waits up to ``wait_seconds`` for
one, then is refused with ``429`` and a ``Retry-After``.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from marketing_op.core.exceptions import TooManyRequests
from marketing_op.core.shared_cache import cache_unreachable, redis_client

HOLD_SECONDS = 300
"""The longest a slot in Redis is held by a computation whose worker died."""
POLL_SECONDS = 0.05

_local_counts: defaultdict[str, int] = defaultdict(int)
_local_lock = threading.Lock()


@contextmanager
def running_slot(*, kind: str, holder: str, limit: int, wait_seconds: float) -> Iterator[None]:
    """Hold one of the holder's ``limit`` slots of ``kind`` while the block runs."""
    deadline = time.monotonic() + wait_seconds
    pause = POLL_SECONDS
    while True:
        release = _taken(kind, holder, limit)
        if release is not None:
            break
        if time.monotonic() >= deadline:
            raise TooManyRequests(
                f"Too many {kind}s of yours are being computed at once ({limit}); "
                "try again in a few seconds.",
                retry_after=max(1, round(wait_seconds)),
            )
        time.sleep(pause)
        pause = min(pause * 2, 0.5)
    try:
        yield
    finally:
        release()


def _taken(kind: str, holder: str, limit: int) -> Any:
    """A function that frees the slot taken, or None when every slot is held."""
    name = f"{kind}-{hashlib.sha256(holder.encode()).hexdigest()[:32]}"
    client = redis_client()
    if client is not None and not cache_unreachable():
        try:
            return _taken_on_redis(client, name, limit)
        except RedisError:
            pass  # the outage is noted (core.shared_cache); count in this process meanwhile
    if client is not None:
        return _taken_locally(name, limit)
    return _taken_in_files(name, limit)


def _taken_on_redis(client: Any, name: str, limit: int) -> Any:
    token = uuid.uuid4().hex
    for number in range(limit):
        key = cache.make_key(f"running:{name}:{number}")
        if client.set(key, token, nx=True, ex=HOLD_SECONDS):

            def release(key: str = key) -> None:
                try:
                    if client.get(key) == token.encode():
                        client.delete(key)
                except RedisError:
                    pass  # it expires

            return release
    return None


def _taken_locally(name: str, limit: int) -> Any:
    with _local_lock:
        if _local_counts[name] >= limit:
            return None
        _local_counts[name] += 1

    def release() -> None:
        with _local_lock:
            _local_counts[name] -= 1

    return release


def _taken_in_files(name: str, limit: int) -> Any:
    folder = Path(settings.VAR_DIR) / "running"
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(limit):
        descriptor = os.open(folder / f"{name}-{number}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(descriptor)
            continue

        def release(descriptor: int = descriptor) -> None:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)

        return release
    return None
