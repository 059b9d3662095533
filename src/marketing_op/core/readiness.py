"""Whether this server should be sent traffic: its database answers and holds every migration
of this release. (``/api/health/`` says whether the process lives; a load balancer or an
orchestrator asks ``/api/ready/`` before it sends requests, so that a server of a new
release waits until the release's migrations are applied.)"""

from __future__ import annotations

import threading

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

READY = "ready"
DATABASE_UNREACHABLE = "database unreachable"
MIGRATIONS_PENDING = "migrations pending"

_migrated = threading.Event()
"""Set once this process has seen every migration of its code applied: the migrations on
disk do not change while it runs, so later answers only ask whether the database answers
(reading the migration graph costs some 20 ms, a ``SELECT 1`` well under one)."""


def service_readiness() -> str:
    """``READY``, ``DATABASE_UNREACHABLE`` or ``MIGRATIONS_PENDING``. A Redis that does not
    answer leaves the service ready: it answers correctly without it (``/api/health/`` says
    ``degraded``)."""
    try:
        if _migrated.is_set():
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return READY
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return DATABASE_UNREACHABLE
    if pending:
        return MIGRATIONS_PENDING
    _migrated.set()
    return READY


def forget_readiness() -> None:
    """Look at the migrations again on the next question (tests do, between databases)."""
    _migrated.clear()
