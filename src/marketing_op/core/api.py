"""Health of the service: answers without authentication and without details."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest
from ninja import Router, Schema, Status

router = Router(tags=["health"])


class Health(Schema):
    status: str


@router.get(
    "/health/",
    auth=None,
    response={200: Health, 503: Health},
    summary="Whether the service and its database answer",
)
def health(request: HttpRequest) -> Status:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return Status(503, {"status": "unavailable"})
    return Status(200, {"status": "ok"})
