"""What the service counts for its operators, in Prometheus' text format at ``/metrics``.

The metrics are ``prometheus-client``'s. Under ``marketing-op serve`` every worker process
writes its counts to files in ``PROMETHEUS_MULTIPROC_DIR`` (the command sets it and empties
it at start) and ``/metrics`` sums them over the workers, whichever worker answers; any
other process (tests, ``runserver``) counts in its own registry. Every label takes a bounded
set of values: route templates, never raw paths, and only the HTTP methods named below.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
"""The environment variable that puts ``prometheus-client`` in multiprocess mode; it must be
set before the library is first imported (``marketing-op serve`` does)."""
CONTENT_TYPE = CONTENT_TYPE_LATEST
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

disable_created_metrics()

http_requests = Counter(
    "marketing_op_http_requests",
    "HTTP requests answered, by route template, method and status code.",
    ["endpoint", "method", "status"],
)
http_request_duration = Histogram(
    "marketing_op_http_request_duration_seconds",
    "Time from the request reaching the application to its answer, by route template.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
answer_cache_lookups = Counter(
    "marketing_op_answer_cache_lookups",
    "Data answers asked of the answer cache: hit_worker (the worker's own copy), hit_shared "
    "(the shared cache, Redis) or miss (computed).",
    ["result"],
)
worker_cache_bytes = Gauge(
    "marketing_op_worker_cache_bytes",
    "Bytes (estimated) of the copies of cached answers that a worker keeps, the largest over "
    "the workers; bounded by WORKER_CACHE_BYTES.",
    multiprocess_mode="max",
)
throttle_rejections = Counter(
    "marketing_op_throttle_rejections",
    "Requests refused with 429: rate_limit (a token's or user's requests a minute), "
    "token_exchanges (a user's exchanges an hour) or lockout (failed sign-ins).",
    ["reason"],
)
imports = Counter(
    "marketing_op_imports",
    "Imports of measurement files: accepted, rejected or replayed (Idempotency-Key).",
    ["result"],
)
import_rows = Counter(
    "marketing_op_import_rows",
    "Rows of the accepted imports.",
)
import_duration = Histogram(
    "marketing_op_import_duration_seconds",
    "Time an import took, by result.",
    ["result"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
database_reads = Counter(
    "marketing_op_database_reads",
    "Reads sent to each database, by alias (default: the primary; others: replicas).",
    ["database"],
)


def count_request(*, endpoint: str, method: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "other"
    http_requests.labels(endpoint, method, str(status)).inc()
    http_request_duration.labels(endpoint, method).observe(seconds)


def count_answer_cache(result: str) -> None:
    """``result``: ``hit_worker``, ``hit_shared`` or ``miss``."""
    answer_cache_lookups.labels(result).inc()


def count_throttle_rejection(reason: str) -> None:
    """``reason``: ``rate_limit``, ``token_exchanges`` or ``lockout``."""
    throttle_rejections.labels(reason).inc()


def count_import(*, result: str, rows: int, seconds: float) -> None:
    """``result``: ``accepted``, ``rejected`` or ``replayed``; ``rows`` of an accepted one."""
    imports.labels(result).inc()
    import_duration.labels(result).observe(seconds)
    if rows:
        import_rows.inc(rows)


def count_database_read(alias: str) -> None:
    """A read sent to the database ``alias`` (a key of ``settings.DATABASES``, so bounded),
    counted by the database router."""
    database_reads.labels(alias).inc()


def metrics_text() -> bytes:
    """Every metric in Prometheus' text format: summed over the server's worker processes
    in multiprocess mode, else this process's own."""
    if os.environ.get(MULTIPROCESS_DIRECTORY):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
