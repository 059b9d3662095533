"""Health of the service: answers without authentication and without details.

``200 {"status": "ok"}``: the database and the shared cache answer. ``200 {"status":
"degraded", "cache": "unreachable"}``: Redis does not answer; the service still answers
every request correctly without it (``core.shared_cache``), so a load balancer keeps the
instance, and monitoring sees the dependency. ``503 {"status": "unavailable"}``: the
database does not answer.

``/api/ready/``: ``200 {"status": "ready"}`` once the database answers and holds every
migration of this release, else ``503`` with what is missing (``core.readiness``).
"""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest
from ninja import Router, Schema, Status

from marketing_op.core.readiness import READY, service_readiness
from marketing_op.core.shared_cache import shared_cache_reachable

router = Router(tags=["health"])


class Health(Schema):
    status: str
    cache: str | None = None


@router.get(
    "/health/",
    auth=None,
    response={200: Health, 503: Health},
    exclude_none=True,
    summary="Whether the service and its dependencies answer",
)
def health(request: HttpRequest) -> Status:
    cache = None if shared_cache_reachable() else "unreachable"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return Status(503, {"status": "unavailable", "cache": cache})
    return Status(200, {"status": "degraded" if cache else "ok", "cache": cache})


class Readiness(Schema):
    status: str


@router.get(
    "/ready/",
    auth=None,
    response={200: Readiness, 503: Readiness},
    summary="Whether the service may be sent traffic: database reachable, migrations applied",
)
def ready(request: HttpRequest) -> Status:
    readiness = service_readiness()
    return Status(200 if readiness == READY else 503, {"status": readiness})
