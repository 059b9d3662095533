"""Caching of data answers by the organisation's data version, which every import that
changes the organisation's data increments: an ETag for clients, and the rendered answer
in the server's cache, so that a dashboard's repeated question costs one cache read.

The answer cache is a step that an endpoint calls (``cached_answer``), keyed by the
endpoint's validated parameters; each worker keeps its own copies of what it read
(a ``cachetools`` cache, bounded in bytes, ``WORKER_CACHE_BYTES``, and in age); an entry
larger than ``LARGE_ENTRY_BYTES`` lives in the shared cache for minutes, not hours. When
the shared cache is unreachable, its reads are misses and its writes are dropped
(``core.shared_cache``): every answer is computed."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast

import orjson
from cachetools import TLRUCache
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from ninja import Schema

from marketing_op.accounts.models import Organization
from marketing_op.core.metrics import count_answer_cache, worker_cache_bytes
from marketing_op.core.rendering import JSON_CONTENT_TYPE, json_bytes


def _database_tag() -> str:
    """Names the database, so that services on different databases (a staging copy, the
    benchmark's datasets) never read each other's entries in a shared cache: their
    organisations may have the same ids and data versions."""
    database = settings.DATABASES["default"]
    where = f"{database.get('HOST', '')}:{database.get('PORT', '')}:{database.get('NAME', '')}"
    return hashlib.sha256(where.encode()).hexdigest()[:12]


@functools.cache
def code_tag() -> str:
    """Names the code of this release (a digest of the package's modules), so that a value
    that another release computed and shaped its own way (servers of two releases share a
    cache during a rolling deploy, and an upgrade finds the old release's entries) is never
    read by this one."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for module in sorted(package.rglob("*.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()[:12]


def data_cache_key(organization: Organization, kind: str, detail: str) -> str:
    """A cache key for something computed from the organisation's current data by this
    release: every import that changes the data changes the key, and so does every release,
    so nothing stale or of another shape is ever read."""
    digest = hashlib.sha256(detail.encode("utf-8", "replace")).hexdigest()
    where = f"{_database_tag()}:{code_tag()}"
    return f"{kind}:{where}:{organization.pk}:{organization.data_version}:{digest}"


Computed = TypeVar("Computed")

WORKER_COPY_SECONDS = 60
"""How long a server worker keeps its own copy of a value computed per data version."""
WORKER_COPY_SHARE = 8
"""A value larger than this share of ``WORKER_CACHE_BYTES`` is not kept by the worker: one
large answer must not push out every other copy."""
LARGE_ENTRY_BYTES = 1024 * 1024
"""A shared-cache entry (or a report's chunks together) larger than this lives at most
``LARGE_ENTRY_SECONDS``: big answers are asked for again soon or not at all, and Redis's
memory is for the many small ones."""
LARGE_ENTRY_SECONDS = 5 * 60
SIZE_SAMPLE = 32
"""Items of a long list measured to estimate its size (rows of one answer are alike)."""


class _Copy(NamedTuple):
    value: Any
    expires: float
    size: int


def approximate_size(value: Any) -> int:
    """About the bytes that ``value`` holds in memory: ``sys.getsizeof`` of it and of what
    it contains (lists, tuples, sets, dicts, dataclasses), a long list estimated from
    ``SIZE_SAMPLE`` of its items. Shared objects are counted each time they appear, which
    errs on the safe side."""
    size = sys.getsizeof(value)
    if isinstance(value, str | bytes | bytearray | int | float | bool) or value is None:
        return size
    if isinstance(value, dict):
        return size + sum(approximate_size(k) + approximate_size(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        items = value if isinstance(value, list | tuple) else list(value)
        if len(items) <= SIZE_SAMPLE:
            return size + sum(approximate_size(item) for item in items)
        step = len(items) / SIZE_SAMPLE
        sample = sum(approximate_size(items[int(index * step)]) for index in range(SIZE_SAMPLE))
        return size + sample * len(items) // SIZE_SAMPLE
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return size + sum(
            approximate_size(getattr(value, field.name)) for field in dataclasses.fields(value)
        )
    return size


def shared_cache_seconds(seconds: int, size: int) -> int:
    """How long the shared cache keeps an entry of ``size`` bytes that would live
    ``seconds``: at most ``LARGE_ENTRY_SECONDS`` when it is larger than ``LARGE_ENTRY_BYTES``."""
    return min(seconds, LARGE_ENTRY_SECONDS) if size > LARGE_ENTRY_BYTES else seconds


def _worker_copies_new(maxsize: int) -> TLRUCache:
    """The worker's copies, bounded by their bytes (``maxsize``), the least recently used
    going first, each also going when it expires."""
    return TLRUCache(
        maxsize=maxsize,
        ttu=lambda key, copy, now: copy.expires,
        timer=lambda: time.monotonic(),
        getsizeof=lambda copy: copy.size,
    )


_worker_copies = _worker_copies_new(settings.WORKER_CACHE_BYTES)
_worker_copies_lock = threading.Lock()


def worker_copy(key: str) -> Any:
    """This worker's copy of the value under ``key``, or None."""
    with _worker_copies_lock:
        copy = _worker_copies.get(key)
    return None if copy is None else copy.value


def keep_worker_copy(key: str, value: Any, seconds: float = WORKER_COPY_SECONDS) -> None:
    """Keep a copy of ``value`` in this worker for at most ``seconds`` (and
    ``WORKER_COPY_SECONDS``), unless it is larger than a ``WORKER_COPY_SHARE``th of the
    worker's bound (``WORKER_CACHE_BYTES``)."""
    size = approximate_size(value) + len(key)
    expires = time.monotonic() + min(seconds, WORKER_COPY_SECONDS)
    with _worker_copies_lock:
        if size * WORKER_COPY_SHARE > _worker_copies.maxsize:
            return
        _worker_copies[key] = _Copy(value, expires, size)
        worker_cache_bytes.set(_worker_copies.currsize)


def once_per_data_version(key: str, compute: Callable[[], Computed], seconds: int) -> Computed:
    """The value under ``key`` (a :func:`data_cache_key`): from this worker's own copy, else
    from the shared cache, else ``compute``d and stored in both.

    The key holds the data version, so a copy is never stale while the data stays; the
    worker's copies save a round trip to the cache (and unpickling) on every request that
    needs them, and go after ``WORKER_COPY_SECONDS`` so that what the shared cache forgets
    (a flush, a restored database) is forgotten here too. Callers must not change a value.
    """
    value = worker_copy(key)
    if value is not None:
        return cast(Computed, value)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, shared_cache_seconds(seconds, approximate_size(value)))
    keep_worker_copy(key, value)
    return cast(Computed, value)


def forget_worker_copies() -> None:
    """Drop this worker's copies (tests do, with the shared cache's entries), and bound them
    anew by ``WORKER_CACHE_BYTES`` (which a test may have changed)."""
    global _worker_copies
    with _worker_copies_lock:
        _worker_copies = _worker_copies_new(settings.WORKER_CACHE_BYTES)
        worker_cache_bytes.set(0)


def answer_cache_key(
    *, request: HttpRequest, organization: Organization, parameters: Sequence[Schema]
) -> str:
    """Where the answer of this endpoint to these validated parameters, for the
    organisation's current data, is cached. Only the parameters count, in a canonical
    form: a URL with unknown parameters, or the known ones in another order or spelled out
    at their defaults, reaches the same entry, so no client can fill the cache with copies
    of one answer."""
    canonical = orjson.dumps(
        [parameter.model_dump(mode="json") for parameter in parameters],
        option=orjson.OPT_SORT_KEYS,
    )
    return data_cache_key(organization, "answer", f"{request.path}?{canonical.decode()}")


def data_etag(*, request: HttpRequest, organization: Organization, representation: str = "") -> str:
    """Changes whenever an import changes the organisation's data, and differs per URL and
    per ``representation`` (an export's file format, which ``Accept`` may choose)."""
    resource = f"{organization.pk}:{request.get_full_path()}".encode("utf-8", "replace")
    if representation:
        resource += f"|{representation}".encode()
    return f'"v{organization.data_version}-{hashlib.sha256(resource).hexdigest()[:20]}"'


def not_modified(
    *,
    request: HttpRequest,
    response: HttpResponse,
    organization: Organization,
    representation: str = "",
) -> bool:
    """Set ETag and Cache-Control on the answer; True when the client's copy is current."""
    etag = data_etag(request=request, organization=organization, representation=representation)
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    candidates = request.headers.get("If-None-Match", "")
    return any(
        candidate.strip().removeprefix("W/") in {etag, "*"} for candidate in candidates.split(",")
    )


def cached_answer(
    *,
    request: HttpRequest,
    response: HttpResponse,
    organization: Organization,
    schema: type[Schema],
    compute: Callable[[], dict[str, Any]],
    parameters: Sequence[Schema],
) -> HttpResponse:
    """The answer of this endpoint to ``parameters`` (its validated query parameters, e.g.
    ``(filters, page)``; ``()`` for none) for the organisation's current data: ``compute``d,
    validated by ``schema`` and rendered once, then read from the cache until an import
    changes the data (the key holds the data version) or ``ANSWER_CACHE_SECONDS`` pass. The
    worker keeps a copy too (see :func:`once_per_data_version`), so that a repeated
    question often costs no round trip to the shared cache at all.

    ``response`` carries the headers of the answer (ETag, Cache-Control, Link), which are
    kept with it. The key holds the organisation, so no answer can reach another one.
    """
    key = answer_cache_key(request=request, organization=organization, parameters=parameters)
    seconds = settings.ANSWER_CACHE_SECONDS
    stored = None
    if seconds > 0:
        stored = worker_copy(key)
        if stored is not None:
            count_answer_cache("hit_worker")
        else:
            stored = cache.get(key)
            if stored is not None:
                count_answer_cache("hit_shared")
                keep_worker_copy(key, stored, seconds)
            else:
                count_answer_cache("miss")
    if stored is None:
        data = schema.model_validate(compute()).model_dump()
        stored = (json_bytes(data), response.get("Link"))
        if seconds > 0:
            cache.set(key, stored, shared_cache_seconds(seconds, len(stored[0])))
            keep_worker_copy(key, stored, seconds)
    content, link = stored
    answer = HttpResponse(content, content_type=JSON_CONTENT_TYPE)
    for header, value in response.items():
        if header.lower() != "content-type":
            answer[header] = value
    if link:
        answer["Link"] = link
    return answer
