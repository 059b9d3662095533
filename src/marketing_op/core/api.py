"""Health of the service: answers without authentication and without details."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest
from ninja import Router, Schema

router = Router(tags=["health"])


class Health(Schema):
    status: str


@router.get("/health/", auth=None, response={200: Health, 503: Health},
            summary="Whether the service and its database answer")
def health(request: HttpRequest) -> tuple[int, dict]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return 503, {"status": "unavailable"}
    return 200, {"status": "ok"}
